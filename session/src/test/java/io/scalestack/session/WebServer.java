package io.scalestack.session;

import jakarta.servlet.DispatcherType;
import java.net.URI;
import java.util.EnumSet;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.ForwardedRequestCustomizer;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.VirtualThreads;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.server.ServerConnector;

/** A real Jetty on 127.0.0.1, port 0, with container sessions off, running {@link TestApp} behind a {@link SessionFilter}. */
final class WebServer implements AutoCloseable {

  private final Server server;
  private final ServerConnector connector;

  private WebServer(SessionFilter filter) throws Exception {
    // a virtual thread per request, as in the app: a test may hold a thousand requests at a barrier
    QueuedThreadPool threads = new QueuedThreadPool();
    threads.setVirtualThreadsExecutor(VirtualThreads.getNamedVirtualThreadsExecutor("test-vt-"));
    server = new Server(threads);
    // as behind the balancer: X-Forwarded-Proto: https makes request.isSecure() true
    HttpConfiguration http = new HttpConfiguration();
    http.addCustomizer(new ForwardedRequestCustomizer());
    connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(0);
    server.addConnector(connector);
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addFilter(new FilterHolder(filter), "/*", EnumSet.of(DispatcherType.REQUEST));
    context.addServlet(new ServletHolder(new TestApp()), "/*");
    server.setHandler(context);
    server.start();
  }

  static WebServer start(SessionFilter filter) throws Exception {
    return new WebServer(filter);
  }

  URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + connector.getLocalPort() + pathAndQuery);
  }

  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop Jetty", e);
    }
  }
}
