package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;

import io.scalestack.cache.CacheTestSupport.Table;
import io.scalestack.cache.CacheTestSupport.TestClock;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The thundering herd: 1,000 concurrent requests from three web servers (three caches, each with
 * its own L1 and Redis connections, on one Redis) for one key, loaded by a 50 ms SELECT.
 */
class StampedeTest {

  private static final int REQUESTS = 1_000;

  @Test
  void aThousandRequestsFromThreeServersForAKeyNotCachedCauseExactlyOneDatabaseLoad() throws Exception {
    try (Table table = new Table(4)) {
      table.put("user:1", "alice");
      List<TieredCache<String>> servers = servers(CacheTestSupport.unique("stampede"), null);
      try {
        List<String> results = stampede(servers, "user:1", key -> table.load(key, 0.05));

        assertThat(table.loads).hasValue(1);
        assertThat(results).hasSize(REQUESTS).containsOnly("alice");
      } finally {
        servers.forEach(TieredCache::close);
      }
    }
  }

  @Test
  void aThousandRequestsFromThreeServersForAnExpiredKeyCauseExactlyOneLoadAndTheOthersGetTheStaleValue()
      throws Exception {
    try (Table table = new Table(4)) {
      TestClock clock = new TestClock();
      table.put("user:2", "old");
      List<TieredCache<String>> servers = servers(CacheTestSupport.unique("stampede"), clock);
      try {
        assertThat(servers.get(0).get("user:2", key -> table.load(key, 0))).isEqualTo("old");
        for (TieredCache<String> server : servers) {
          assertThat(server.get("user:2", key -> table.load(key, 0))).isEqualTo("old"); // in each L1
        }
        table.put("user:2", "new");
        clock.advance(Duration.ofSeconds(61).toMillis()); // past the TTL of Redis's value and of every L1 entry
        table.loads.set(0);

        List<String> results = stampede(servers, "user:2", key -> table.load(key, 0.05));

        assertThat(table.loads).hasValue(1);
        assertThat(results).hasSize(REQUESTS).containsOnly("old", "new");
        for (TieredCache<String> server : servers) {
          assertThat(server.get("user:2", key -> table.load(key, 0))).isEqualTo("new");
        }
        assertThat(table.loads).hasValue(1);
      } finally {
        servers.forEach(TieredCache::close);
      }
    }
  }

  private static List<TieredCache<String>> servers(String name, TestClock clock) {
    List<TieredCache<String>> servers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      TieredCache.Builder<String> builder = TieredCache.builder(CacheCodec.utf8()).name(name)
          .redis(TestEngines.redis().uri()).ttl(Duration.ofMinutes(1)).ttlJitter(0).l1Ttl(Duration.ofMinutes(1));
      if (clock != null) {
        builder.clock(clock);
      }
      servers.add(builder.build());
    }
    return servers;
  }

  /** {@value #REQUESTS} virtual threads, released together, spread over the servers. */
  private static List<String> stampede(List<TieredCache<String>> servers, String key, Loader<String> loader) throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Future<String>> futures = new ArrayList<>();
    List<String> results = new ArrayList<>();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < REQUESTS; i++) {
        TieredCache<String> server = servers.get(i % servers.size());
        futures.add(threads.submit(() -> {
          start.await();
          return server.get(key, loader);
        }));
      }
      start.countDown();
      for (Future<String> future : futures) {
        results.add(future.get(30, TimeUnit.SECONDS));
      }
    }
    return results;
  }
}
