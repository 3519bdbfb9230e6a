package io.scalestack.balancer.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays raw bytes from its channel to a peer channel, after a protocol switch (a WebSocket
 * upgrade, RFC 9110 §7.8): from then on the balancer is a TCP tunnel. Reads pause while the peer
 * cannot take more (backpressure), and when either side closes, the other closes once what was
 * already relayed is flushed.
 *
 * <p>Confined to its channel's event loop; writes to the peer may cross to the peer's loop, which
 * Netty orders.
 */
final class Splice extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(Splice.class);

  private final Channel peer;

  Splice(Channel peer) {
    this.peer = peer;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!peer.isActive()) {
      ReferenceCountUtil.release(msg);
      return;
    }
    peer.write(msg, peer.voidPromise());
    if (!peer.isWritable()) {
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    peer.flush();
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
    closeOnFlush(peer);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      // the side that stopped sending ends the tunnel once the other got everything
      closeOnFlush(peer);
      closeOnFlush(ctx.channel());
    }
    // idle events and the like mean nothing to a tunnel
    ReferenceCountUtil.release(evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing tunnel {} <-> {}: {}", ctx.channel().remoteAddress(), peer.remoteAddress(), cause.toString());
    ctx.close();
    closeOnFlush(peer);
  }

  static void closeOnFlush(Channel channel) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
