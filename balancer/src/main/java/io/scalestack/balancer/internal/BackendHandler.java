package io.scalestack.balancer.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.ProtocolException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of a pooled backend connection: streams one request at a time to the backend
 * and its response back to a {@link Listener}, with what the retry decision needs to know —
 * whether any byte of the request was written and whether any response byte arrived.
 *
 * <p>It owns the connection while a request is on it: after a complete response to a completely
 * sent request it gives the connection back to the pool (when the response allows keep-alive and
 * the connection is not too old for the backend's keep-alive timeout), otherwise it closes it. A
 * connection that receives bytes while idle is closed (a backend must not answer a request that
 * was not sent); one that stays idle for the idle timeout is evicted; one whose backend announced
 * {@code Keep-Alive: timeout=N} is not lent once idle for N seconds less {@link
 * #KEEP_ALIVE_MARGIN_NANOS} (see {@link #expired}). After a 101 to a WebSocket upgrade request
 * the connection leaves HTTP: {@link #splice} makes it one half of a raw-byte tunnel.
 *
 * <p>Every method that a request's {@link Exchange} calls may be called from any thread: it runs
 * on the connection's event loop (at once when already there), and is ignored unless the given
 * listener is still the one bound, so a late call can never touch the next request's use of the
 * connection. All state is confined to the connection's event loop.
 */
final class BackendHandler extends ChannelInboundHandlerAdapter {

  /**
   * Receives one request's response, on the backend connection's event loop. After {@link
   * #onResponseContent} with a {@link LastHttpContent}, {@link #onFailure} or {@link #onTimeout},
   * nothing more is reported.
   */
  interface Listener {
    /** The final response head (interim 1xx responses are not reported). */
    void onResponseHead(HttpResponse head);

    /** A piece of the response body; ownership passes to the listener. */
    void onResponseContent(HttpContent content);

    /** The backend's bytes read so far were delivered: a good moment to flush. */
    void onReadComplete();

    /**
     * The connection failed or was closed before a complete response.
     *
     * @param requestStarted whether any byte of the request was written to the socket
     * @param responseStarted whether any response byte arrived
     */
    void onFailure(Throwable cause, boolean requestStarted, boolean responseStarted);

    /** No response head within the response timeout; the connection was closed. */
    void onTimeout();

    /** The connection's outbound buffer crossed its high or low water mark. */
    void onWritabilityChanged(boolean writable);

    /**
     * The backend switched protocols (101) as the request asked; reading is paused until {@link
     * #splice} joins this connection to the client's. Nothing more is reported.
     */
    void onUpgrade(HttpResponse head);
  }

  /** Builds the pipeline of each backend connection. Immutable. */
  record Installer(Duration idleTimeout) {
    ChannelHandler initializer(ConnectionPool pool) {
      return new ChannelInitializer<Channel>() {
        @Override
        protected void initChannel(Channel ch) {
          BackendHandler handler = new BackendHandler(pool, ch, idleTimeout.toNanos());
          ch.attr(KEY).set(handler);
          // a control character in a response field value (a bare CR) would reach the client, whose
          // parser may split the response there: such a response is refused (502)
          HttpDecoderConfig decoder = new HttpDecoderConfig()
              .setMaxInitialLineLength(8192)
              .setMaxHeaderSize(32 * 1024)
              .setMaxChunkSize(64 * 1024)
              .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory().withValidation(true).withValueValidation(true));
          ch.pipeline()
              .addLast("idle", new IdleTimeoutHandler(idleTimeout))
              .addLast("response-start", handler.new ResponseStartWatcher())
              .addLast("codec", new HttpClientCodec(decoder, false, false))
              .addLast("backend", handler);
        }
      };
    }
  }

  private static final Logger log = LoggerFactory.getLogger(BackendHandler.class);
  private static final AttributeKey<BackendHandler> KEY = AttributeKey.valueOf("scalestack.backend.handler");
  // a connection is retired this long before the backend's own keep-alive timeout would close it
  static final long KEEP_ALIVE_MARGIN_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  private final ConnectionPool pool;
  private final Channel channel;
  private final long idleTimeoutNanos;

  private Listener listener;
  private boolean requestStarted;
  private boolean requestComplete;
  private boolean responseStarted;
  private boolean headSeen;
  private boolean skippingInterim;
  private boolean responseKeepAlive;
  private boolean upgradeRequested;
  // after a 101: raw bytes that came before the splice
  private ArrayList<Object> tunnelPending;
  private long responseTimeoutNanos;
  private ScheduledFuture<?> timeout;
  // how long this connection may idle in the pool: the backend's Keep-Alive timeout less a margin
  private long maxIdleNanos = Long.MAX_VALUE;
  private long idleSinceNanos;

  private BackendHandler(ConnectionPool pool, Channel channel, long idleTimeoutNanos) {
    this.pool = pool;
    this.channel = channel;
    this.idleTimeoutNanos = idleTimeoutNanos;
  }

  /** The handler of a pooled connection; any thread. */
  static BackendHandler of(Channel channel) {
    return channel.attr(KEY).get();
  }

  Channel channel() {
    return channel;
  }

  /**
   * Binds {@code l} and writes the request head and the body pieces known so far; {@code
   * complete} when they are the whole request. Ownership of {@code head} and {@code body} passes
   * here.
   */
  void start(Listener l, HttpRequest head, List<HttpContent> body, boolean complete, Duration responseTimeout) {
    if (channel.eventLoop().inEventLoop()) {
      doStart(l, head, body, complete, responseTimeout.toNanos());
    } else {
      channel.eventLoop().execute(() -> doStart(l, head, body, complete, responseTimeout.toNanos()));
    }
  }

  /** Writes one more piece of the request body (flushed by {@link #flush}); {@code last} ends the request. */
  void send(Listener l, HttpContent content, boolean last) {
    if (channel.eventLoop().inEventLoop()) {
      doSend(l, content, last);
    } else {
      channel.eventLoop().execute(() -> doSend(l, content, last));
    }
  }

  void flush(Listener l) {
    if (channel.eventLoop().inEventLoop()) {
      if (listener == l) {
        DeferredFlush.flush(channel);
      }
    } else {
      channel.eventLoop().execute(() -> flush(l));
    }
  }

  /** Pauses or resumes reading the response (the client cannot take more yet). */
  void readPaused(Listener l, boolean paused) {
    if (channel.eventLoop().inEventLoop()) {
      if (listener == l) {
        channel.config().setAutoRead(!paused);
      }
    } else {
      channel.eventLoop().execute(() -> readPaused(l, paused));
    }
  }

  /**
   * Joins this connection, after a 101, to {@code client}: raw bytes flow both ways from now on;
   * then runs {@code thenOnClientLoop} on the client's loop to finish the client side. Any thread.
   */
  void splice(Channel client, Runnable thenOnClientLoop) {
    if (!channel.eventLoop().inEventLoop()) {
      channel.eventLoop().execute(() -> splice(client, thenOnClientLoop));
      return;
    }
    var pipeline = channel.pipeline();
    pipeline.remove("idle");
    pipeline.remove("response-start");
    // the codec hands on what it still holds (to tunnelPending) as it goes
    pipeline.remove("codec");
    for (Object pending : tunnelPending) {
      client.write(pending, client.voidPromise());
    }
    client.flush();
    tunnelPending = null;
    pipeline.replace(this, "splice", new Splice(client, Duration.ofNanos(idleTimeoutNanos)));
    if (client.eventLoop().inEventLoop()) {
      thenOnClientLoop.run();
    } else {
      client.eventLoop().execute(thenOnClientLoop);
    }
    if (channel.isActive()) {
      channel.config().setAutoRead(true);
    } else {
      Splice.closeOnFlush(client);
    }
  }

  /** Gives up on the request: the connection closes, and {@code l} hears nothing more. */
  void abort(Listener l) {
    if (channel.eventLoop().inEventLoop()) {
      if (listener == l) {
        unbind();
        channel.close();
      }
    } else {
      channel.eventLoop().execute(() -> abort(l));
    }
  }

  private void doStart(Listener l, HttpRequest head, List<HttpContent> body, boolean complete, long timeoutNanos) {
    if (listener != null || !channel.isActive()) {
      // closed meanwhile (or a bug: the pool lends a connection to one request at a time)
      ReferenceCountUtil.release(head);
      body.forEach(ReferenceCountUtil::release);
      l.onFailure(listener != null ? new IllegalStateException("connection already carries a request")
          : new IOException("backend closed the connection"), false, false);
      return;
    }
    listener = l;
    requestStarted = false;
    requestComplete = false;
    responseStarted = false;
    headSeen = false;
    skippingInterim = false;
    responseTimeoutNanos = timeoutNanos;
    upgradeRequested = head.headers().contains(HttpHeaderNames.UPGRADE);
    channel.config().setAutoRead(true);
    channel.write(head).addListener((ChannelFutureListener) f -> {
      if (listener != l) {
        return;
      }
      if (f.isSuccess()) {
        requestStarted = true;
      } else {
        fail(f.cause());
      }
    });
    for (int i = 0; i < body.size(); i++) {
      HttpContent content = body.get(i);
      boolean last = complete && i == body.size() - 1;
      doSend(l, content, last);
    }
    if (complete && body.isEmpty()) {
      requestCompleted();
    }
    DeferredFlush.flush(channel);
    if (!channel.isWritable()) {
      l.onWritabilityChanged(false);
    }
  }

  private void doSend(Listener l, HttpContent content, boolean last) {
    if (listener != l) {
      content.release();
      return;
    }
    if (last) {
      channel.write(content, channel.voidPromise());
      DeferredFlush.flush(channel);
      requestCompleted();
    } else {
      channel.write(content, channel.voidPromise());
    }
  }

  private void requestCompleted() {
    requestComplete = true;
    if (!headSeen && timeout == null) {
      Listener l = listener;
      timeout = channel.eventLoop().schedule(() -> timedOut(l), responseTimeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (tunnelPending != null) {
      if (msg instanceof ByteBuf) {
        tunnelPending.add(msg);
      } else {
        ReferenceCountUtil.release(msg);
      }
      return;
    }
    Listener l = listener;
    if (l == null) {
      ReferenceCountUtil.release(msg);
      log.debug("closing connection to {}: response without a request", channel.remoteAddress());
      ctx.close();
      return;
    }
    if (msg instanceof HttpObject object && object.decoderResult().isFailure()) {
      ReferenceCountUtil.release(msg);
      fail(object.decoderResult().cause());
      return;
    }
    if (msg instanceof HttpResponse response) {
      int code = response.status().code();
      if (code == 101) {
        if (!upgradeRequested) {
          ReferenceCountUtil.release(msg);
          fail(new ProtocolException("backend switched protocols although no upgrade was requested"));
          return;
        }
        // RFC 9110 §15.2.2: the connection is no longer HTTP; it becomes the backend half of a tunnel
        headSeen = true;
        unbind();
        tunnelPending = new ArrayList<>(2);
        channel.config().setAutoRead(false);
        l.onUpgrade(response);
        return;
      }
      if (code >= 100 && code < 200) {
        // an interim response (RFC 9110 §15.2): the balancer answered Expect itself; drop it
        skippingInterim = true;
        ReferenceCountUtil.release(msg);
        return;
      }
      headSeen = true;
      cancelTimeout();
      responseKeepAlive = HttpUtil.isKeepAlive(response);
      noteKeepAliveTimeout(response);
      l.onResponseHead(response);
      if (msg instanceof HttpContent content) {
        deliver(l, content);
      }
      return;
    }
    if (msg instanceof HttpContent content) {
      if (skippingInterim) {
        if (content instanceof LastHttpContent) {
          skippingInterim = false;
        }
        content.release();
        return;
      }
      deliver(l, content);
      return;
    }
    ReferenceCountUtil.release(msg);
  }

  private void deliver(Listener l, HttpContent content) {
    if (content instanceof LastHttpContent) {
      boolean reusable = requestComplete && responseKeepAlive;
      unbind();
      idleSinceNanos = System.nanoTime();
      channel.config().setAutoRead(true);
      pool.release(channel, reusable);
    }
    l.onResponseContent(content);
  }

  // the Keep-Alive field (RFC 2068 §19.7.1.1): a backend that closes idle connections after N
  // seconds must never get a request on one it is about to close, the "stale pooled connection" race
  private void noteKeepAliveTimeout(HttpResponse response) {
    String keepAlive = response.headers().get(ProxyHeaders.KEEP_ALIVE);
    if (keepAlive == null) {
      return;
    }
    for (String param : keepAlive.split(",")) {
      String p = param.strip();
      if (p.regionMatches(true, 0, "timeout=", 0, 8)) {
        try {
          long seconds = Long.parseLong(p.substring(8).strip());
          maxIdleNanos = Math.min(idleTimeoutNanos, Math.max(0, TimeUnit.SECONDS.toNanos(seconds) - KEEP_ALIVE_MARGIN_NANOS));
        } catch (NumberFormatException e) {
          log.debug("ignoring Keep-Alive '{}' from {}: {}", keepAlive, channel.remoteAddress(), e.toString());
        }
      }
    }
  }

  /**
   * Whether this idle connection is too old to lend at {@code nowNanos}: idle for longer than the
   * backend's announced keep-alive timeout less {@link #KEEP_ALIVE_MARGIN_NANOS}. Called by the
   * pool under its lock, after {@link ConnectionPool#release} published the fields under the same
   * lock.
   */
  boolean expired(long nowNanos) {
    return nowNanos - idleSinceNanos >= maxIdleNanos;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Listener l = listener;
    if (l != null) {
      l.onReadComplete();
    }
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Listener l = listener;
    if (l != null) {
      l.onWritabilityChanged(channel.isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    if (tunnelPending != null) {
      // closed between the 101 and the splice: the splice sees it and closes the client
      tunnelPending.forEach(ReferenceCountUtil::release);
      tunnelPending.clear();
    }
    boolean started = requestStarted;
    boolean responded = responseStarted;
    Listener l = unbind();
    if (l != null) {
      l.onFailure(new IOException("backend closed the connection"), started, responded);
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
      } else if (headSeen) {
        // the response stalled in the middle of its body for the whole idle timeout
        fail(new IOException("backend stalled while sending its response"));
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  private void fail(Throwable cause) {
    boolean started = requestStarted;
    boolean responded = responseStarted;
    Listener l = unbind();
    if (l != null) {
      channel.close();
      l.onFailure(cause, started, responded);
    }
  }

  private void timedOut(Listener l) {
    if (listener == l) {
      unbind();
      channel.close();
      l.onTimeout();
    }
  }

  private void cancelTimeout() {
    if (timeout != null) {
      timeout.cancel(false);
      timeout = null;
    }
  }

  private Listener unbind() {
    Listener l = listener;
    listener = null;
    cancelTimeout();
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
