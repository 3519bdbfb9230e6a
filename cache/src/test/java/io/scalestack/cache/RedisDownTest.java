package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.scalestack.engines.RedisServer;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cache whose Redis is away still serves every read. */
class RedisDownTest {

  @TempDir
  Path dir;

  private final AtomicInteger loads = new AtomicInteger();
  private final AtomicReference<String> database = new AtomicReference<>("v1");

  private String load(String key) {
    loads.incrementAndGet();
    return key + "=" + database.get();
  }

  @Test
  void aCacheThatCannotReachRedisServesReadsFromTheLoaderAndItsL1() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // nothing listens there once closed
    }
    try (TieredCache<String> cache = TieredCache.builder(CacheCodec.utf8()).name(CacheTestSupport.unique("down"))
        .redis("redis://127.0.0.1:" + port).build()) {
      assertThat(cache.get("k", this::load)).isEqualTo("k=v1");
      assertThat(cache.get("k", this::load)).isEqualTo("k=v1");
      assertThat(loads).as("the second read from L1").hasValue(1);

      database.set("v2");
      cache.invalidate("k");
      assertThat(cache.pendingInvalidations()).isEqualTo(1);
      assertThat(cache.get("k", this::load)).isEqualTo("k=v2");
      assertThat(loads).hasValue(2);
    }
  }

  @Test
  void readsAreServedWhileRedisIsDownAndInvalidationsOfTheOutageReachRedisWhenItIsBack() {
    RedisServer server = RedisServer.builder().port(0).dataDirectory(dir.resolve("redis"))
        .engineCache(dir.resolve("engines")).build().start();
    try (TieredCache<String> cache = TieredCache.builder(CacheCodec.utf8()).name(CacheTestSupport.unique("outage"))
        .redis(server.uri()).redisTimeout(Duration.ofMillis(300)).build()) {
      assertThat(cache.get("k1", this::load)).isEqualTo("k1=v1");
      assertThat(storedValue(server, cache, "k1")).isNotNull();

      server.close();
      long started = System.nanoTime();
      assertThat(cache.get("k2", this::load)).isEqualTo("k2=v1");
      assertThat(cache.get("k1", this::load)).isEqualTo("k1=v1"); // L1
      assertThat(loads).hasValue(2);
      database.set("v2");
      cache.invalidate("k1");
      assertThat(cache.get("k1", this::load)).isEqualTo("k1=v2");
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(3));
      assertThat(cache.pendingInvalidations()).isEqualTo(1);

      server.start(); // same port, same data: Redis still holds k1=v1 from before the outage
      // a probe a second notices Redis is back and sends the invalidation
      await().atMost(Duration.ofSeconds(10)).until(() -> cache.pendingInvalidations() == 0);
      assertThat(storedValue(server, cache, "k1")).isNull();
      assertThat(cache.get("k1", this::load)).isEqualTo("k1=v2");
      await().atMost(Duration.ofSeconds(5)).until(() -> storedValue(server, cache, "k1") != null);
    } finally {
      server.close();
    }
  }

  private static String storedValue(RedisServer server, TieredCache<String> cache, String key) {
    RedisClient client = RedisClient.create(server.uri());
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      return connection.sync().get(cache.redisValueKey(key));
    } finally {
      client.shutdown();
    }
  }
}
