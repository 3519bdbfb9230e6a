package io.scalestack.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scalestack.cache.CacheTestSupport.RedisPeek;
import io.scalestack.cache.CacheTestSupport.Table;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The stale-set race: a reader misses and reads the database, a writer commits a new value and
 * invalidates, then the reader fills. Forced thousands of times with a loader that waits on a latch
 * after its SELECT, the reader alternating between the writer's server and another one.
 */
class StaleSetRaceTest {

  private static final int ITERATIONS = 2_000;

  @Test
  void aFillAfterAnInvalidationLeavesTheOldValueInNoCacheThousandsOfTimes() throws Exception {
    SimpleMeterRegistry writerMeters = new SimpleMeterRegistry();
    SimpleMeterRegistry otherMeters = new SimpleMeterRegistry();
    String name = CacheTestSupport.unique("race");
    String key = "profile:7";
    try (Table table = new Table(4); RedisPeek peek = new RedisPeek();
        TieredCache<String> writerServer = server(name, writerMeters); TieredCache<String> otherServer = server(name, otherMeters);
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      table.put(key, "0");
      for (int i = 0; i < ITERATIONS; i++) {
        String old = Integer.toString(i);
        String current = Integer.toString(i + 1);
        TieredCache<String> reader = i % 2 == 0 ? otherServer : writerServer;
        CountDownLatch selected = new CountDownLatch(1);
        CountDownLatch fill = new CountDownLatch(1);
        Future<String> read = threads.submit(() -> reader.get(key, k -> {
          String value = table.load(k, 0);
          selected.countDown();
          fill.await();
          return value;
        }));
        assertThat(selected.await(10, TimeUnit.SECONDS)).as("iteration %d: the reader loads", i).isTrue();

        table.put(key, current); // the write commits
        long otherSeen = otherServer.invalidationsReceived();
        writerServer.invalidate(key); // after the commit; the writer's own L1 is dropped by the call
        // the other server has had the message before the reader fills: the hard case for L1
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10))
            .until(() -> otherServer.invalidationsReceived() > otherSeen);
        fill.countDown();

        assertThat(read.get(10, TimeUnit.SECONDS)).as("iteration %d: the reader's own answer", i).isEqualTo(old);
        assertThat(peek.value(writerServer, key)).as("iteration %d: Redis", i).isNotEqualTo(old);
        assertThat(writerServer.peekL1(key)).as("iteration %d: the writer's L1", i).isNotEqualTo(old);
        assertThat(otherServer.peekL1(key)).as("iteration %d: the other server's L1", i).isNotEqualTo(old);
      }

      String last = Integer.toString(ITERATIONS);
      assertThat(otherServer.get(key, k -> table.load(k, 0))).isEqualTo(last);
      assertThat(writerServer.get(key, k -> table.load(k, 0))).isEqualTo(last);
      assertThat(peek.value(writerServer, key)).isEqualTo(last);
      // every one of the fills was refused: the race happened each time
      assertThat(writerMeters.get("scalestack_cache_fills_rejected").counter().count()
          + otherMeters.get("scalestack_cache_fills_rejected").counter().count()).isEqualTo(ITERATIONS);
    }
  }

  @Test
  void anL1PutAfterAnInvalidationMessageNeverResurrectsTheValueReadFromRedisBeforeIt() throws Exception {
    String name = CacheTestSupport.unique("race-l1");
    String key = "profile:8";
    GatedCodec gated = new GatedCodec();
    try (Table table = new Table(4); RedisPeek peek = new RedisPeek(); TieredCache<String> writerServer = server(name, null);
        TieredCache<String> readerServer = TieredCache.builder(gated).name(name).redis(TestEngines.redis().uri()).build();
        ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < ITERATIONS / 2; i++) {
        String old = Integer.toString(i);
        table.put(key, old);
        assertThat(writerServer.get(key, k -> table.load(k, 0))).isEqualTo(old); // Redis holds it
        CountDownLatch decoding = new CountDownLatch(1);
        CountDownLatch decode = new CountDownLatch(1);
        gated.arm(decoding, decode);
        // the reader hits Redis, then stops between that read and its L1 put (in the codec)
        Future<String> read = threads.submit(() -> readerServer.get(key, k -> table.load(k, 0)));
        assertThat(decoding.await(10, TimeUnit.SECONDS)).as("iteration %d: the reader read Redis", i).isTrue();

        table.put(key, Integer.toString(i + 1));
        long seen = readerServer.invalidationsReceived();
        writerServer.invalidate(key);
        await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).atMost(Duration.ofSeconds(10))
            .until(() -> readerServer.invalidationsReceived() > seen);
        decode.countDown();

        assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(old);
        assertThat(readerServer.peekL1(key)).as("iteration %d: the reader's L1", i).isNotEqualTo(old);
        assertThat(peek.value(writerServer, key)).as("iteration %d: Redis", i).isNotEqualTo(old);
      }
      assertThat(readerServer.get(key, k -> table.load(k, 0))).isEqualTo(Integer.toString(ITERATIONS / 2));
    }
  }

  /** UTF-8, but an armed decode tells the test it started and waits for its go. */
  private static final class GatedCodec implements CacheCodec<String> {
    private volatile CountDownLatch decoding;
    private volatile CountDownLatch decode;

    void arm(CountDownLatch decoding, CountDownLatch decode) {
      this.decode = decode;
      this.decoding = decoding;
    }

    @Override
    public byte[] encode(String value) {
      return CacheCodec.utf8().encode(value);
    }

    @Override
    public String decode(byte[] bytes) {
      CountDownLatch started = decoding;
      if (started != null) {
        decoding = null;
        started.countDown();
        try {
          decode.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      return CacheCodec.utf8().decode(bytes);
    }
  }

  private static TieredCache<String> server(String name, SimpleMeterRegistry registry) {
    TieredCache.Builder<String> builder = TieredCache.builder(CacheCodec.utf8()).name(name).redis(TestEngines.redis().uri());
    if (registry != null) {
      builder.meterRegistry(registry);
    }
    return builder.build();
  }
}
