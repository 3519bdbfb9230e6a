package io.scalestack.balancer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The header-block timer's frame scanner, fed byte by byte on an embedded channel whose clock the test moves. */
class Http2HeaderBlockTimerTest {

  private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private static byte[] frame(int type, int flags, int stream, byte[] payload) {
    byte[] f = new byte[9 + payload.length];
    f[0] = (byte) (payload.length >>> 16);
    f[1] = (byte) (payload.length >>> 8);
    f[2] = (byte) payload.length;
    f[3] = (byte) type;
    f[4] = (byte) flags;
    f[5] = (byte) (stream >>> 24);
    f[6] = (byte) (stream >>> 16);
    f[7] = (byte) (stream >>> 8);
    f[8] = (byte) stream;
    System.arraycopy(payload, 0, f, 9, payload.length);
    return f;
  }

  private static EmbeddedChannel channel() {
    return new EmbeddedChannel(new Http2HeaderBlockTimer(Duration.ofSeconds(1)));
  }

  private static void byteByByte(EmbeddedChannel channel, byte[]... parts) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      all.writeBytes(p);
    }
    for (byte b : all.toByteArray()) {
      channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
    }
    // the bytes go on unchanged
    ByteBuf passed = Unpooled.buffer();
    for (ByteBuf piece; (piece = channel.readInbound()) != null; ) {
      passed.writeBytes(piece);
      piece.release();
    }
    byte[] out = new byte[passed.readableBytes()];
    passed.readBytes(out);
    passed.release();
    assertThat(out).isEqualTo(all.toByteArray());
  }

  private static void advance(EmbeddedChannel channel, long millis) {
    channel.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
    channel.runScheduledPendingTasks();
  }

  @Test
  void closesWhenAHeaderBlockStaysOpenPastTheTimeout() {
    EmbeddedChannel channel = channel();
    // a DATA-looking payload with END_HEADERS-like bits inside must not confuse the scan: it is skipped
    byteByByte(channel, PREFACE, frame(0x4, 0, 0, new byte[0]), frame(0x0, 0x4, 3, new byte[] {0, 0, 0, 9, 4}),
        frame(0x1, 0x0, 1, new byte[] {(byte) 0x82}), frame(0x9, 0x0, 1, new byte[] {(byte) 0x84}));
    advance(channel, 900);
    assertThat(channel.isOpen()).isTrue();
    advance(channel, 200);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aBlockEndedByContinuationOrInOneFrameStopsTheTimer() {
    EmbeddedChannel channel = channel();
    byteByByte(channel, PREFACE, frame(0x4, 0, 0, new byte[0]),
        frame(0x1, 0x0, 1, new byte[] {(byte) 0x82}), frame(0x9, 0x4, 1, new byte[] {(byte) 0x84}),
        frame(0x1, 0x4 | 0x1, 3, new byte[] {(byte) 0x82, (byte) 0x84}));
    advance(channel, 5_000);
    assertThat(channel.isOpen()).isTrue();
    channel.finishAndReleaseAll();
  }
}
