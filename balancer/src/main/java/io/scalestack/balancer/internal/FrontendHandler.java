package io.scalestack.balancer.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a client connection: turns each request into an {@link Exchange}, one at a
 * time, streams its body to the exchange and the response back, in request order.
 *
 * <p>Reading: while a request body streams, the client is read only as fast as the backend takes
 * it ({@link Exchange#wantsBody()}); once a request is complete, reading pauses until its response
 * went out, so that pipelined requests wait in the socket (the few already decoded wait in a small
 * queue). Client keep-alive is honoured (RFC 9112 §9.3). A client that half-closes after its
 * request still gets its response, then the connection closes. After a malformed or rejected
 * request the error response carries {@code Connection: close} and the connection closes, after a
 * short lingering close that lets the client read the response (RFC 9112 §9.6).
 *
 * <p>Timeouts: a request head must arrive within the request-header timeout once it started (408,
 * against slowloris); an idle keep-alive connection closes after the client idle timeout, as does
 * one whose request body stalls that long.
 *
 * <p>HTTP/2: the same handler ends each stream's channel (see {@link ClientInitializer}), with no
 * decoder or encoder of its own. A stream carries one request, so what is about an HTTP/1.1
 * connection — keep-alive, pipelining, half-close, the lingering close, the request-header timeout
 * (the HEADERS frame arrives whole) — does not apply; closing the stream channel resets the stream
 * if it is still open.
 *
 * <p>Confined to the connection's (or stream's) event loop.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {

  /** User event: the balancer is shutting down; close once idle. */
  static final Object SHUTDOWN = new Object();

  private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);
  private static final int MAX_QUEUED_REQUESTS = 16;
  private static final long LINGER_MILLIS = 1000;

  private final BalancerCore core;
  private final StrictRequestDecoder decoder;
  private final ResponseEncoder encoder;
  // an HTTP/2 stream rather than an HTTP/1.1 connection
  private final boolean stream;
  private final boolean tls;
  private final ArrayDeque<Object> queued = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private Exchange current;
  private int queuedRequests;
  private boolean closeAfterResponse;
  private boolean inputShutdown;
  private boolean closed;
  private ScheduledFuture<?> headTimer;

  /**
   * @param decoder the connection's request decoder, or null on an HTTP/2 stream
   * @param encoder the connection's response encoder, or null on an HTTP/2 stream
   * @param tls whether the client connection is TLS ({@code X-Forwarded-Proto: https})
   */
  FrontendHandler(BalancerCore core, StrictRequestDecoder decoder, ResponseEncoder encoder, boolean tls) {
    this.core = core;
    this.decoder = decoder;
    this.encoder = encoder;
    this.stream = decoder == null;
    this.tls = tls;
  }

  /** The client's protocol, for the access log. */
  String protocol(HttpVersion clientVersion) {
    return stream ? "HTTP/2.0" : clientVersion.text();
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    armHeadTimer();
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (msg instanceof HttpRequest && ++queuedRequests > MAX_QUEUED_REQUESTS) {
      ReferenceCountUtil.release(msg);
      log.debug("closing {}: more than {} pipelined requests", ctx.channel().remoteAddress(), MAX_QUEUED_REQUESTS);
      ctx.close();
      return;
    }
    if (current != null && !current.requestComplete() && queued.isEmpty()) {
      deliver(msg);
    } else {
      queued.add(msg);
      pump();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (current != null) {
      current.clientReadComplete();
    }
    if (!stream && decoder.headStartNanos() != 0) {
      armHeadTimer();
    }
    ctx.fireChannelReadComplete();
  }

  // hands queued messages on while no complete request waits for its response
  private void pump() {
    Object msg;
    while (!closed && (current == null || !current.requestComplete()) && (msg = queued.poll()) != null) {
      if (current == null) {
        start(msg);
      } else {
        deliver(msg);
      }
    }
    if (current != null) {
      // pieces handed on outside a read from the socket: no read-complete will flush them
      current.clientReadComplete();
    }
    updateReading();
  }

  // a message that belongs to the request now streaming
  private void deliver(Object msg) {
    if (msg instanceof HttpContent content) {
      current.clientContent(content);
      return;
    }
    ReferenceCountUtil.release(msg);
    if (msg instanceof Rejection rejection) {
      // the body turned out malformed (or too large) half-way: the backend gets no more of it
      Exchange exchange = current;
      exchange.abort(rejection.message());
      if (exchange.responseStartedToClient()) {
        ctx.close();
      } else {
        respondError(exchange, rejection.status(), rejection.message());
      }
    }
  }

  private void start(Object msg) {
    if (msg instanceof HttpRequest request) {
      queuedRequests--;
      if (closeAfterResponse) {
        return;
      }
      handle(request);
    } else if (msg instanceof Rejection rejection) {
      if (!closeAfterResponse) {
        respondError(null, rejection.status(), rejection.message());
      }
    } else {
      // the rest of a request answered already (or a stray piece): nothing to do with it
      ReferenceCountUtil.release(msg);
    }
  }

  private void handle(HttpRequest request) {
    int hosts = request.headers().getAll(HttpHeaderNames.HOST).size();
    if (hosts > 1 || (hosts == 0 && !stream && request.protocolVersion().equals(HttpVersion.HTTP_1_1))) {
      // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request; an HTTP/2 request may carry no
      // authority at all (RFC 9113 §8.3.1), and then goes on with the listener's address as Host
      respondError(null, HttpResponseStatus.BAD_REQUEST,
          "malformed request: " + hosts + " Host header fields (expected: exactly 1)");
      return;
    }
    HttpMethod method = request.method();
    if (HttpMethod.CONNECT.equals(method)) {
      respondError(null, HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported: this is a reverse proxy");
      return;
    }
    boolean expectContinue = false;
    String expect = request.headers().get(HttpHeaderNames.EXPECT);
    if (expect != null && request.protocolVersion().equals(HttpVersion.HTTP_1_1)) {
      // RFC 9110 §10.1.1: 100-continue is the only expectation defined
      if (!HttpHeaderValues.CONTINUE.contentEqualsIgnoreCase(expect.strip())) {
        respondError(null, HttpResponseStatus.EXPECTATION_FAILED, "expectation '" + expect + "' is not supported");
        return;
      }
      expectContinue = !(request instanceof FullHttpRequest);
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request) && !core.closing();
    HttpVersion clientVersion = request.protocolVersion();
    // the client: the source of a PROXY protocol header when the listener takes one, else the peer
    InetSocketAddress client = ProxyProtocolReceiver.clientAddress(ctx.channel());
    RequestContext context = new RequestContext(client, request);
    if (stream) {
      ProxyHeaders.removeHttp2Extensions(request.headers());
    }
    HttpRequest outbound = ProxyHeaders.toBackend(request, client, ctx.channel().localAddress(), tls, stream);
    current = new Exchange(core, this, ctx.channel().eventLoop(), outbound, context, method, clientVersion,
        keepAlive, expectContinue, request instanceof FullHttpRequest);
    core.exchangeStarted();
    current.start();
  }

  /** Reads from the client when there is somewhere for the bytes to go. */
  void updateReading() {
    if (closed) {
      return;
    }
    // While a complete request waits for its response, keep reading: a keep-alive client sends
    // nothing meanwhile, and turning autoRead off and on around every request cost two epoll_ctl
    // calls per request (benchmarks/lb). Reading stops once something is queued (a pipelining
    // client), so at most one read's worth waits here; a body still streaming reads only while
    // the backend can take it (backpressure).
    boolean read = current == null || current.requestComplete() ? queued.isEmpty() : current.wantsBody();
    ctx.channel().config().setAutoRead(read);
  }

  boolean clientWritable() {
    return ctx.channel().isWritable();
  }

  void flush() {
    DeferredFlush.flush(ctx.channel());
  }

  /** RFC 9110 §15.2.1: tells a client that waits with its body that it may send it. */
  void sendContinue() {
    ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE), ctx.voidPromise());
  }

  /** The response head of {@code exchange}, the current one. */
  void responseHead(Exchange exchange, HttpResponse response) {
    boolean keepAlive = exchange.keepAlive() && !closeAfterResponse && !core.closing()
        && !(inputShutdown && queued.isEmpty());
    keepAlive = ProxyHeaders.toClient(response, keepAlive, exchange.clientVersion(), exchange.method());
    if (!keepAlive) {
      closeAfterResponse = true;
    }
    headRequest(HttpMethod.HEAD.equals(exchange.method()));
    ctx.write(response, ctx.voidPromise());
  }

  /** A piece of the response to the current exchange; {@code last} ends it. */
  void responseContent(Exchange exchange, HttpContent content, boolean last) {
    if (!last) {
      ctx.write(content, ctx.voidPromise());
      return;
    }
    ctx.write(content).addListener((ChannelFutureListener) f -> responded(exchange, f.isSuccess()));
    DeferredFlush.flush(ctx.channel());
  }

  /**
   * The backend switched protocols: the 101 goes to the client, then both connections become one
   * tunnel of raw bytes (the HTTP handlers leave both pipelines) until either side closes.
   */
  void upgrade(HttpResponse response, BackendHandler backend) {
    Exchange exchange = current;
    endExchange(exchange);
    closed = true;
    if (headTimer != null) {
      headTimer.cancel(false);
    }
    ProxyHeaders.toClientUpgrade(response);
    encoder.headRequest(false);
    ctx.channel().config().setAutoRead(false);
    // encoded at once, on this loop; the encoder can go right after
    ctx.writeAndFlush(response, ctx.voidPromise());
    var pipeline = ctx.pipeline();
    pipeline.remove(encoder);
    pipeline.remove("idle");
    Channel client = ctx.channel();
    // the backend side first, so that nothing the client sends meets its HTTP codec
    backend.splice(client, () -> {
      pipeline.replace(this, "splice", new Splice(backend.channel(), core.settings().clientIdleTimeout()));
      // the decoder hands on, raw, whatever the client sent after its upgrade request
      pipeline.remove(decoder);
      client.flush();
      client.config().setAutoRead(true);
    });
  }

  /** The response broke off after its head went out: the client can only learn it from a closed connection. */
  void abortResponse() {
    Exchange exchange = current;
    endExchange(exchange);
    log.debug("closing {}: the response to {} {} broke off", ctx.channel().remoteAddress(),
        exchange == null ? "?" : exchange.method(), exchange == null ? "?" : exchange.uri());
    ctx.close();
  }

  /** An error response, for {@code exchange} or (when null) for a request refused before it became one. */
  void respondError(Exchange exchange, HttpResponseStatus status, String message) {
    if (exchange == null) {
      core.metrics().request("none", status.code(), 0);
      if (AccessLog.enabled()) {
        AccessLog.log(ProxyProtocolReceiver.clientAddress(ctx.channel()), "-", "-",
            stream ? "HTTP/2.0" : "-", status.code(), "none", 0, 0, 0);
      }
    }
    FullHttpResponse response = Json.error(status, message);
    boolean keepAlive = exchange != null && exchange.keepAlive() && exchange.requestComplete()
        && status.code() != 400 && status.code() != 413 && !closeAfterResponse && !core.closing()
        && !(inputShutdown && queued.isEmpty());
    ProxyHeaders.setConnection(response.headers(), keepAlive, exchange == null ? HttpVersion.HTTP_1_1 : exchange.clientVersion());
    if (!keepAlive) {
      closeAfterResponse = true;
    }
    // an error answering a HEAD request keeps its Content-Length but sends no body
    headRequest(exchange != null && HttpMethod.HEAD.equals(exchange.method()));
    if (exchange == null) {
      // a refused request: nothing more is read
      current = null;
      ctx.channel().config().setAutoRead(false);
      ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> afterResponse(f.isSuccess()));
      return;
    }
    ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> responded(exchange, f.isSuccess()));
  }

  // on HTTP/2 the stream codec frames a HEAD response by itself
  private void headRequest(boolean head) {
    if (encoder != null) {
      encoder.headRequest(head);
    }
  }

  private void responded(Exchange exchange, boolean success) {
    endExchange(exchange);
    afterResponse(success);
  }

  // the exchange counts as in flight (for a graceful close) until its response is written or dropped
  private void endExchange(Exchange exchange) {
    if (exchange != null && current == exchange) {
      current = null;
      core.exchangeFinished();
    }
  }

  private void afterResponse(boolean success) {
    if (!success) {
      ctx.close();
    } else if (closeAfterResponse) {
      lingeringClose();
    } else if (inputShutdown && queued.isEmpty()) {
      ctx.close();
    } else if (stream) {
      pump();
    } else {
      if (decoder.resumeAfterRefusedUpgrade()) {
        // the bytes after a refused upgrade request are HTTP after all: parse what is buffered
        ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
      }
      decoder.restartHeadClock();
      if (decoder.headStartNanos() != 0) {
        armHeadTimer();
      }
      pump();
    }
  }

  // half-close, keep reading (and discarding) for a moment, then close: a client still sending
  // its body reads our response instead of a reset (RFC 9112 §9.6)
  private void lingeringClose() {
    closed = true;
    discardQueued();
    if (stream) {
      if (ctx.channel() instanceof Http2StreamChannel ch && ch.stream().state() == Http2Stream.State.HALF_CLOSED_LOCAL) {
        // the response is complete but the request is not: RFC 9113 §8.1, RST_STREAM with NO_ERROR
        // asks the client to stop sending without error (closing alone would reset with CANCEL,
        // for which a client may discard the response)
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.NO_ERROR), ctx.voidPromise());
      }
      ctx.close();
      return;
    }
    if (ctx.channel() instanceof SocketChannel socket && socket.isActive() && !inputShutdown) {
      socket.shutdownOutput();
      socket.config().setAutoRead(true);
      ctx.executor().schedule(() -> socket.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    } else {
      ctx.close();
    }
  }

  // ---- request-header timeout: one timer per connection, re-armed only while a head is arriving

  private void armHeadTimer() {
    if (stream) {
      return;
    }
    if (headTimer == null || headTimer.isDone()) {
      long timeout = core.settings().requestHeaderTimeout().toNanos();
      headTimer = ctx.executor().schedule(this::checkHeadTimeout, timeout, TimeUnit.NANOSECONDS);
    }
  }

  private void checkHeadTimeout() {
    long started = decoder.headStartNanos();
    // no head arriving, or one queued behind a response (its clock restarts when reading resumes)
    if (closed || started == 0 || current != null || !queued.isEmpty()) {
      return;
    }
    long left = started + core.settings().requestHeaderTimeout().toNanos() - System.nanoTime();
    if (left > 0) {
      headTimer = ctx.executor().schedule(this::checkHeadTimeout, left, TimeUnit.NANOSECONDS);
      return;
    }
    timeoutHead();
  }

  private void timeoutHead() {
    log.debug("closing {}: no complete request head within {}", ctx.channel().remoteAddress(),
        core.settings().requestHeaderTimeout());
    respondError(null, HttpResponseStatus.REQUEST_TIMEOUT, "no complete request head within "
        + core.settings().requestHeaderTimeout().toMillis() + " ms");
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      if (current == null && queued.isEmpty()) {
        ctx.close();
      } else if (current != null && !current.requestComplete() && (stream || decoder.inBody())) {
        // the client stopped sending its body
        current.abort("request body stalled");
        ctx.close();
      }
      // otherwise a response is pending and reading is paused on purpose
      return;
    }
    if (evt instanceof ChannelInputShutdownEvent) {
      // RFC 9112 §9.6: a half-closed client still gets the responses to the requests it sent
      inputShutdown = true;
      if (current == null && queued.isEmpty()) {
        ctx.close();
      }
      return;
    }
    if (evt == SHUTDOWN) {
      if (current == null && queued.isEmpty()) {
        ctx.close();
      } else {
        closeAfterResponse = true;
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (current != null) {
      current.clientWritabilityChanged(ctx.channel().isWritable());
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    closed = true;
    if (headTimer != null) {
      headTimer.cancel(false);
    }
    discardQueued();
    Exchange exchange = current;
    if (exchange != null) {
      exchange.abort("the client closed the connection");
      endExchange(exchange);
    }
    super.channelInactive(ctx);
  }

  private void discardQueued() {
    Object msg;
    while ((msg = queued.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing client {} {}: {}", stream ? "stream of" : "connection", ctx.channel().remoteAddress(),
        cause.toString());
    if (stream && cause instanceof Http2Exception error && ctx.channel().isActive()) {
      // a stream error (RFC 9113 §5.4.2, e.g. DATA that does not add up to Content-Length, §8.1.1):
      // reset with its code; closing alone would reset with CANCEL
      ctx.writeAndFlush(new DefaultHttp2ResetFrame(error.error()));
    }
    ctx.close();
  }

  /**
   * Netty's response encoder, told whether the response answers a HEAD request, so that a HEAD
   * response keeps its framing fields but never gets body bytes (not even a last chunk).
   */
  static final class ResponseEncoder extends HttpResponseEncoder {
    private boolean headRequest;

    void headRequest(boolean headRequest) {
      this.headRequest = headRequest;
    }

    @Override
    protected boolean isContentAlwaysEmpty(HttpResponse msg) {
      return headRequest || super.isContentAlwaysEmpty(msg);
    }
  }

}
