package io.scalestack.session.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class NearCacheTest {

  private final AtomicLong nanos = new AtomicLong();
  private final NearCache cache = new NearCache(100, 1_000, nanos::get);

  @Test
  void servesWhatWasInstalled() {
    long generation = cache.begin("k");

    assertThat(cache.install("k", generation, Map.of("f", "1"), 1)).isTrue();
    assertThat(cache.get("k")).containsEntry("f", "1");
  }

  @Test
  void refusesAReplyWhoseKeyWasInvalidatedWhileItWasInFlight() {
    long generation = cache.begin("k");
    cache.invalidate("k"); // Redis's push overtook the reply

    assertThat(cache.install("k", generation, Map.of("f", "old"), 1)).isFalse();
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void theHigherVersionWinsWhateverOrderRepliesArriveIn() {
    long first = cache.begin("k");
    long second = cache.begin("k");

    assertThat(cache.install("k", second, Map.of("f", "2"), 2)).isTrue();
    assertThat(cache.install("k", first, Map.of("f", "1"), 1)).isFalse();
    assertThat(cache.get("k")).containsEntry("f", "2");
  }

  @Test
  void clearDropsCopiesAndRepliesInFlight() {
    cache.install("a", cache.begin("a"), Map.of("f", "1"), 1);
    long inFlight = cache.begin("b");

    cache.clear();

    assertThat(cache.get("a")).isNull();
    assertThat(cache.install("b", inFlight, Map.of("f", "1"), 1)).isFalse();
  }

  @Test
  void aReplyForAnEvictedKeyIsInstalledOnlyIfNothingWasInvalidatedSince() {
    NearCache tiny = new NearCache(1, 1_000, nanos::get);
    long a = tiny.begin("a");
    tiny.begin("b"); // evicts a
    tiny.invalidate("c");

    assertThat(tiny.install("a", a, Map.of("f", "1"), 1)).isFalse();
    assertThat(tiny.size()).isLessThanOrEqualTo(1);
  }

  @Test
  void aCopyIsNotServedOnceItIsOlderThanTheMaxAge() {
    cache.install("k", cache.begin("k"), Map.of("f", "1"), 1);

    nanos.addAndGet(999);
    assertThat(cache.get("k")).isNotNull();
    nanos.addAndGet(1);
    assertThat(cache.get("k")).isNull();
  }

  @Test
  void aCopyOlderThanTheMaxAgeIsServedAgainOnceReadAgainAtTheSameVersion() {
    cache.install("k", cache.begin("k"), Map.of("f", "1"), 1);
    nanos.addAndGet(1_000);
    assertThat(cache.get("k")).isNull();

    assertThat(cache.install("k", cache.begin("k"), Map.of("f", "1"), 1)).isTrue();
    assertThat(cache.get("k")).containsEntry("f", "1");
  }

  @Test
  void staysWithinItsBound() {
    for (int i = 0; i < 1_000; i++) {
      cache.install("k" + i, cache.begin("k" + i), Map.of(), 1);
    }

    assertThat(cache.size()).isLessThanOrEqualTo(100);
  }

  @Test
  void rejectsABadBoundOrMaxAge() {
    assertThatThrownBy(() -> new NearCache(0, 1, System::nanoTime))
        .hasMessage("maxEntries: 0 (expected: > 0)");
    assertThatThrownBy(() -> new NearCache(1, 0, System::nanoTime))
        .hasMessage("maxAgeNanos: 0 (expected: > 0)");
  }
}
