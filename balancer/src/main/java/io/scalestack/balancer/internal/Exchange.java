package io.scalestack.balancer.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client request on its way through the proxy: picks a backend, borrows a connection, streams
 * the request body to it as it arrives and the response back as it arrives, and retries on
 * another backend when that is safe, until a response (or an error response) went to the client.
 *
 * <p>Retry rules: a request that provably never reached a backend — the connect failed, no pooled
 * connection was free, or the connection closed before any byte of the request was written — is
 * retried whatever its method. A request whose connection died after it was written but before
 * any response byte is retried only when {@code retryIdempotent} is on, its method is idempotent
 * (RFC 9110 §9.2.2), and the {@link RetryBudget} allows. Nothing is retried once a response byte
 * arrived, after a response timeout, or when the body already sent is not kept: bodies up to
 * {@link #REPLAY_LIMIT_BYTES} are kept until the exchange ends, larger ones stream through and
 * make the request unretryable once they started going out. At most {@code retries} retries.
 *
 * <p>Backpressure: the client is read only while the backend connection is writable; the backend
 * is read only while the client connection is writable.
 *
 * <p>Confined to the client connection's event loop: backend callbacks hop onto it.
 */
final class Exchange {

  /** Request bodies up to this size are kept for a retry; larger ones are not retried once sent. */
  static final int REPLAY_LIMIT_BYTES = 64 * 1024;

  private static final Logger log = LoggerFactory.getLogger(Exchange.class);

  private final BalancerCore core;
  private final FrontendHandler frontend;
  private final EventLoop loop;
  private final HttpRequest head;
  private final RequestContext context;
  private final HttpMethod method;
  private final String uri;
  private final HttpVersion clientVersion;
  private final boolean idempotent;
  private final long startNanos = System.nanoTime();
  // the backends tried so far; no set is built unless a request is retried
  private Set<Backend> tried = Set.of();

  private boolean keepAlive;
  private boolean expectContinue;
  // the body so far, kept for a retry; null once it outgrew the limit
  private List<HttpContent> replay;
  private int replayBytes;
  // body pieces not yet handed to a backend connection (only while replay is null)
  private List<HttpContent> pending;
  private boolean bodyHandedOver;
  private boolean requestComplete;
  private Attempt attempt;
  private int attempts;
  private Backend staleBackend;
  private boolean responseStarted;
  private boolean done;
  private long bytesIn;
  private long bytesOut;

  /**
   * @param head the request head as it goes to backends (see {@link ProxyHeaders#toBackend})
   * @param expectContinue whether the client waits for {@code 100 Continue} before its body
   * @param bodyless whether the request has no body (it is complete with its head)
   */
  Exchange(BalancerCore core, FrontendHandler frontend, EventLoop loop, HttpRequest head, RequestContext context,
      HttpMethod method, HttpVersion clientVersion, boolean keepAlive, boolean expectContinue, boolean bodyless) {
    this.core = core;
    this.frontend = frontend;
    this.loop = loop;
    this.head = head;
    this.context = context;
    this.method = method;
    this.uri = head.uri();
    this.clientVersion = clientVersion;
    this.keepAlive = keepAlive;
    this.expectContinue = expectContinue;
    this.idempotent = isIdempotent(method);
    this.requestComplete = bodyless;
    this.replay = bodyless ? List.of() : new ArrayList<>(2);
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

  String uri() {
    return uri;
  }

  HttpVersion clientVersion() {
    return clientVersion;
  }

  boolean keepAlive() {
    return keepAlive;
  }

  long startNanos() {
    return startNanos;
  }

  /** Whether the response head went to the client. */
  boolean responseStartedToClient() {
    return responseStarted;
  }

  /** Whether the client's whole request (its last body piece) arrived. */
  boolean requestComplete() {
    return requestComplete;
  }

  /** Whether more of the client's body should be read now. */
  boolean wantsBody() {
    return !requestComplete && !done && attempt != null && attempt.handler != null && attempt.writable;
  }

  void start() {
    core.retryBudget().request();
    attempt();
  }

  /** The next piece of the client's body; ownership passes here. */
  void clientContent(HttpContent content) {
    boolean last = content instanceof LastHttpContent;
    if (last) {
      requestComplete = true;
    }
    if (done) {
      content.release();
      return;
    }
    bytesIn += content.content().readableBytes();
    HttpContent toSend = content;
    if (replay != null) {
      int n = content.content().readableBytes();
      if (replayBytes + n <= REPLAY_LIMIT_BYTES) {
        replay.add(content);
        replayBytes += n;
        toSend = content.retainedDuplicate();
      } else {
        releaseReplay();
      }
    }
    Attempt a = attempt;
    if (a != null && a.handler != null) {
      a.sent(toSend.content().readableBytes());
      a.handler.send(a, toSend, last);
    } else if (replay != null) {
      // kept in replay; sent when a connection is there
      toSend.release();
    } else {
      if (pending == null) {
        pending = new ArrayList<>(4);
      }
      pending.add(toSend);
    }
  }

  /** The client's bytes read so far were handed over: flush them to the backend. */
  void clientReadComplete() {
    Attempt a = attempt;
    if (a != null && a.handler != null) {
      a.handler.flush(a);
    }
  }

  /** The client connection's writability changed. */
  void clientWritabilityChanged(boolean writable) {
    Attempt a = attempt;
    if (a != null && a.handler != null && responseStarted && !done) {
      a.handler.readPaused(a, !writable);
    }
  }

  /** The client is gone or sent something unusable: stop, close the backend connection, answer nothing. */
  void abort(String reason) {
    if (done) {
      return;
    }
    log.debug("{} {} aborted: {}", method, uri, reason);
    Attempt a = attempt;
    attempt = null;
    if (a != null) {
      if (a.handler != null) {
        a.handler.abort(a);
      } else {
        a.abandoned = true;
      }
      a.end();
    }
    finish(a == null ? null : a.backend, 499);
  }

  private void attempt() {
    Backend backend = core.membership().select(tried, context);
    if (backend == null) {
      finishWithError(HttpResponseStatus.SERVICE_UNAVAILABLE, "no backend is available", null);
      return;
    }
    if (tried.isEmpty()) {
      tried = Set.of(backend);
    } else {
      // Backend keeps identity equality, so a HashSet is an identity set here
      Set<Backend> more = new HashSet<>(tried);
      more.add(backend);
      tried = more;
    }
    attempts++;
    backend.beginRequest();
    Attempt a = new Attempt(backend);
    attempt = a;
    // after a pooled connection turned out to be stale, the others of that backend likely are too
    boolean fresh = backend == staleBackend;
    Channel idle = fresh ? null : backend.pool().pollIdle(loop);
    if (idle != null) {
      acquired(a, new ConnectionPool.Lease(idle, true));
    } else {
      backend.pool().acquire(loop, fresh).addListener(f -> a.acquired(f));
    }
  }

  private boolean canRetry() {
    return attempts <= core.settings().retries() && (replay != null || !bodyHandedOver);
  }

  private void acquired(Attempt a, ConnectionPool.Lease lease) {
    if (done || a.abandoned) {
      a.backend.pool().release(lease.channel(), true);
      return;
    }
    a.reused = lease.reused();
    BackendHandler handler = BackendHandler.of(lease.channel());
    a.handler = handler;
    a.writable = lease.channel().isWritable();
    List<HttpContent> body;
    if (replay != null && replay.isEmpty()) {
      body = List.of();
    } else if (replay != null) {
      body = new ArrayList<>(replay.size());
      for (HttpContent c : replay) {
        body.add(c.retainedDuplicate());
        a.sent(c.content().readableBytes());
      }
    } else if (pending != null) {
      body = pending;
      pending = null;
      for (HttpContent c : body) {
        a.sent(c.content().readableBytes());
      }
    } else {
      body = List.of();
    }
    bodyHandedOver = true;
    // the head is not reference-counted and the encoder does not change it: each attempt writes it as is
    handler.start(a, head, body, requestComplete, core.settings().responseTimeout());
    if (expectContinue && !requestComplete) {
      // RFC 9110 §10.1.1: the connection is there, so let the client send its body
      expectContinue = false;
      frontend.sendContinue();
    }
    frontend.updateReading();
  }

  private void acquireFailed(Attempt a, Throwable cause) {
    a.end();
    if (done || a.abandoned) {
      return;
    }
    String reason;
    if (cause instanceof PoolUnavailableException) {
      reason = "no-connection";
      log.debug("{} {}: {}", method, uri, cause.getMessage());
    } else {
      reason = "connect-failure";
      core.eject(a.backend, cause);
    }
    if (canRetry()) {
      core.metrics().retry(reason);
      attempt();
    } else {
      finishWithError(HttpResponseStatus.SERVICE_UNAVAILABLE, "no backend is available", a.backend);
    }
  }

  private void failed(Attempt a, Throwable cause, boolean requestStarted, boolean responseByte) {
    a.end();
    if (requestStarted) {
      // The backend had the request and failed it: an error for outlier detection. A pooled
      // connection found closed before anything was written says nothing about the backend's health.
      core.membership().onAttemptFailure(a.backend);
    }
    if (done || attempt != a) {
      return;
    }
    attempt = null;
    if (responseStarted) {
      // part of the response went out: the client must see the failure as a broken connection
      log.warn("{} {} to {} failed while relaying the response: {}", method, uri, a.backend, cause.toString());
      finish(a.backend, 502);
      frontend.abortResponse();
      return;
    }
    boolean neverReached = !requestStarted;
    boolean safe = !responseByte && canRetry()
        && (neverReached || (core.settings().retryIdempotent() && idempotent && budgetAllows()));
    if (safe) {
      if (a.reused) {
        staleBackend = a.backend;
      }
      core.metrics().retry(neverReached ? "send-failure" : "empty-response");
      log.debug("{} {} to {} failed ({}), retrying", method, uri, a.backend, cause.toString());
      attempt();
      return;
    }
    log.warn("{} {} to {} failed: {} (request sent: {}, response started: {})",
        method, uri, a.backend, cause.toString(), requestStarted, responseByte);
    finishWithError(HttpResponseStatus.BAD_GATEWAY,
        responseByte ? "the backend failed while answering" : "the backend closed the connection before answering",
        a.backend);
  }

  private boolean budgetAllows() {
    if (core.retryBudget().tryRetry()) {
      return true;
    }
    core.metrics().retryBudgetExhausted();
    return false;
  }

  private void timedOut(Attempt a) {
    a.end();
    core.membership().onAttemptFailure(a.backend);
    if (done || attempt != a) {
      return;
    }
    attempt = null;
    long millis = core.settings().responseTimeout().toMillis();
    log.warn("{} {} to {}: no response within {} ms", method, uri, a.backend, millis);
    finishWithError(HttpResponseStatus.GATEWAY_TIMEOUT, "the backend did not answer within " + millis + " ms",
        a.backend);
  }

  private void responseHead(Attempt a, HttpResponse response) {
    if (done || attempt != a) {
      response.headers().clear();
      return;
    }
    long now = System.nanoTime();
    a.backend.responseTime().record(now - a.startNanos, now);
    responseStarted = true;
    a.status = response.status().code();
    if (!requestComplete) {
      // an early response: the rest of the body will not go anywhere, so the connection closes after it
      keepAlive = false;
    }
    core.membership().onResponse(context, a.backend, response);
    frontend.responseHead(this, response);
  }

  private void responseContent(Attempt a, HttpContent content) {
    if (done || attempt != a) {
      content.release();
      return;
    }
    int n = content.content().readableBytes();
    a.received(n);
    bytesOut += n;
    if (content instanceof LastHttpContent) {
      a.end();
      attempt = null;
      finish(a.backend, a.status);
      frontend.responseContent(this, content, true);
      return;
    }
    frontend.responseContent(this, content, false);
    if (!frontend.clientWritable()) {
      a.handler.readPaused(a, true);
    }
  }

  private void upgraded(Attempt a, HttpResponse response) {
    if (done || attempt != a) {
      a.handler.channel().close();
      return;
    }
    long now = System.nanoTime();
    a.backend.responseTime().record(now - a.startNanos, now);
    responseStarted = true;
    a.end();
    attempt = null;
    finish(a.backend, 101);
    core.membership().onResponse(context, a.backend, response);
    frontend.upgrade(response, a.handler);
  }

  private void finishWithError(HttpResponseStatus status, String message, Backend backend) {
    finish(backend, status.code());
    frontend.respondError(this, status, message);
  }

  private void finish(Backend backend, int status) {
    done = true;
    releaseReplay();
    if (pending != null) {
      pending.forEach(HttpContent::release);
      pending = null;
    }
    long nanos = System.nanoTime() - startNanos;
    String name = backend == null ? "none" : backend.name();
    core.metrics().request(name, status, nanos);
    if (AccessLog.enabled()) {
      AccessLog.log(context.client(), method, uri, frontend.protocol(clientVersion), status, name, bytesIn, bytesOut,
          nanos);
    }
  }

  private void releaseReplay() {
    if (replay != null) {
      replay.forEach(HttpContent::release);
      replay = null;
    }
  }

  /** One try on one backend; its callbacks arrive on the backend connection's loop. */
  private final class Attempt implements BackendHandler.Listener {
    final Backend backend;
    final long startNanos = System.nanoTime();
    BackendHandler handler; // set on the client loop once a connection is lent
    boolean reused;
    boolean writable = true;
    boolean abandoned;
    boolean ended;
    int status;
    long bytes;

    Attempt(Backend backend) {
      this.backend = backend;
    }

    void sent(long n) {
      bytes += n;
      backend.addBytesInFlight(n);
    }

    void received(long n) {
      bytes += n;
      backend.addBytesInFlight(n);
    }

    /** This attempt is over, whatever its outcome; the first call counts. */
    void end() {
      if (!ended) {
        ended = true;
        backend.addBytesInFlight(-bytes);
        backend.endRequest();
      }
    }

    void acquired(Future<? super ConnectionPool.Lease> future) {
      if (future.isSuccess()) {
        Exchange.this.acquired(this, (ConnectionPool.Lease) future.getNow());
      } else {
        acquireFailed(this, future.cause());
      }
    }

    @Override
    public void onResponseHead(HttpResponse head) {
      if (loop.inEventLoop()) {
        responseHead(this, head);
      } else {
        onLoop(() -> responseHead(this, head), null);
      }
    }

    @Override
    public void onResponseContent(HttpContent content) {
      if (loop.inEventLoop()) {
        responseContent(this, content);
      } else {
        onLoop(() -> responseContent(this, content), content);
      }
    }

    @Override
    public void onReadComplete() {
      if (loop.inEventLoop()) {
        frontend.flush();
      } else {
        onLoop(frontend::flush, null);
      }
    }

    @Override
    public void onFailure(Throwable cause, boolean requestStarted, boolean responseStarted) {
      onLoop(() -> failed(this, cause, requestStarted, responseStarted), null);
    }

    @Override
    public void onTimeout() {
      onLoop(() -> timedOut(this), null);
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
      onLoop(() -> {
        this.writable = writable;
        if (attempt == this) {
          frontend.updateReading();
        }
      }, null);
    }

    @Override
    public void onUpgrade(HttpResponse head) {
      onLoop(() -> upgraded(this, head), null);
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
        log.debug("dropping the outcome of {} {}: {}", method, uri, e.toString());
      }
    }
  }
}
