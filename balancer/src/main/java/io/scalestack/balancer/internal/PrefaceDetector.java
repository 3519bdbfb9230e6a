package io.scalestack.balancer.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells HTTP/2 from HTTP/1.1 on the first bytes of a connection by the client connection preface
 * {@code PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n} (RFC 9113 §3.4), which is how a client with prior
 * knowledge starts h2c (§3.3). No HTTP/1.1 request starts with it ({@code PRI} is no method a
 * proxy forwards), and an HTTP/1.1 request differs from it within its first three bytes.
 *
 * <p>Bytes are compared as they come, one at a time, so a preface split over any number of reads
 * is recognised; matched bytes are held (24 at most) and handed on, untouched, to whichever
 * protocol's handlers follow. At the first byte that differs the connection is HTTP/1.1 ({@code
 * onHttp1}), or, when HTTP/2 is required (ALPN chose h2), it closes. On a whole preface {@code
 * onHttp2} installs the HTTP/2 handlers after this one. Either way the detector then leaves the
 * pipeline.
 *
 * <p>A preface that does not complete within the request-header timeout closes the connection
 * (slowloris): the clock starts with the first byte, or at once when HTTP/2 is required.
 *
 * <p>Confined to its channel's event loop.
 */
final class PrefaceDetector extends ChannelInboundHandlerAdapter {

  static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private static final Logger log = LoggerFactory.getLogger(PrefaceDetector.class);

  private final long timeoutNanos;
  private final Runnable onHttp2;
  private final Runnable onHttp1; // null: HTTP/2 is required
  private ByteBuf held;
  private int matched;
  private boolean decided;
  private ScheduledFuture<?> timer;

  /**
   * @param onHttp2 installs the HTTP/2 handlers right after this one (and removes HTTP/1.1 ones)
   * @param onHttp1 called when the bytes are not a preface; null when only HTTP/2 will do
   */
  PrefaceDetector(long timeoutNanos, Runnable onHttp2, Runnable onHttp1) {
    this.timeoutNanos = timeoutNanos;
    this.onHttp2 = onHttp2;
    this.onHttp1 = onHttp1;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (onHttp1 == null && ctx.channel().isActive()) {
      startTimer(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (onHttp1 == null) {
      startTimer(ctx);
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (decided || !(msg instanceof ByteBuf in)) {
      ctx.fireChannelRead(msg);
      return;
    }
    int n = Math.min(in.readableBytes(), PREFACE.length - matched);
    int start = in.readerIndex();
    for (int i = 0; i < n; i++) {
      if (in.getByte(start + i) != PREFACE[matched + i]) {
        decide(ctx, false, in);
        return;
      }
    }
    matched += n;
    if (matched == PREFACE.length) {
      decide(ctx, true, in);
      return;
    }
    // a preface so far, and all of this read is part of it: keep it until the rest arrives
    if (held == null) {
      held = ctx.alloc().buffer(PREFACE.length);
      startTimer(ctx);
    }
    held.writeBytes(in);
    in.release();
  }

  private void decide(ChannelHandlerContext ctx, boolean http2, ByteBuf in) {
    decided = true;
    cancelTimer();
    if (!http2 && onHttp1 == null) {
      log.debug("closing {}: ALPN chose h2 but no HTTP/2 connection preface came", ctx.channel().remoteAddress());
      release();
      in.release();
      ctx.close();
      return;
    }
    (http2 ? onHttp2 : onHttp1).run();
    ByteBuf first = held;
    held = null;
    if (first != null) {
      ctx.fireChannelRead(first);
    }
    ctx.fireChannelRead(in);
    ctx.pipeline().remove(this);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof ChannelInputShutdownEvent && !decided && held != null) {
      // the client stopped sending in the middle of a preface: neither protocol can follow
      ctx.close();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancelTimer();
    release();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelTimer();
    release();
    super.channelInactive(ctx);
  }

  private void startTimer(ChannelHandlerContext ctx) {
    if (timer == null) {
      timer = ctx.executor().schedule(() -> {
        if (!decided) {
          log.debug("closing {}: no complete HTTP/2 connection preface within {} ms", ctx.channel().remoteAddress(),
              TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
          ctx.close();
        }
      }, timeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void cancelTimer() {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private void release() {
    if (held != null) {
      ReferenceCountUtil.release(held);
      held = null;
    }
  }
}
