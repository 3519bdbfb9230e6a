package io.scalestack.balancer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DeferredFlushTest {

  @Test
  void flushesEveryChannelAskedForOnlyOnceTheLoopRunsItsTasks() {
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel b = new EmbeddedChannel();
    a.write(text("to a"));
    b.write(text("to b"));
    DeferredFlush.flush(a);
    DeferredFlush.flush(b);
    DeferredFlush.flush(a);
    // nothing has left yet: the flush waits for the end of the batch
    assertThat((Object) a.readOutbound()).isNull();
    assertThat((Object) b.readOutbound()).isNull();

    a.runPendingTasks();

    assertThat(readText(a)).isEqualTo("to a");
    assertThat(readText(b)).isEqualTo("to b");
    a.finishAndReleaseAll();
    b.finishAndReleaseAll();
  }

  @Test
  void aFlushAskedForWhileFlushingGoesOutInTheSamePass() {
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel b = new EmbeddedChannel();
    // completing the write to a writes to b and asks for b's flush, from inside the pass
    a.write(text("first")).addListener((ChannelFutureListener) f -> {
      b.write(text("second"));
      DeferredFlush.flush(b);
    });
    DeferredFlush.flush(a);

    a.runPendingTasks();

    assertThat(readText(a)).isEqualTo("first");
    assertThat(readText(b)).isEqualTo("second");
    // and a later request schedules a new pass
    a.write(text("third"));
    DeferredFlush.flush(a);
    assertThat((Object) a.readOutbound()).isNull();
    a.runPendingTasks();
    assertThat(readText(a)).isEqualTo("third");
    a.finishAndReleaseAll();
    b.finishAndReleaseAll();
  }

  private static ByteBuf text(String s) {
    return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
  }

  private static String readText(EmbeddedChannel channel) {
    ByteBuf buf = channel.readOutbound();
    assertThat(buf).as("a flushed message").isNotNull();
    try {
      return buf.toString(StandardCharsets.US_ASCII);
    } finally {
      buf.release();
    }
  }
}
