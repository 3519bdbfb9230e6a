package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.cache.CacheTestSupport.RedisPeek;
import io.scalestack.cache.CacheTestSupport.TestClock;
import io.scalestack.cache.internal.Envelope;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** TTL jitter and XFetch early refresh, under a clock the test moves. */
class ExpiryTest {

  private final TestClock clock = new TestClock();
  private final AtomicInteger loads = new AtomicInteger();
  private final CountDownLatch refreshMayFinish = new CountDownLatch(1);

  /** The first load takes a second (delta = 1 s); the next ones wait for the test's go, then answer v2. */
  private String load(String key) throws InterruptedException {
    if (loads.incrementAndGet() == 1) {
      clock.advance(1_000);
      return "v1";
    }
    refreshMayFinish.await();
    return "v2";
  }

  private TieredCache<String> cache(double beta) {
    return CacheTestSupport.cache("expiry").clock(clock).ttl(Duration.ofMinutes(1)).ttlJitter(0)
        .l1Ttl(Duration.ofMinutes(1)).earlyRefresh(beta).hotKeys(0).build();
  }

  @Test
  void aValueCloseToItsExpiryIsRefreshedOnceInTheBackgroundWhileReadersKeepGettingTheCurrentValue()
      throws Exception {
    try (TieredCache<String> cache = cache(1.0); ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      assertThat(cache.get("k", this::load)).isEqualTo("v1");
      clock.advance(60_000 - 5); // 5 ms before expiry, delta 1 s: each read refreshes with p = e^(-5/1000)

      for (int i = 0; i < 200; i++) {
        // a read never waits for the refresh (which is blocked until the test lets it finish)
        assertThat(threads.submit(() -> cache.get("k", this::load)).get(5, TimeUnit.SECONDS)).isEqualTo("v1");
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> loads.get() == 2);
      assertThat(loads).as("one refresh, however many reads saw the value due").hasValue(2);

      refreshMayFinish.countDown();
      await().atMost(Duration.ofSeconds(5)).until(() -> "v2".equals(cache.get("k", this::load)));
      assertThat(loads).hasValue(2);
    }
  }

  @Test
  void withEarlyRefreshOffOrFarFromExpiryNoReadRefreshes() {
    try (TieredCache<String> off = cache(0); TieredCache<String> on = cache(1.0)) {
      assertThat(off.get("k", this::load)).isEqualTo("v1");
      clock.advance(60_000 - 5);
      for (int i = 0; i < 1_000; i++) {
        assertThat(off.get("k", this::load)).isEqualTo("v1");
      }
      assertThat(loads).as("beta 0: no early refresh, even 5 ms before expiry").hasValue(1);

      AtomicInteger slowLoads = new AtomicInteger();
      Loader<String> slow = key -> {
        slowLoads.incrementAndGet();
        clock.advance(1_000);
        return "s";
      };
      assertThat(on.get("slow", slow)).isEqualTo("s");
      for (int i = 0; i < 1_000; i++) {
        assertThat(on.get("slow", slow)).isEqualTo("s");
      }
      assertThat(slowLoads).as("60 s before expiry with delta 1 s: p = e^-60 per read").hasValue(1);
    }
  }

  @Test
  void ttlsAreJitteredWithinTtlTimesOneMinusTheJitterAndTtl() {
    try (RedisPeek peek = new RedisPeek(); TieredCache<String> cache = CacheTestSupport.cache("jitter").clock(clock)
        .ttl(Duration.ofSeconds(100)).ttlJitter(0.25).l1Ttl(Duration.ofSeconds(10))
        .staleGrace(Duration.ofSeconds(30)).build()) {
      long min = Long.MAX_VALUE;
      long max = Long.MIN_VALUE;
      for (int i = 0; i < 200; i++) {
        cache.get("k" + i, key -> "v");
        Envelope envelope = peek.envelope(cache, "k" + i);
        long ttl = envelope.expiry() - clock.millis();
        assertThat(ttl).isBetween(75_000L, 100_000L);
        assertThat(peek.redis.pttl(cache.redisValueKey("k" + i))).isBetween(1L, ttl + 30_000);
        min = Math.min(min, ttl);
        max = Math.max(max, ttl);
      }
      assertThat(max - min).as("spread").isGreaterThan(15_000);
    }
  }
}
