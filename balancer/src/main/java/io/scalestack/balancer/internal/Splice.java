package io.scalestack.balancer.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays raw bytes from its channel to a peer channel: after a protocol switch (a WebSocket
 * upgrade, RFC 9110 §7.8), and for every connection in TCP mode. Reads pause while the peer
 * cannot take more (backpressure).
 *
 * <p>Ending: in a WebSocket tunnel, when either side closes or stops sending, both close once what
 * was already relayed is flushed. In TCP mode ({@code halfClose}) a side that stops sending (FIN)
 * has its peer's output shut down once flushed, so the other direction goes on (RFC 9293 §3.6:
 * TCP connections close one direction at a time); both close when both sides stopped sending, or
 * when either closes or resets.
 *
 * <p>Confined to its channel's event loop; writes to the peer may cross to the peer's loop, which
 * Netty orders.
 */
final class Splice extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(Splice.class);

  private final Channel peer;
  private final boolean halfClose;
  private final LongConsumer relayed;
  private final long finTimeoutNanos;

  /**
   * A WebSocket tunnel half: closes both sides when this one stops sending.
   *
   * @param finTimeout how long the peer may take to read what is still queued for it once this side
   *     is gone, before it is closed anyway
   */
  Splice(Channel peer, Duration finTimeout) {
    this(peer, false, null, finTimeout);
  }

  /**
   * @param halfClose whether a FIN from this side only shuts the peer's output (TCP mode)
   * @param relayed told the size of each buffer relayed from this channel to the peer; may be null
   * @param finTimeout how long the peer may take to read what is still queued for it once this side
   *     is gone (HAProxy's {@code timeout client-fin}/{@code server-fin}): a peer that never reads
   *     would otherwise hold the flush, and both connections, open forever
   */
  Splice(Channel peer, boolean halfClose, LongConsumer relayed, Duration finTimeout) {
    this.peer = peer;
    this.halfClose = halfClose;
    this.relayed = relayed;
    this.finTimeoutNanos = finTimeout.toNanos();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!peer.isActive()) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (relayed != null && msg instanceof ByteBuf buf) {
      relayed.accept(buf.readableBytes());
    }
    peer.write(msg, peer.voidPromise());
    if (!peer.isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    DeferredFlush.flush(peer);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    // this channel drained: the peer may send more through it
    if (ctx.channel().isWritable()) {
      peer.config().setAutoRead(true);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closeOnFlush(peer, finTimeoutNanos);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      if (halfClose) {
        // this side sent FIN: pass it on once the peer got everything; the other direction goes on
        shutdownOutputOnFlush(peer);
        if (peer instanceof DuplexChannel duplex && duplex.isInputShutdown()) {
          // both directions are done
          closeOnFlush(peer, finTimeoutNanos);
          closeOnFlush(ctx.channel(), finTimeoutNanos);
        }
      } else {
        // the side that stopped sending ends the tunnel once the other got everything
        closeOnFlush(peer, finTimeoutNanos);
        closeOnFlush(ctx.channel(), finTimeoutNanos);
      }
    }
    if (evt instanceof IdleStateEvent) {
      // only a TCP-mode tunnel keeps an idle handler (WebSocket tunnels drop theirs at the upgrade):
      // no byte either way for the idle timeout ends it
      log.debug("closing tunnel {} <-> {}: idle", ctx.channel().remoteAddress(), peer.remoteAddress());
      ctx.close();
      peer.close();
    }
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing tunnel {} <-> {}: {}", ctx.channel().remoteAddress(), peer.remoteAddress(), cause.toString());
    ctx.close();
    closeOnFlush(peer, finTimeoutNanos);
  }

  /**
   * Closes {@code channel} once what was written to it is flushed, or after {@code finTimeoutNanos}
   * if its reader does not take it by then.
   */
  static void closeOnFlush(Channel channel, long finTimeoutNanos) {
    if (!channel.isActive()) {
      return;
    }
    closeOnFlush(channel);
    ScheduledFuture<?> deadline = channel.eventLoop().schedule(() -> {
      if (channel.isOpen()) {
        log.debug("closing {}: it did not read what was left for it within {} ms", channel.remoteAddress(),
            TimeUnit.NANOSECONDS.toMillis(finTimeoutNanos));
        channel.close();
      }
    }, finTimeoutNanos, TimeUnit.NANOSECONDS);
    channel.closeFuture().addListener(f -> deadline.cancel(false));
  }

  static void closeOnFlush(Channel channel) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }

  /** Sends FIN on {@code channel} once what was written to it is flushed. */
  static void shutdownOutputOnFlush(Channel channel) {
    if (channel.isActive() && channel instanceof DuplexChannel duplex) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
        if (f.isSuccess() && duplex.isActive()) {
          duplex.shutdownOutput();
        }
      });
    }
  }
}
