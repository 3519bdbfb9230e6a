package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SnowflakeIdsTest {

  /** A clock the test moves by hand; each read may also advance it by {@code stepPerRead} ms. */
  static final class ManualClock extends Clock {
    final AtomicLong millis;

    ManualClock(Instant start) {
      this.millis = new AtomicLong(start.toEpochMilli());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
      return millis.get();
    }
  }

  @Test
  void idsCarryTheirTimeAndWorkerAndALaterMillisecondsIdsAreLarger() {
    ManualClock clock = new ManualClock(Instant.parse("2026-12-06T10:00:00Z"));
    SnowflakeIds ids = SnowflakeIds.builder().workerId(513).clock(clock).build();
    Set<Long> seen = new HashSet<>();
    long largestOfEarlierMillis = 0;
    long largestOfThisMilli = 0;
    for (int i = 0; i < 10_000; i++) {
      if (i % 7 == 0) {
        clock.millis.addAndGet(1);
        largestOfEarlierMillis = Math.max(largestOfEarlierMillis, largestOfThisMilli);
      }
      long id = ids.next();
      assertThat(seen.add(id)).isTrue();
      assertThat(id).isGreaterThan(largestOfEarlierMillis);
      largestOfThisMilli = Math.max(largestOfThisMilli, id);
      assertThat(SnowflakeIds.workerOf(id)).isEqualTo(513);
      assertThat(SnowflakeIds.timestampOf(id)).isEqualTo(clock.instant());
    }
  }

  @Test
  void moreThan4096IdsInOneMillisecondWaitForTheNextMillisecond() throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-12-06T10:00:00Z"));
    SnowflakeIds ids = SnowflakeIds.builder().workerId(1).clock(clock).build();
    Set<Long> seen = new HashSet<>();
    for (int i = 0; i < 4096; i++) {
      assertThat(seen.add(ids.next())).isTrue();
    }
    ExecutorService executor = Executors.newSingleThreadExecutor();
    try {
      Future<Long> next = executor.submit(ids::next);
      Thread.sleep(50);
      assertThat(next).isNotDone(); // the 4,097th id of this millisecond waits
      clock.millis.addAndGet(1);
      long id = next.get();
      assertThat(seen).doesNotContain(id);
      assertThat(SnowflakeIds.timestampOf(id)).isEqualTo(clock.instant());
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void lowBitsCycleEvenAtOneIdPerMillisecondSoModuloStaysBalanced() {
    ManualClock clock = new ManualClock(Instant.parse("2026-12-06T10:00:00Z"));
    SnowflakeIds ids = SnowflakeIds.builder().workerId(7).clock(clock).build();
    int[] shards = new int[4];
    for (int i = 0; i < 4000; i++) {
      clock.millis.addAndGet(1);
      shards[ShardFunction.MODULO.shardOf(ids.next(), 4)]++;
    }
    assertThat(shards).containsOnly(1000); // with Snowflake's per-millisecond reset all 4000 would be on shard 0
  }

  @Test
  void aClockThatStepsBackIsWaitedForAndThenRefused() {
    ManualClock clock = new ManualClock(Instant.parse("2026-12-06T10:00:00Z"));
    SnowflakeIds ids = SnowflakeIds.builder().workerId(2).clock(clock).maxClockBackwards(Duration.ofMillis(20)).build();
    long before = ids.next();
    clock.millis.addAndGet(-1000);

    assertThatThrownBy(ids::next).isInstanceOf(IllegalStateException.class)
        .hasMessage("clock: went back 1000 ms (expected: at most 20 ms, maxClockBackwards); no id is made rather than"
            + " a duplicate");
    clock.millis.addAndGet(1000);
    assertThat(ids.next()).isGreaterThan(before);
  }

  @Test
  void concurrentCallersNeverGetTheSameId() throws Exception {
    SnowflakeIds ids = SnowflakeIds.builder().workerId(3).build();
    Set<Long> seen = ConcurrentHashMap.newKeySet();
    try (ExecutorService executor = Executors.newFixedThreadPool(4)) {
      for (int t = 0; t < 4; t++) {
        executor.submit(() -> {
          for (int i = 0; i < 50_000; i++) {
            seen.add(ids.next());
          }
        });
      }
    }
    assertThat(seen).hasSize(200_000);
  }

  @Test
  void rejectsAWorkerIdOutOfRange() {
    assertThatThrownBy(() -> SnowflakeIds.builder().workerId(1024)).hasMessage("workerId: 1024 (expected: 0..1023)");
    assertThatThrownBy(() -> SnowflakeIds.builder().build())
        .hasMessage("workerId: not set (expected: 0..1023, unique per generator)");
  }
}
