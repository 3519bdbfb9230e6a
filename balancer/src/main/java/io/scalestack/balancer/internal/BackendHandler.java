package io.scalestack.balancer.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.ProtocolException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a pooled backend connection: sends one request at a time and reports its
 * outcome, with what the retry decision needs to know — whether the request was fully written
 * and whether any response byte arrived.
 *
 * <p>It owns the connection while a request is on it: after a response it gives the connection
 * back to the pool (reusable when the response allows keep-alive), after a failure or a timeout
 * it closes it. A connection that receives bytes while idle is closed (a backend must not answer
 * a request that was not sent); one that stays idle for the idle timeout is evicted.
 *
 * <p>Confined to the connection's event loop, except {@link #of(Channel)}.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {

  /** Receives the outcome of one request, on the backend connection's event loop; exactly one call. */
  interface Listener {
    /** A complete final response; ownership passes to the listener. */
    void onResponse(FullHttpResponse response);

    /**
     * The connection failed or was closed before a complete response.
     *
     * @param requestSent whether every byte of the request was written to the socket
     * @param responseStarted whether any response byte arrived
     */
    void onFailure(Throwable cause, boolean requestSent, boolean responseStarted);

    /** No complete response within the response timeout; the connection was closed. */
    void onTimeout();
  }

  /** Builds the pipeline of each backend connection. Immutable. */
  record Installer(int maxContentLengthBytes, Duration idleTimeout) {
    ChannelHandler initializer(ConnectionPool pool) {
      return new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          BackendHandler handler = new BackendHandler(pool, ch);
          ch.attr(KEY).set(handler);
          HttpDecoderConfig decoder = new HttpDecoderConfig()
              .setMaxInitialLineLength(8192)
              .setMaxHeaderSize(16 * 1024)
              .setMaxChunkSize(64 * 1024);
          ch.pipeline()
              .addLast("idle", new IdleStateHandler(0, 0, idleTimeout.toNanos(), TimeUnit.NANOSECONDS))
              .addLast("response-start", handler.new ResponseStartWatcher())
              .addLast("codec", new HttpClientCodec(decoder, false, false))
              .addLast("aggregator", new HttpObjectAggregator(maxContentLengthBytes))
              .addLast("backend", handler);
        }
      };
    }
  }

  private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);
  private static final AttributeKey<BackendHandler> KEY = AttributeKey.valueOf("scalestack.backend.handler");

  private final ConnectionPool pool;
  private final Channel channel;

  private Listener listener;
  private boolean requestSent;
  private boolean responseStarted;
  private ScheduledFuture<?> timeout;

  private BackendHandler(ConnectionPool pool, Channel channel) {
    this.pool = pool;
    this.channel = channel;
  }

  /** The handler of a pooled connection; any thread. */
  static BackendHandler of(Channel channel) {
    return channel.attr(KEY).get();
  }

  /** Sends {@code request} (whose ownership passes here) and reports to {@code l}; on the event loop. */
  void send(FullHttpRequest request, Listener l, Duration responseTimeout) {
    if (listener != null) {
      // the pool lends a connection to one request at a time: a bug, but fail this request cleanly
      request.release();
      l.onFailure(new IllegalStateException("connection already carries a request"), false, false);
      return;
    }
    listener = l;
    requestSent = false;
    responseStarted = false;
    timeout = channel.eventLoop().schedule(() -> timedOut(l), responseTimeout.toNanos(), TimeUnit.NANOSECONDS);
    channel.writeAndFlush(request).addListener(f -> {
      if (listener != l) {
        return;
      }
      if (f.isSuccess()) {
        requestSent = true;
      } else {
        fail(f.cause());
      }
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof FullHttpResponse response)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    Listener l = listener;
    if (l == null) {
      response.release();
      log.debug("closing connection to {}: response without a request", channel.remoteAddress());
      ctx.close();
      return;
    }
    if (response.decoderResult().isFailure()) {
      response.release();
      fail(response.decoderResult().cause());
      return;
    }
    int code = response.status().code();
    if (code == 101) {
      response.release();
      fail(new ProtocolException("backend switched protocols although no upgrade was requested"));
      return;
    }
    if (code >= 100 && code < 200) {
      // an interim response (RFC 9110 §15.2); this slice forwards only the final one
      response.release();
      return;
    }
    unbind();
    pool.release(channel, requestSent && HttpUtil.isKeepAlive(response));
    l.onResponse(response);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    Listener l = unbind();
    if (l != null) {
      l.onFailure(new IOException("backend closed the connection"), requestSent, responseStarted);
    }
    super.channelInactive(ctx);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (listener != null) {
      fail(cause);
    } else {
      log.debug("closing idle connection to {}: {}", channel.remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      if (listener == null) {
        pool.evictIdle(channel);
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  private void fail(Throwable cause) {
    Listener l = unbind();
    if (l != null) {
      channel.close();
      l.onFailure(cause, requestSent, responseStarted);
    }
  }

  private void timedOut(Listener l) {
    if (listener == l) {
      unbind();
      channel.close();
      l.onTimeout();
    }
  }

  private Listener unbind() {
    Listener l = listener;
    listener = null;
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
    return l;
  }

  /** Notes the first response byte, before the codec buffers it. */
  final class ResponseStartWatcher extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (listener != null && msg instanceof ByteBuf buf && buf.isReadable()) {
        responseStarted = true;
      }
      ctx.fireChannelRead(msg);
    }
  }
}
