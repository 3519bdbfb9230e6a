package io.scalestack.balancer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The idle detector on an embedded channel, whose clock the test moves. */
class IdleTimeoutHandlerTest {

  private final List<Object> events = new ArrayList<>();

  private EmbeddedChannel channel() {
    return new EmbeddedChannel(new IdleTimeoutHandler(Duration.ofSeconds(4)), new ChannelInboundHandlerAdapter() {
      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        events.add(evt);
      }
    });
  }

  private static void advanceSeconds(EmbeddedChannel channel, int seconds) {
    for (int i = 0; i < seconds; i++) {
      channel.advanceTimeBy(1, TimeUnit.SECONDS);
      channel.runScheduledPendingTasks();
    }
  }

  @Test
  void firesOnceTheTimeoutPassesWithNoActivity() {
    EmbeddedChannel channel = channel();
    advanceSeconds(channel, 3);
    assertThat(events).isEmpty();
    advanceSeconds(channel, 2); // 4 idle ticks of 1 s: between 1x and 1.25x the timeout
    assertThat(events).containsExactly(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    channel.finishAndReleaseAll();
  }

  @Test
  void readsAndWritesKeepTheConnectionActive() {
    EmbeddedChannel channel = channel();
    for (int i = 0; i < 10; i++) {
      advanceSeconds(channel, 2);
      if (i % 2 == 0) {
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {1}));
      } else {
        channel.writeOutbound(Unpooled.wrappedBuffer(new byte[] {2}));
      }
    }
    assertThat(events).as("20 s with activity every 2 s").isEmpty();
    advanceSeconds(channel, 6);
    assertThat(events).containsExactly(IdleStateEvent.ALL_IDLE_STATE_EVENT);
    channel.finishAndReleaseAll();
  }

  @Test
  void stopsTickingOnceTheChannelCloses() {
    EmbeddedChannel channel = channel();
    channel.close();
    advanceSeconds(channel, 10);
    assertThat(events).noneMatch(e -> e instanceof IdleStateEvent);
  }

  @Test
  void rejectsANonPositiveTimeout() {
    assertThatThrownBy(() -> new IdleTimeoutHandler(Duration.ZERO)).hasMessage("timeout: PT0S (expected: > 0)");
  }
}
