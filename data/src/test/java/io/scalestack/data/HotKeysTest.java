package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HotKeysTest {

  private final SnowflakeIdsTest.ManualClock clock = new SnowflakeIdsTest.ManualClock(Instant.parse("2026-12-06T10:00:00Z"));

  @Test
  void aUserGettingHalfOfAllReadsIsHotWithinASecondAndNobodyElseIs() {
    HotKeys hot = HotKeys.builder().clock(clock).build();
    SplittableRandom random = new SplittableRandom(1);
    long celebrity = 4242;
    long detectedAfterMillis = -1;
    // 2,000 reads/s for 3 s of simulated time: half of them for the celebrity, the rest over 100,000 users
    for (int ms = 0; ms < 3000; ms++) {
      clock.millis.incrementAndGet();
      for (int i = 0; i < 2; i++) {
        hot.record(i == 0 ? celebrity : random.nextLong(100_000));
      }
      if (detectedAfterMillis < 0 && hot.isHot(celebrity)) {
        detectedAfterMillis = ms + 1;
      }
    }

    assertThat(detectedAfterMillis).isBetween(1L, 1000L);
    assertThat(hot.hottest().get(0).key()).isEqualTo(celebrity);
    assertThat(hot.hottest().get(0).share()).isBetween(0.45, 0.55);
    for (long user = 0; user < 100_000; user += 97) {
      assertThat(hot.isHot(user)).as("user %d", user).isFalse();
    }
  }

  @Test
  void aKeyThatCoolsDownStopsBeingHot() {
    HotKeys hot = HotKeys.builder().clock(clock).halfLife(Duration.ofMillis(500)).build();
    for (int i = 0; i < 1000; i++) {
      hot.record(7);
    }
    assertThat(hot.isHot(7)).isTrue();
    SplittableRandom random = new SplittableRandom(2);
    for (int ms = 0; ms < 3000; ms++) {
      clock.millis.incrementAndGet();
      hot.record(1_000 + random.nextLong(50_000));
    }
    assertThat(hot.isHot(7)).isFalse();
    assertThat(hot.estimate(7)).isLessThan(20);
  }

  @Test
  void anEstimateIsNeverBelowTheTrueCount() {
    HotKeys hot = HotKeys.builder().clock(clock).width(64).build(); // narrow: many collisions
    for (long key = 0; key < 1000; key++) {
      for (int i = 0; i <= key % 5; i++) {
        hot.record(key);
      }
    }
    for (long key = 0; key < 1000; key++) {
      assertThat(hot.estimate(key)).isGreaterThanOrEqualTo(key % 5 + 1);
    }
  }

  @Test
  void rejectsSettingsThatCannotWork() {
    assertThatThrownBy(() -> HotKeys.builder().hotShare(0)).hasMessage("hotShare: 0.0 (expected: > 0 and <= 1)");
    assertThatThrownBy(() -> HotKeys.builder().width(8)).hasMessage("width: 8 (expected: 16..16777216)");
    assertThatThrownBy(() -> HotKeys.builder().halfLife(Duration.ZERO))
        .hasMessage("halfLife: PT0S (expected: >= 1 ms)");
  }
}
