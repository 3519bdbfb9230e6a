package io.scalestack.edge.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive HTTP/1.1 connections to the origin, pooled per event loop: a client connection's
 * origin requests use connections of its own loop, so an exchange never crosses threads and the
 * pool needs no locks. An idempotent request that fails on a reused connection before any
 * response byte (the origin closed it while idle) is retried once on a new connection.
 *
 * <p>Thread-safe in that each loop's pool is touched only by that loop; {@link #fetch} must be
 * called on {@code loop}.
 */
final class OriginClient {

  static final int MAX_IDLE_PER_LOOP = 256;

  private final InetSocketAddress origin;
  private final int maxObjectBytes;
  private final EdgeMetrics metrics;
  private final Map<EventExecutor, Bootstrap> bootstraps = new IdentityHashMap<>();
  private final Map<EventExecutor, ArrayDeque<Channel>> idle = new IdentityHashMap<>();

  OriginClient(EventLoopGroup group, Transport transport, InetSocketAddress origin, Duration connectTimeout,
      Duration timeout, int maxObjectBytes, EdgeMetrics metrics) {
    this.origin = origin;
    this.maxObjectBytes = maxObjectBytes;
    this.metrics = metrics;
    int timeoutSeconds = (int) Math.max(1, timeout.toSeconds());
    for (EventExecutor executor : group) {
      Bootstrap b = new Bootstrap()
          .group((EventLoop) executor)
          .channel(transport.socketChannel())
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis())
          .option(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
          .handler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline()
                  // reader idle: a silent origin (mid-exchange: timeout; in the pool: closed)
                  .addLast("idle", new IdleStateHandler(timeoutSeconds, 0, 0, TimeUnit.SECONDS))
                  .addLast("codec", new HttpClientCodec(8192, 32 * 1024, 64 * 1024, true))
                  .addLast("origin", new OriginHandler(OriginClient.this, maxObjectBytes));
            }
          });
      bootstraps.put(executor, b);
      idle.put(executor, new ArrayDeque<>());
    }
  }

  int maxObjectBytes() {
    return maxObjectBytes;
  }

  /** Sends {@code request} (taken over) to the origin; {@code listener} hears on {@code loop}. */
  void fetch(EventLoop loop, FullHttpRequest request, OriginListener listener) {
    metrics.originRequest();
    ArrayDeque<Channel> pool = idle.get(loop);
    Channel ch;
    while ((ch = pool.pollLast()) != null) {
      if (ch.isActive()) {
        send(ch, request, listener, true);
        return;
      }
    }
    connect(loop, request, listener);
  }

  void connect(EventLoop loop, FullHttpRequest request, OriginListener listener) {
    bootstraps.get(loop).connect(origin).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess()) {
        send(f.channel(), request, listener, false);
      } else {
        request.release();
        listener.onError(f.cause());
      }
    });
  }

  private void send(Channel ch, FullHttpRequest request, OriginListener listener, boolean reused) {
    OriginHandler handler = ch.pipeline().get(OriginHandler.class);
    handler.begin(request, listener, reused);
  }

  /** Back to the pool after a complete keep-alive exchange (or closed when the pool is full). */
  void release(Channel ch) {
    ArrayDeque<Channel> pool = idle.get(ch.eventLoop());
    if (!ch.isActive() || pool == null || pool.size() >= MAX_IDLE_PER_LOOP) {
      ch.close();
      return;
    }
    pool.addLast(ch);
  }
}
