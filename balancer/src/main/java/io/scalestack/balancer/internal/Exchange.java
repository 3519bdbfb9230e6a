package io.scalestack.balancer.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request on its way through the proxy: picks a backend, borrows a connection, sends
 * the request, and retries on another backend when that is safe, until a response (or an error
 * response) goes back to the client.
 *
 * <p>Retry rules (HAProxy's {@code retry-on conn-failure empty-response}, RFC 9110 §9.2.2): a
 * request that never reached a backend — connect failed, no pooled connection, write failed — is
 * retried whatever its method; a request that was sent but got no response byte before the
 * connection failed is retried only if its method is idempotent; nothing is retried once a
 * response byte arrived or after a response timeout. At most {@code retries} retries. A connect
 * failure ejects the backend.
 *
 * <p>Confined to the client connection's event loop: backend callbacks hop onto it.
 */
final class Exchange {

  private static final Logger log = LoggerFactory.getLogger(Exchange.class);

  private final BalancerCore core;
  private final FrontendHandler frontend;
  private final EventLoop loop;
  private final FullHttpRequest request;
  private final RequestContext context;
  private final HttpMethod method;
  private final HttpVersion clientVersion;
  private final boolean keepAlive;
  private final boolean idempotent;
  private final long startNanos = System.nanoTime();
  private final Set<Backend> tried = Collections.newSetFromMap(new IdentityHashMap<>());

  private int attempts;
  private Backend staleBackend;
  private boolean done;

  /**
   * @param request the request as it goes to backends (see {@link ProxyHeaders#toBackend}); owned
   *     by the exchange from here on
   */
  Exchange(BalancerCore core, FrontendHandler frontend, EventLoop loop, FullHttpRequest request,
      RequestContext context, HttpMethod method, HttpVersion clientVersion, boolean keepAlive) {
    this.core = core;
    this.frontend = frontend;
    this.loop = loop;
    this.request = request;
    this.context = context;
    this.method = method;
    this.clientVersion = clientVersion;
    this.keepAlive = keepAlive;
    this.idempotent = isIdempotent(method);
  }

  /** RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT and DELETE are idempotent. */
  static boolean isIdempotent(HttpMethod method) {
    return HttpMethod.GET.equals(method)
        || HttpMethod.HEAD.equals(method)
        || HttpMethod.OPTIONS.equals(method)
        || HttpMethod.TRACE.equals(method)
        || HttpMethod.PUT.equals(method)
        || HttpMethod.DELETE.equals(method);
  }

  HttpMethod method() {
    return method;
  }

  HttpVersion clientVersion() {
    return clientVersion;
  }

  boolean keepAlive() {
    return keepAlive;
  }

  void start() {
    attempt();
  }

  private void attempt() {
    Backend backend = core.membership().select(tried, context);
    if (backend == null) {
      finishWithError(HttpResponseStatus.SERVICE_UNAVAILABLE, "no backend is available", null);
      return;
    }
    tried.add(backend);
    attempts++;
    backend.beginRequest();
    Attempt attempt = new Attempt(backend);
    // after a pooled connection turned out to be stale, the others of that backend likely are too
    boolean fresh = backend == staleBackend;
    backend.pool().acquire(loop, fresh).addListener(attempt::acquired);
  }

  private boolean canRetry() {
    return attempts <= core.settings().retries();
  }

  private void acquireFailed(Attempt attempt, Throwable cause) {
    attempt.end();
    String reason;
    if (cause instanceof PoolUnavailableException) {
      reason = "no-connection";
      log.debug("{} {}: {}", method, request.uri(), cause.getMessage());
    } else {
      reason = "connect-failure";
      core.eject(attempt.backend, cause);
    }
    if (canRetry()) {
      core.metrics().retry(reason);
      attempt();
    } else {
      finishWithError(HttpResponseStatus.SERVICE_UNAVAILABLE, "no backend is available", attempt.backend);
    }
  }

  private void failed(Attempt attempt, Throwable cause, boolean requestSent, boolean responseStarted) {
    attempt.end();
    boolean safe = !responseStarted && (!requestSent || idempotent);
    if (safe && canRetry()) {
      if (attempt.reused) {
        staleBackend = attempt.backend;
      }
      core.metrics().retry(requestSent ? "empty-response" : "send-failure");
      log.debug("{} {} to {} failed ({}), retrying", method, request.uri(), attempt.backend, cause.toString());
      attempt();
      return;
    }
    log.warn("{} {} to {} failed: {} (request sent: {}, response started: {}, retry allowed: {})",
        method, request.uri(), attempt.backend, cause.toString(), requestSent, responseStarted, safe);
    finishWithError(HttpResponseStatus.BAD_GATEWAY,
        responseStarted ? "the backend failed while answering" : "the backend closed the connection before answering",
        attempt.backend);
  }

  private void timedOut(Attempt attempt) {
    attempt.end();
    long millis = core.settings().responseTimeout().toMillis();
    log.warn("{} {} to {}: no response within {} ms", method, request.uri(), attempt.backend, millis);
    finishWithError(HttpResponseStatus.GATEWAY_TIMEOUT, "the backend did not answer within " + millis + " ms",
        attempt.backend);
  }

  private void responded(Attempt attempt, FullHttpResponse response) {
    long now = System.nanoTime();
    attempt.backend.responseTime().record(now - attempt.startNanos, now);
    attempt.end();
    core.membership().onResponse(context, attempt.backend, response);
    complete(response, attempt.backend);
  }

  private void finishWithError(HttpResponseStatus status, String message, Backend backend) {
    complete(Json.error(status, message), backend);
  }

  private void complete(FullHttpResponse response, Backend backend) {
    if (done) {
      // cannot happen: one attempt at a time, each reports once
      response.release();
      return;
    }
    done = true;
    request.release();
    core.metrics().request(backend == null ? "none" : backend.name(), response.status().code(),
        System.nanoTime() - startNanos);
    frontend.respond(this, response);
  }

  private void onLoop(Runnable task, Object toReleaseIfRejected) {
    if (loop.inEventLoop()) {
      task.run();
      return;
    }
    try {
      loop.execute(task);
    } catch (RejectedExecutionException e) {
      // the balancer is shutting down and the client's loop is gone: nobody is left to answer
      ReferenceCountUtil.release(toReleaseIfRejected);
      log.debug("dropping the outcome of {} {}: {}", method, request.uri(), e.toString());
    }
  }

  /** One try on one backend; its callbacks arrive on the backend connection's loop. */
  private final class Attempt implements BackendHandler.Listener {
    final Backend backend;
    final long startNanos = System.nanoTime();
    final long requestBytes;
    boolean reused;

    Attempt(Backend backend) {
      this.backend = backend;
      this.requestBytes = request.content().readableBytes();
      backend.addBytesInFlight(requestBytes);
    }

    /** This attempt is over, whatever its outcome; exactly once. */
    void end() {
      backend.addBytesInFlight(-requestBytes);
      backend.endRequest();
    }

    void acquired(Future<? super ConnectionPool.Lease> future) {
      if (!future.isSuccess()) {
        acquireFailed(this, future.cause());
        return;
      }
      ConnectionPool.Lease lease = (ConnectionPool.Lease) future.getNow();
      reused = lease.reused();
      Channel channel = lease.channel();
      FullHttpRequest copy = request.retainedDuplicate();
      try {
        channel.eventLoop().execute(
            () -> BackendHandler.of(channel).send(copy, this, core.settings().responseTimeout()));
      } catch (RejectedExecutionException e) {
        copy.release();
        channel.close();
        failed(this, e, false, false);
      }
    }

    @Override
    public void onResponse(FullHttpResponse response) {
      onLoop(() -> responded(this, response), response);
    }

    @Override
    public void onFailure(Throwable cause, boolean requestSent, boolean responseStarted) {
      onLoop(() -> failed(this, cause, requestSent, responseStarted), null);
    }

    @Override
    public void onTimeout() {
      onLoop(() -> timedOut(this), null);
    }
  }
}
