package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scalestack.cache.CacheTestSupport.RedisPeek;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The lease of a server that never fills expires, and another server loads. */
class LeaseTest {

  @Test
  void aLeaseWhoseHolderNeverFillsExpiresAfterLeaseTimeoutAndAnotherServerLoadsTheKey() throws Exception {
    String name = CacheTestSupport.unique("lease");
    SimpleMeterRegistry holderMeters = new SimpleMeterRegistry();
    SimpleMeterRegistry otherMeters = new SimpleMeterRegistry();
    CountDownLatch holderStuck = new CountDownLatch(1);
    AtomicInteger otherLoads = new AtomicInteger();
    try (RedisPeek peek = new RedisPeek(); TieredCache<String> holder = server(name, holderMeters);
        TieredCache<String> other = server(name, otherMeters); ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<String> stuck = threads.submit(() -> holder.get("k", key -> {
        holderStuck.await();
        return "from-holder";
      }));
      await().atMost(Duration.ofSeconds(5)).until(() -> peek.redis.exists(holder.redisLeaseKey("k")) == 1);

      long leaseLeftMillis = peek.redis.pttl(holder.redisLeaseKey("k"));
      long started = System.nanoTime();
      String value = other.get("k", key -> {
        otherLoads.incrementAndGet();
        return "from-other";
      });
      long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

      assertThat(value).isEqualTo("from-other");
      assertThat(otherLoads).hasValue(1);
      assertThat(waitedMillis).as("waited for the lease to expire").isBetween(leaseLeftMillis - 20, 5_000L);
      assertThat(otherMeters.get("scalestack_cache_lease_waits").counter().count()).isEqualTo(1);

      holderStuck.countDown();
      assertThat(stuck.get(5, TimeUnit.SECONDS)).isEqualTo("from-holder");
      // the late holder's fill was refused: its lease was gone
      assertThat(peek.value(other, "k")).isEqualTo("from-other");
      assertThat(holder.peekL1("k")).isNull();
      assertThat(holderMeters.get("scalestack_cache_fills_rejected").counter().count()).isEqualTo(1);
    }
  }

  @Test
  void aFailedLoadGivesItsLeaseBackSoTheNextReaderLoadsAtOnce() throws Exception {
    String name = CacheTestSupport.unique("lease-fail");
    CountDownLatch failing = new CountDownLatch(1);
    CountDownLatch fail = new CountDownLatch(1);
    SimpleMeterRegistry bMeters = new SimpleMeterRegistry();
    try (RedisPeek peek = new RedisPeek(); TieredCache<String> a = server(name, new SimpleMeterRegistry());
        TieredCache<String> b = server(name, bMeters); ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      Loader<String> broken = key -> {
        failing.countDown();
        fail.await();
        throw new java.sql.SQLException("connection reset");
      };
      Future<String> first = threads.submit(() -> a.get("k", broken));
      assertThat(failing.await(5, TimeUnit.SECONDS)).isTrue();
      // joins the failing flight, or (if it comes late) fails alike
      Future<String> joined = threads.submit(() -> a.get("k", key -> {
        throw new java.sql.SQLException("connection reset");
      }));
      fail.countDown();

      for (Future<String> future : java.util.List.of(first, joined)) {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> future.get(5, TimeUnit.SECONDS))
            .hasCauseInstanceOf(CacheLoadException.class).cause().hasCauseInstanceOf(java.sql.SQLException.class);
      }
      assertThat(peek.redis.exists(a.redisLeaseKey("k"))).as("the lease, given back").isZero();
      assertThat(b.get("k", key -> "loaded")).isEqualTo("loaded");
      assertThat(bMeters.get("scalestack_cache_lease_waits").counter().count()).as("no wait for the lease").isZero();
    }
  }

  private static TieredCache<String> server(String name, SimpleMeterRegistry registry) {
    return TieredCache.builder(CacheCodec.utf8()).name(name).redis(TestEngines.redis().uri())
        .leaseTimeout(Duration.ofMillis(500)).meterRegistry(registry).build();
  }
}
