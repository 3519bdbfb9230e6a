package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.cache.CacheTestSupport.Table;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** L1s of different servers stay coherent through the invalidation channel. */
class CoherenceTest {

  @Test
  void anInvalidationOnOneServerDropsTheKeyFromAnotherServersL1() throws Exception {
    String name = CacheTestSupport.unique("coherence");
    try (Table table = new Table(2); TieredCache<String> a = server(name); TieredCache<String> b = server(name)) {
      table.put("photo:1", "v1");
      assertThat(a.get("photo:1", k -> table.load(k, 0))).isEqualTo("v1");
      assertThat(b.get("photo:1", k -> table.load(k, 0))).isEqualTo("v1");
      assertThat(b.peekL1("photo:1")).isEqualTo("v1");

      table.put("photo:1", "v2");
      a.invalidate("photo:1");

      await().atMost(Duration.ofSeconds(5)).until(() -> b.peekL1("photo:1") == null);
      assertThat(b.get("photo:1", k -> table.load(k, 0))).isEqualTo("v2");
      assertThat(a.get("photo:1", k -> table.load(k, 0))).isEqualTo("v2");
      assertThat(table.loads).hasValue(2);
    }
  }

  @Test
  void aBrokenInvalidationChannelClearsL1WhenItReconnectsForTheMessagesItMayHaveMissed() throws Exception {
    String name = CacheTestSupport.unique("reconnect");
    try (TieredCache<String> cache = server(name); CacheTestSupport.RedisPeek peek = new CacheTestSupport.RedisPeek()) {
      cache.get("k", k -> "v");
      assertThat(cache.peekL1("k")).isEqualTo("v");

      // the test Redis belongs to this JVM's tests; they run one after another
      peek.redis.clientKill(io.lettuce.core.KillArgs.Builder.typePubsub());

      await().atMost(Duration.ofSeconds(10)).until(() -> cache.peekL1("k") == null);
      assertThat(cache.get("k", k -> "reloaded")).as("from Redis, which the break did not touch").isEqualTo("v");
    }
  }

  @Test
  void anL1EntryLivesAtMostL1TtlSoALostMessageIsBounded() {
    CacheTestSupport.TestClock clock = new CacheTestSupport.TestClock();
    try (TieredCache<String> cache = TieredCache.builder(CacheCodec.utf8()).name(CacheTestSupport.unique("l1ttl"))
        .redis(TestEngines.redis().uri()).clock(clock).ttl(Duration.ofMinutes(5)).l1Ttl(Duration.ofSeconds(10))
        .build()) {
      cache.get("k", k -> "v");
      clock.advance(9_999);
      assertThat(cache.peekL1("k")).isEqualTo("v");
      clock.advance(1);
      assertThat(cache.peekL1("k")).isNull();
    }
  }

  private static TieredCache<String> server(String name) {
    return TieredCache.builder(CacheCodec.utf8()).name(name).redis(TestEngines.redis().uri()).build();
  }
}
