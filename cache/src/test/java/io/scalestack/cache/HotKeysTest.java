package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.cache.CacheTestSupport.TestClock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The hottest keys are found, pinned in L1 and refreshed ahead of their L1 expiry. */
class HotKeysTest {

  @Test
  void theHottestKeyIsPinnedInL1AndSurvivesAFloodOfColdKeys() {
    try (TieredCache<String> cache = CacheTestSupport.cache("hot").l1MaxEntries(20).hotKeys(4).build()) {
      for (int i = 0; i < 2_000; i++) {
        cache.get("celebrity", key -> "popular");
        cache.get("user:" + i, key -> "nobody");
      }
      assertThat(cache.hotKeys()).first().isEqualTo("celebrity");
      assertThat(cache.hotKeys()).noneMatch(key -> key.startsWith("user:"));
      assertThat(cache.pinnedInL1("celebrity")).isTrue();

      for (int i = 2_000; i < 4_000; i++) {
        cache.get("user:" + i, key -> "nobody");
      }
      assertThat(cache.peekL1("celebrity")).isEqualTo("popular");
    }
  }

  @Test
  void aPinnedKeyIsRefreshedBeforeItsL1EntryExpires() {
    TestClock clock = new TestClock();
    AtomicInteger loads = new AtomicInteger();
    try (TieredCache<String> cache = CacheTestSupport.cache("hot-refresh").clock(clock).hotKeys(4)
        .ttl(Duration.ofMinutes(5)).l1Ttl(Duration.ofSeconds(10)).build()) {
      for (int i = 0; i < 100; i++) {
        cache.get("celebrity", key -> "v" + loads.incrementAndGet());
      }
      assertThat(cache.pinnedInL1("celebrity")).isTrue();

      clock.advance(8_000); // past three quarters of the L1 entry's 10 s
      cache.get("celebrity", key -> "v" + loads.incrementAndGet());
      clock.advance(3_000); // the old entry would have expired by now
      await().atMost(Duration.ofSeconds(5)).until(() -> cache.peekL1("celebrity") != null);
      assertThat(cache.peekL1("celebrity")).isEqualTo("v1");
      assertThat(loads).as("refreshed from Redis, whose value has minutes left").hasValue(1);
    }
  }
}
