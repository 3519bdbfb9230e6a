package io.scalestack.session.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.scalestack.session.SessionData;
import io.scalestack.session.internal.ClusterMessages.Delta;
import io.scalestack.session.internal.ClusterMessages.Request;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClusterMessagesTest {

  private static final String ID = new SessionIds().next();
  private static final Instant T = Instant.parse("2030-01-01T00:00:00Z");
  private static final SessionData SESSION = new SessionData(ID, T, T.plusSeconds(5), Duration.ofMinutes(30),
      Map.of("user", "Zoë", "id", 42L, "n", 7, "admin", true));

  @Test
  void everyRequestSurvivesTheRoundTrip() {
    Request put = ClusterMessages.parse(ClusterMessages.put(SESSION, false));
    assertThat(put.op()).isEqualTo(ClusterMessages.PUT);
    assertThat(put.session()).isEqualTo(SESSION);
    assertThat(ClusterMessages.parse(ClusterMessages.put(SESSION, true)).op()).isEqualTo(ClusterMessages.PUT_IF_ABSENT);

    Delta delta = new Delta(T, Duration.ofMinutes(5), Map.of("a", "1", "b", 2L), List.of("c"));
    Request parsed = ClusterMessages.parse(ClusterMessages.delta(ID, delta));
    assertThat(parsed.id()).isEqualTo(ID);
    assertThat(parsed.delta()).isEqualTo(delta);

    assertThat(ClusterMessages.parse(ClusterMessages.get(ID))).isEqualTo(new Request(ClusterMessages.GET, ID, null, null));
    assertThat(ClusterMessages.parse(ClusterMessages.delete(ID)).op()).isEqualTo(ClusterMessages.DELETE);
    assertThat(ClusterMessages.parseSession(ClusterMessages.session(SESSION))).isEqualTo(SESSION);
    assertThat(ClusterMessages.parseSession(ClusterMessages.session(null))).isNull();
  }

  @Test
  void malformedMessagesAreRejectedWithWhatWasWrong() {
    byte[] whole = ClusterMessages.put(SESSION, false);
    assertThatThrownBy(() -> ClusterMessages.parse(java.util.Arrays.copyOf(whole, whole.length - 3)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("truncated");
    assertThatThrownBy(() -> ClusterMessages.parse(java.util.Arrays.copyOf(whole, whole.length + 1)))
        .hasMessage("cluster message: 1 bytes after its end (expected: none)");
    assertThatThrownBy(() -> ClusterMessages.parse(new byte[] {9}))
        .hasMessage("cluster message: operation 9 (expected: 1..6)");
    byte[] huge = ByteBuffer.allocate(5).put(ClusterMessages.GET).putInt(Integer.MAX_VALUE).array();
    assertThatThrownBy(() -> ClusterMessages.parse(huge))
        .hasMessage("cluster message: string of 2147483647 bytes (expected: 0..1048576)");
  }

  @Test
  void anyCorruptionOfAMessageIsAnIllegalArgumentOrAnotherValidMessage() {
    byte[] whole = ClusterMessages.put(SESSION, false);
    Random random = new Random(42);
    for (int i = 0; i < 20_000; i++) {
      byte[] corrupt = whole.clone();
      int flips = 1 + random.nextInt(4);
      for (int f = 0; f < flips; f++) {
        corrupt[random.nextInt(corrupt.length)] = (byte) random.nextInt(256);
      }
      byte[] input = random.nextBoolean() ? corrupt : java.util.Arrays.copyOf(corrupt, random.nextInt(corrupt.length + 1));
      try {
        ClusterMessages.parse(input);
      } catch (IllegalArgumentException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    }
  }
}
