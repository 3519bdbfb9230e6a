package io.scalestack.app.internal;

import java.net.InetSocketAddress;
import java.time.Duration;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.VirtualThreads;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Builds the Jetty server of a member: one HTTP/1.1 connector, JSON error pages, the
 * {@code X-Served-By} stamp, graceful stop, and application code on virtual threads.
 *
 * <p>Threading: Jetty's selectors and acceptors run on a few platform threads of a
 * {@link QueuedThreadPool}; every task Jetty marks as blocking, which includes all servlet
 * handling, runs on a virtual thread of its own named {@code <member>-vt-<n>}. That is where JDBC
 * and Redis calls block, so no platform-thread pool is ever parked on I/O.
 *
 * <p>Stateless.
 */
public final class JettyServers {

  private JettyServers() {}

  /** A server, not yet started, serving {@code handler} on {@code listen}. */
  public static Server create(String member, InetSocketAddress listen, Duration stopTimeout, Handler handler) {
    QueuedThreadPool threads = new QueuedThreadPool();
    threads.setName(member + "-jetty");
    threads.setVirtualThreadsExecutor(VirtualThreads.getNamedVirtualThreadsExecutor(member + "-vt-"));
    Server server = new Server(threads);
    server.setStopTimeout(stopTimeout.toMillis());
    server.setErrorHandler(JsonErrorHandlers.core());
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendXPoweredBy(false);
    // Web servers sit behind the balancer, which sets X-Forwarded-For/-Proto on every request (a
    // client's own values are overwritten there): the scheme it reports makes request.isSecure()
    // true behind TLS, and the session cookie Secure
    http.addCustomizer(new ForwardedRequestCustomizer());
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost(listen.getAddress().getHostAddress());
    connector.setPort(listen.getPort());
    server.addConnector(connector);
    // GracefulHandler lets stop() wait for requests in flight and turns new ones away with 503.
    server.setHandler(new ServedByHandler(member, new GracefulHandler(handler)));
    return server;
  }

  /** The port the server's connector is bound to (the actual one when 0 was asked for). */
  public static int localPort(Server server) {
    return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
  }
}
