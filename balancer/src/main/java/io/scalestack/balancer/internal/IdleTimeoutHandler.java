package io.scalestack.balancer.internal;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fires {@link IdleStateEvent#ALL_IDLE_STATE_EVENT} when a connection has neither read anything
 * nor made write progress for its timeout, like Netty's {@code IdleStateHandler(0, 0, timeout)}
 * with {@code observeOutput}, but with nothing on the per-message path: a read or a write only
 * sets a flag. Netty's handler reads the clock on every read and puts a listener on every write
 * (turning the proxy's void promises into real ones); on a proxy that is a measurable share of
 * the event loop's CPU.
 *
 * <p>How: a tick every quarter of the timeout; a tick that saw no read, no write and no change
 * in the outbound buffer (bytes pending, progress of the current message) counts as idle, and
 * {@value #TICKS} idle ticks in a row fire the event. So the event comes between 1× and 1.25×
 * the timeout after the last activity; a write the peer never reads does not count as activity
 * once it sits unchanged in the buffer.
 *
 * <p>Confined to its channel's event loop.
 */
final class IdleTimeoutHandler extends ChannelDuplexHandler implements Runnable {

  static final int TICKS = 4;

  private final long tickNanos;
  private ChannelHandlerContext ctx;
  private ScheduledFuture<?> tick;
  private boolean stopped;
  private boolean activity;
  private int idleTicks;
  private long lastPendingBytes;
  private long lastProgress;

  IdleTimeoutHandler(Duration timeout) {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
    }
    this.tickNanos = Math.max(1, timeout.toNanos() / TICKS);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    if (ctx.channel().isActive() && ctx.channel().isRegistered()) {
      start();
    }
  }

  @Override
  public void channelRegistered(ChannelHandlerContext ctx) throws Exception {
    if (ctx.channel().isActive()) {
      start();
    }
    super.channelRegistered(ctx);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    start();
    super.channelActive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    stop();
    super.channelInactive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    activity = true;
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    activity = true;
    ctx.write(msg, promise);
  }

  private void start() {
    if (tick == null && !stopped) {
      tick = ctx.executor().schedule(this, tickNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void stop() {
    stopped = true;
    if (tick != null) {
      tick.cancel(false);
    }
  }

  /** One tick, on the event loop. */
  @Override
  public void run() {
    if (stopped || !ctx.channel().isOpen()) {
      return;
    }
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    long pending = buffer == null ? 0 : buffer.totalPendingWriteBytes();
    long progress = buffer == null ? 0 : buffer.currentProgress();
    boolean writeProgress = pending != lastPendingBytes || progress != lastProgress;
    lastPendingBytes = pending;
    lastProgress = progress;
    if (activity || writeProgress) {
      activity = false;
      idleTicks = 0;
    } else if (++idleTicks >= TICKS) {
      idleTicks = 0;
      ctx.fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    }
    if (!stopped && ctx.channel().isOpen()) {
      tick = ctx.executor().schedule(this, tickNanos, TimeUnit.NANOSECONDS);
    }
  }
}
