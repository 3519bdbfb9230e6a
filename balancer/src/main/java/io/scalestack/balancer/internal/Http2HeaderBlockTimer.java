package io.scalestack.balancer.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds how long an HTTP/2 client may take to finish a header block — a HEADERS frame without
 * END_HEADERS, then CONTINUATION frames until one carries it (RFC 9113 §4.3, §6.2, §6.10) — as
 * the request-header timeout bounds an HTTP/1.1 request head. Without it, a client trickling a
 * byte of CONTINUATION now and then holds the connection open while no stream exists yet (the
 * slowloris of HTTP/2); the connection's idle timeout never fires, as bytes keep coming.
 *
 * <p>It sits in front of the HTTP/2 codec and only reads the 9-byte frame headers (RFC 9113
 * §4.1: length 24 bits, type, flags, stream id) as the bytes pass; it neither copies nor changes
 * them. The first 24 bytes, the client preface (§3.4), are passed over. While a block is open, a
 * timer runs; the block's end cancels it; the timer closes the connection.
 *
 * <p>Confined to the connection's event loop.
 */
final class Http2HeaderBlockTimer extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(Http2HeaderBlockTimer.class);

  private static final int PREFACE_BYTES = 24;
  private static final int FRAME_HEADER_BYTES = 9;
  private static final int HEADERS = 0x1;
  private static final int PUSH_PROMISE = 0x5;
  private static final int CONTINUATION = 0x9;
  private static final int END_HEADERS = 0x4;

  private final long timeoutNanos;
  private final byte[] frameHeader = new byte[FRAME_HEADER_BYTES];
  private int frameHeaderBytes;
  // bytes to pass over before the next frame header: the preface, then each frame's payload
  private long skip = PREFACE_BYTES;
  private ScheduledFuture<?> timer;

  Http2HeaderBlockTimer(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      scan(ctx, buf);
    }
    ctx.fireChannelRead(msg);
  }

  private void scan(ChannelHandlerContext ctx, ByteBuf buf) {
    int i = buf.readerIndex();
    int end = buf.writerIndex();
    while (i < end) {
      if (skip > 0) {
        int n = (int) Math.min(skip, end - i);
        skip -= n;
        i += n;
        continue;
      }
      frameHeader[frameHeaderBytes++] = buf.getByte(i++);
      if (frameHeaderBytes == FRAME_HEADER_BYTES) {
        frameHeaderBytes = 0;
        int length = (frameHeader[0] & 0xff) << 16 | (frameHeader[1] & 0xff) << 8 | frameHeader[2] & 0xff;
        int type = frameHeader[3] & 0xff;
        boolean endHeaders = (frameHeader[4] & END_HEADERS) != 0;
        if ((type == HEADERS || type == PUSH_PROMISE) && !endHeaders) {
          start(ctx);
        } else if (type == CONTINUATION && endHeaders) {
          stop();
        }
        skip = length;
      }
    }
  }

  private void start(ChannelHandlerContext ctx) {
    if (timer == null) {
      timer = ctx.executor().schedule(() -> {
        log.debug("closing {}: a header block took longer than {} ms", ctx.channel().remoteAddress(),
            TimeUnit.NANOSECONDS.toMillis(timeoutNanos));
        ctx.close();
      }, timeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void stop() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    stop();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }
}
