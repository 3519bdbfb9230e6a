package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scalestack.engines.testing.TestEngines;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/** Requests by tier and result, loads, load time and invalidations, tagged with the cache's name. */
class MetricsTest {

  @Test
  void requestsLoadsAndInvalidationsAreCountedByCacheName() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    String name = CacheTestSupport.unique("metrics");
    try (TieredCache<String> a = TieredCache.builder(CacheCodec.utf8()).name(name).redis(TestEngines.redis().uri())
        .meterRegistry(registry).build()) {
      a.get("k", key -> "v"); // L1 miss, L2 miss, load
      a.get("k", key -> "v"); // L1 hit
      a.invalidate("k");
      a.get("k", key -> "v"); // L1 miss, L2 miss, load
      a.invalidate("k");
      a.get("k", key -> "v"); // and once more
      assertThatThrownBy(() -> a.get("bad", key -> {
        throw new IOException("database down");
      })).isInstanceOf(CacheLoadException.class).hasMessage("cache " + name + ": loading bad failed")
          .hasCauseInstanceOf(IOException.class);

      assertThat(count(registry, "scalestack_cache_requests", name, "l1", "hit")).isEqualTo(1);
      assertThat(count(registry, "scalestack_cache_requests", name, "l1", "miss")).isEqualTo(4);
      assertThat(count(registry, "scalestack_cache_requests", name, "l2", "miss")).isEqualTo(4);
      assertThat(registry.get("scalestack_cache_loads").tag("cache", name).tag("result", "success").counter().count())
          .isEqualTo(3);
      assertThat(registry.get("scalestack_cache_loads").tag("cache", name).tag("result", "failure").counter().count())
          .isEqualTo(1);
      assertThat(registry.get("scalestack_cache_load").tag("cache", name).timer().count()).isEqualTo(4);
      assertThat(registry.get("scalestack_cache_invalidations").tag("cache", name).counter().count()).isEqualTo(2);
      assertThat(registry.get("scalestack_cache_l1_entries").tag("cache", name).gauge().value()).isEqualTo(1);
    }
    assertThat(registry.find("scalestack_cache_requests").meters()).as("removed by close").isEmpty();
  }

  private static double count(SimpleMeterRegistry registry, String meter, String cache, String tier, String result) {
    return registry.get(meter).tag("cache", cache).tag("tier", tier).tag("result", result).counter().count();
  }
}
