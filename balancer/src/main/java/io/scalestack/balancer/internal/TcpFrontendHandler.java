package io.scalestack.balancer.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.scalestack.balancer.Pool;
import io.scalestack.balancer.ProxyProtocol;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client connection in TCP mode until it is spliced to a backend: chooses a backend with the
 * pool's algorithm (by the client address only: a connection carries no request), connects to it
 * on the client's event loop, and on a connect failure or timeout tries another backend, at most
 * {@code retries} more times — safe, because no byte reached any backend yet. Then, on the backend
 * connection, the pool's PROXY protocol header if it sends one, what the client sent meanwhile,
 * and from there on two {@link Splice}s relay the bytes both ways with backpressure and half-close.
 *
 * <p>The client is not read while the backend connects (at most one read's worth waits here,
 * when the PROXY protocol header came with more bytes). The connection counts as one in flight on
 * its backend (least connections) and for a graceful shutdown, until both sides closed; then the
 * access log gets one line. The backend's connect time is its response-time sample. A connection
 * with no byte either way for the client idle timeout is closed: the client channel's {@link
 * IdleTimeoutHandler} sees both directions (reads from the client, writes to it), before the
 * splice and after; once one side is gone, {@link Splice}'s fin timeout bounds the other.
 *
 * <p>Confined to the client connection's event loop, which the backend connection shares.
 */
final class TcpFrontendHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(TcpFrontendHandler.class);

  private final BalancerCore core;
  private final boolean awaitProxyHeader;
  private final ArrayDeque<Object> pending = new ArrayDeque<>();
  private final Set<Backend> tried = new HashSet<>(4);
  private ChannelHandlerContext ctx;
  private InetSocketAddress client;
  private long startNanos;
  private boolean started;
  private boolean clientInputShutdown;
  private boolean headerReceived;
  private boolean clientClosed;
  private boolean finished;

  // the backend attempt under way or connected
  private Channel backendChannel;
  private Backend backend;
  private TcpMetrics.Meters meters;
  private boolean connected;
  private long bytesIn;
  private long bytesOut;

  private TcpFrontendHandler(BalancerCore core, boolean awaitProxyHeader) {
    this.core = core;
    this.awaitProxyHeader = awaitProxyHeader;
  }

  /** Sets up the pipeline of a new client connection in TCP mode (after any PROXY protocol handlers). */
  static void install(SocketChannel ch, BalancerCore core, boolean awaitProxyHeader) {
    // nothing is read before a backend is there to take it, but for a PROXY protocol header
    ch.config().setAutoRead(false);
    ChannelPipeline pipeline = ch.pipeline();
    pipeline.addFirst("idle", new IdleTimeoutHandler(core.settings().clientIdleTimeout()));
    pipeline.addLast("tcp-frontend", new TcpFrontendHandler(core, awaitProxyHeader));
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    startNanos = System.nanoTime();
    started = true;
    core.exchangeStarted();
    ctx.channel().closeFuture().addListener(f -> {
      clientClosed = true;
      finishIfDone();
    });
    if (awaitProxyHeader) {
      // the header decoder asks for more reads itself until the header is complete
      ctx.read();
    } else {
      client = ProxyProtocolReceiver.clientAddress(ctx.channel());
      connect();
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (clientClosed) {
      ReferenceCountUtil.release(msg);
      return;
    }
    // bytes after the PROXY protocol header, before the backend is there
    pending.add(msg);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt == ProxyProtocolReceiver.RECEIVED) {
      headerReceived = true;
      client = ProxyProtocolReceiver.clientAddress(ctx.channel());
      connect();
    } else if (evt instanceof ChannelInputShutdownEvent) {
      clientInputShutdown = true;
      if (awaitProxyHeader && !headerReceived) {
        log.warn("closing {}: the connection ended before its PROXY protocol header was complete",
            ctx.channel().remoteAddress());
        ctx.close();
      }
    } else if (evt instanceof IdleStateEvent) {
      log.debug("closing {}: idle before a backend was connected", ctx.channel().remoteAddress());
      ctx.close();
    }
    // the shutdown signal and the like: the connection finishes on its own, within the shutdown timeout
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    clientClosed = true;
    discardPending();
    if (backendChannel != null) {
      backendChannel.close();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing client connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }

  private void connect() {
    if (clientClosed) {
      return;
    }
    Backend chosen = core.membership().select(tried, new RequestContext(client, null));
    if (chosen == null) {
      log.debug("closing {}: no backend available", ctx.channel().remoteAddress());
      ctx.close();
      return;
    }
    tried.add(chosen);
    chosen.beginRequest();
    long connectStart = System.nanoTime();
    Channel channel = ctx.channel();
    Bootstrap bootstrap = core.backendBootstrap().clone(channel.eventLoop())
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            // the splice comes once connected; nothing is read before
          }
        });
    ChannelFuture future = bootstrap.connect(chosen.address());
    backendChannel = future.channel();
    future.addListener(f -> connected(chosen, future, connectStart));
  }

  private void connected(Backend chosen, ChannelFuture future, long connectStart) {
    if (!future.isSuccess()) {
      chosen.endRequest();
      backendChannel = null;
      if (clientClosed) {
        // the client went away and the connect was cancelled: not the backend's fault
        finishIfDone();
        return;
      }
      core.tcpMetrics().of(chosen.name()).connectFailures.increment();
      core.eject(chosen, future.cause());
      if (tried.size() <= core.settings().retries()) {
        log.debug("connect to {} for {} failed ({}); trying another backend", chosen, client, future.cause().toString());
        connect();
      } else {
        log.debug("closing {}: connect to {} failed ({}) after {} attempts", client, chosen, future.cause().toString(),
            tried.size());
        ctx.close();
      }
      return;
    }
    long now = System.nanoTime();
    chosen.responseTime().record(now - connectStart, now);
    Channel backendCh = future.channel();
    backend = chosen;
    connected = true;
    meters = core.tcpMetrics().of(chosen.name());
    meters.connections.increment();
    meters.active.incrementAndGet();
    backendCh.closeFuture().addListener(f -> finishIfDone());
    if (clientClosed) {
      backendCh.close();
      return;
    }
    Channel clientCh = ctx.channel();
    Pool pool = core.membership().pool(chosen.poolName());
    ProxyProtocol proxyProtocol = pool == null ? null : pool.sendProxyProtocol();
    if (proxyProtocol != null) {
      backendCh.write(ProxyProtocolHeader.encode(proxyProtocol, client,
          ProxyProtocolReceiver.destinationAddress(clientCh), backendCh.alloc()), backendCh.voidPromise());
    }
    backendCh.pipeline().addLast("splice", new Splice(clientCh, true, this::relayedOut, core.settings().clientIdleTimeout()));
    Object msg;
    while ((msg = pending.poll()) != null) {
      if (msg instanceof ByteBuf buf) {
        relayedIn(buf.readableBytes());
      }
      backendCh.write(msg, backendCh.voidPromise());
    }
    backendCh.flush();
    ChannelPipeline pipeline = ctx.pipeline();
    pipeline.replace(this, "splice", new Splice(backendCh, true, this::relayedIn, core.settings().clientIdleTimeout()));
    if (clientInputShutdown) {
      // the client sent its FIN while we connected: pass it on; the backend's answer still comes back
      Splice.shutdownOutputOnFlush(backendCh);
    } else {
      clientCh.config().setAutoRead(true);
    }
    backendCh.config().setAutoRead(true);
  }

  private void relayedIn(long bytes) {
    bytesIn += bytes;
    meters.received.increment(bytes);
    backend.addBytesInFlight(bytes);
  }

  private void relayedOut(long bytes) {
    bytesOut += bytes;
    meters.sent.increment(bytes);
    backend.addBytesInFlight(bytes);
  }

  // once both connections are closed (or the client's alone, when no backend was reached)
  private void finishIfDone() {
    if (finished || !started || !clientClosed || (backendChannel != null && backendChannel.isOpen())) {
      return;
    }
    finished = true;
    discardPending();
    if (connected) {
      meters.active.decrementAndGet();
      // bandwidth balancing counts the bytes of open connections only
      backend.addBytesInFlight(-(bytesIn + bytesOut));
      backend.endRequest();
    }
    if (AccessLog.enabled()) {
      AccessLog.tcp(client != null ? client : ProxyProtocolReceiver.clientAddress(ctx.channel()),
          connected ? backend.name() : "none", bytesIn, bytesOut, System.nanoTime() - startNanos);
    }
    core.exchangeFinished();
  }

  private void discardPending() {
    Object msg;
    while ((msg = pending.poll()) != null) {
      ReferenceCountUtil.release(msg);
    }
  }
}
