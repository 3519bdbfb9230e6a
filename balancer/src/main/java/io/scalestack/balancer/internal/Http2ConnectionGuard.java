package io.scalestack.balancer.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The last handler of an HTTP/2 client connection (after the stream multiplexer): what {@link
 * FrontendHandler} does for a whole HTTP/1.1 connection. An idle connection with no open stream
 * closes after the client idle timeout; a client that shut its output, or a balancer shutting
 * down, gets a GOAWAY (RFC 9113 §6.8) and the connection closes once its open streams are done
 * (at most the shutdown timeout: the codec's graceful-shutdown timeout).
 *
 * <p>Confined to the connection's event loop.
 */
final class Http2ConnectionGuard extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(Http2ConnectionGuard.class);

  private final Http2FrameCodec codec;

  Http2ConnectionGuard(Http2FrameCodec codec) {
    this.codec = codec;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      if (codec.connection().numActiveStreams() == 0) {
        ctx.channel().close();
      }
      return;
    }
    if (evt instanceof ChannelInputShutdownEvent || evt == FrontendHandler.SHUTDOWN) {
      // through the pipeline's tail, so that the codec sends GOAWAY and waits for open streams
      ctx.channel().close();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    // the multiplexer hands every stream's frames to its stream channel; nothing else is expected
    ReferenceCountUtil.release(msg);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing HTTP/2 client connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.channel().close();
  }
}
