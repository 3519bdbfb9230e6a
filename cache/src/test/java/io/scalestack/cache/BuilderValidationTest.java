package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Every setting is checked where it is given, with a message naming it, its value and what was expected. */
class BuilderValidationTest {

  private final TieredCache.Builder<String> builder = TieredCache.builder(CacheCodec.utf8());

  @Test
  void durationsMustBePositive() {
    assertThatThrownBy(() -> builder.ttl(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ttl: PT0S (expected: > 0)");
    assertThatThrownBy(() -> builder.l1Ttl(Duration.ofSeconds(-1))).hasMessage("l1Ttl: PT-1S (expected: > 0)");
    assertThatThrownBy(() -> builder.leaseTimeout(Duration.ZERO)).hasMessage("leaseTimeout: PT0S (expected: > 0)");
    assertThatThrownBy(() -> builder.redisTimeout(Duration.ZERO)).hasMessage("redisTimeout: PT0S (expected: > 0)");
    assertThatThrownBy(() -> builder.staleGrace(Duration.ofMillis(-1)))
        .hasMessage("staleGrace: PT-0.001S (expected: >= 0)");
    assertThatThrownBy(() -> builder.ttl(null)).isInstanceOf(NullPointerException.class).hasMessage("ttl");
  }

  @Test
  void numbersMustBeInRange() {
    assertThatThrownBy(() -> builder.ttlJitter(1.0)).hasMessage("ttlJitter: 1.0 (expected: 0 <= ttlJitter < 1)");
    assertThatThrownBy(() -> builder.ttlJitter(Double.NaN)).hasMessage("ttlJitter: NaN (expected: 0 <= ttlJitter < 1)");
    assertThatThrownBy(() -> builder.l1MaxEntries(0)).hasMessage("l1MaxEntries: 0 (expected: >= 1)");
    assertThatThrownBy(() -> builder.earlyRefresh(-0.5)).hasMessage("earlyRefresh: -0.5 (expected: 0..100)");
    assertThatThrownBy(() -> builder.hotKeys(-1)).hasMessage("hotKeys: -1 (expected: 0..1000)");
  }

  @Test
  void nameAndRedisAreCheckedAndRequired() {
    assertThatThrownBy(() -> builder.name("Profiles!")).hasMessage(
        "name: 'Profiles!' (expected: a lower-case letter or digit, then up to 62 of them or . _ -)");
    assertThatThrownBy(() -> builder.redis("http://nowhere")).hasMessage("redis: 'http://nowhere' (expected: redis://host:port)");
    assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class)
        .hasMessage("name: not set (expected: a cache name such as profiles)");
    builder.name("profiles");
    assertThatThrownBy(builder::build).hasMessage("redis: not set (expected: redis://host:port or a RedisClient)");
    builder.redis("redis://127.0.0.1:1").ttl(Duration.ofSeconds(10)).l1Ttl(Duration.ofSeconds(20));
    assertThatThrownBy(builder::build).hasMessage("l1Ttl: PT20S (expected: <= ttl PT10S)");
  }

  @Test
  void aShortTtlNeedsNoL1TtlOfItsOwn() {
    try (TieredCache<String> cache = TieredCache.builder(CacheCodec.utf8()).name("short").redis("redis://127.0.0.1:1")
        .ttl(Duration.ofSeconds(5)).build()) {
      org.assertj.core.api.Assertions.assertThat(cache.name()).isEqualTo("short");
    }
  }
}
