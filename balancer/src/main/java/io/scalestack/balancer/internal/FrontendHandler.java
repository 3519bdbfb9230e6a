package io.scalestack.balancer.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a client connection: turns each aggregated request into an {@link
 * Exchange}, one at a time, and writes the responses back in request order.
 *
 * <p>While a request is in flight the connection stops reading, so that pipelined requests wait
 * in the socket (a few already decoded ones wait in a small queue). Client keep-alive is
 * honoured (RFC 9112 §9.3); after a malformed or rejected request the error response carries
 * {@code Connection: close} and the connection closes, after a short lingering close that lets
 * the client read the response.
 *
 * <p>Confined to the connection's event loop.
 */
final class FrontendHandler extends ChannelInboundHandlerAdapter {

  /** User event: the balancer is shutting down; close once idle. */
  static final Object SHUTDOWN = new Object();

  private static final Logger log = LoggerFactory.getLogger(FrontendHandler.class);
  private static final int MAX_QUEUED = 16;
  private static final long LINGER_MILLIS = 1000;

  private final BalancerCore core;
  private final ArrayDeque<Object> queued = new ArrayDeque<>();
  private ChannelHandlerContext ctx;
  private boolean busy;
  private boolean closeAfterResponse;

  FrontendHandler(BalancerCore core) {
    this.core = core;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closeAfterResponse) {
      // the connection closes after the current response: later requests are not answered
      ReferenceCountUtil.release(msg);
      return;
    }
    if (busy) {
      queued.add(msg);
      if (queued.size() > MAX_QUEUED) {
        log.debug("closing {}: more than {} pipelined requests", ctx.channel().remoteAddress(), MAX_QUEUED);
        ctx.close();
      }
      return;
    }
    process(msg);
  }

  private void process(Object msg) {
    busy = true;
    ctx.channel().config().setAutoRead(false);
    if (msg instanceof FullHttpRequest request) {
      handle(request);
    } else if (msg instanceof Rejection rejection) {
      respondError(rejection.status(), rejection.message());
    } else {
      ReferenceCountUtil.release(msg);
      next();
    }
  }

  private void handle(FullHttpRequest request) {
    DecoderResult result = request.decoderResult();
    if (result.isFailure()) {
      request.release();
      Throwable cause = result.cause();
      HttpResponseStatus status = cause instanceof TooLongHttpLineException
          ? HttpResponseStatus.REQUEST_URI_TOO_LONG
          : cause instanceof TooLongHttpHeaderException
              ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
              : HttpResponseStatus.BAD_REQUEST;
      String detail = cause instanceof TooLongFrameException || cause instanceof IllegalArgumentException
          ? cause.getMessage()
          : cause.getClass().getSimpleName();
      respondError(status, "malformed request: " + detail);
      return;
    }
    int hosts = request.headers().getAll(HttpHeaderNames.HOST).size();
    if (hosts > 1 || (hosts == 0 && request.protocolVersion().equals(HttpVersion.HTTP_1_1))) {
      // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request
      request.release();
      respondError(HttpResponseStatus.BAD_REQUEST,
          "malformed request: " + hosts + " Host header fields (expected: exactly 1)");
      return;
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request) && !core.closing();
    HttpMethod method = request.method();
    HttpVersion clientVersion = request.protocolVersion();
    FullHttpRequest outbound =
        ProxyHeaders.toBackend(request, ctx.channel().remoteAddress(), ctx.channel().localAddress());
    RequestContext context = new RequestContext(
        ctx.channel().remoteAddress() instanceof InetSocketAddress client ? client : null, outbound);
    Exchange exchange =
        new Exchange(core, this, ctx.channel().eventLoop(), outbound, context, method, clientVersion, keepAlive);
    core.exchangeStarted();
    exchange.start();
  }

  /** The response to {@code exchange}; on this connection's event loop. */
  void respond(Exchange exchange, FullHttpResponse response) {
    boolean keepAlive = exchange.keepAlive() && !closeAfterResponse && !core.closing();
    ProxyHeaders.toClient(response, keepAlive, exchange.clientVersion(), exchange.method());
    // the exchange counts as in flight (for a graceful close) until its response is written
    write(response, keepAlive, core::exchangeFinished);
  }

  private void respondError(HttpResponseStatus status, String message) {
    core.metrics().request("none", status.code(), 0);
    FullHttpResponse response = Json.error(status, message);
    ProxyHeaders.setConnection(response.headers(), false, HttpVersion.HTTP_1_1);
    write(response, false, () -> { });
  }

  private void write(FullHttpResponse response, boolean keepAlive, Runnable written) {
    if (!keepAlive) {
      closeAfterResponse = true;
    }
    if (!ctx.channel().isActive()) {
      response.release();
      written.run();
      return;
    }
    ctx.writeAndFlush(response).addListener((ChannelFutureListener) f -> {
      written.run();
      if (!f.isSuccess()) {
        f.channel().close();
      } else if (!keepAlive) {
        lingeringClose();
      } else {
        next();
      }
    });
  }

  private void next() {
    busy = false;
    Object msg = queued.poll();
    if (msg != null) {
      process(msg);
    } else {
      ctx.channel().config().setAutoRead(true);
    }
  }

  // half-close, keep reading (and discarding) for a moment, then close: a client still sending
  // its body reads our response instead of a reset (RFC 9112 §9.6)
  private void lingeringClose() {
    if (ctx.channel() instanceof SocketChannel socket && socket.isActive()) {
      socket.shutdownOutput();
      socket.config().setAutoRead(true);
      ctx.executor().schedule(() -> socket.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
    } else {
      ctx.close();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      // an idle keep-alive connection; while a request is in flight reading is paused on purpose
      if (!busy) {
        ctx.close();
      }
      return;
    }
    if (evt == SHUTDOWN) {
      if (!busy) {
        ctx.close();
      } else {
        closeAfterResponse = true;
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Object msg;
    while ((msg = queued.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing client connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
