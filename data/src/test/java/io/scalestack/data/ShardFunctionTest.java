package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ShardFunctionTest {

  private static final int KEYS = 200_000;

  /** The fraction of {@code KEYS} keys whose shard differs between {@code from} and {@code to} shards. */
  private static double moved(ShardFunction function, long[] keys, int from, int to) {
    int moved = 0;
    for (long key : keys) {
      if (function.shardOf(key, from) != function.shardOf(key, to)) {
        moved++;
      }
    }
    return (double) moved / keys.length;
  }

  private static long[] snowflakeKeys() {
    // ids as a service makes them: a few per millisecond, from 3 workers
    long[] keys = new long[KEYS];
    SnowflakeIds[] workers = new SnowflakeIds[3];
    SnowflakeIdsTest.ManualClock clock = new SnowflakeIdsTest.ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    for (int w = 0; w < workers.length; w++) {
      workers[w] = SnowflakeIds.builder().workerId(w + 1).clock(clock).build();
    }
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < KEYS; i++) {
      if (random.nextInt(3) == 0) {
        clock.millis.addAndGet(1 + random.nextInt(5));
      }
      keys[i] = workers[random.nextInt(workers.length)].next();
    }
    return keys;
  }

  @Test
  void addingOneShardMovesAboutKOverKPlusOneOfTheKeysWithModuloAndTheMinimumWithConsistent() {
    long[] keys = snowflakeKeys();
    for (int k = 2; k <= 16; k++) {
      assertThat(moved(ShardFunction.MODULO, keys, k, k + 1)).as("modulo %d -> %d", k, k + 1)
          .isCloseTo((double) k / (k + 1), org.assertj.core.data.Offset.offset(0.02));
      assertThat(moved(ShardFunction.CONSISTENT, keys, k, k + 1)).as("consistent %d -> %d", k, k + 1)
          .isLessThanOrEqualTo(1.0 / (k + 1) + 0.01);
    }
  }

  @Test
  void consistentNeverMovesAKeyBetweenTwoOldShards() {
    for (long key : snowflakeKeys()) {
      int before = ShardFunction.CONSISTENT.shardOf(key, 4);
      int after = ShardFunction.CONSISTENT.shardOf(key, 5);
      assertThat(after == before || after == 4).isTrue();
    }
  }

  @Test
  void bothSpreadSnowflakeIdsEvenly() {
    long[] keys = snowflakeKeys();
    for (ShardFunction function : new ShardFunction[] {ShardFunction.MODULO, ShardFunction.CONSISTENT}) {
      for (int shards : new int[] {4, 5, 8}) {
        int[] counts = new int[shards];
        for (long key : keys) {
          counts[function.shardOf(key, shards)]++;
        }
        double mean = (double) KEYS / shards;
        for (int count : counts) {
          assertThat(count / mean).as("%s over %d shards", function, shards).isBetween(0.95, 1.05);
        }
      }
    }
  }

  @Test
  void theSeedsExampleIsUserIdModFour() {
    assertThat(ShardFunction.MODULO.shardOf(10, 4)).isEqualTo(2);
    assertThat(ShardFunction.MODULO.shardOf(-1, 4)).isEqualTo(3);
    assertThat(ShardFunction.CONSISTENT.shardOf(123, 1)).isZero();
  }

  @Test
  void rejectsAnUnknownFunctionAndNoShards() {
    assertThat(ShardFunction.named("Consistent")).isSameAs(ShardFunction.CONSISTENT);
    assertThatThrownBy(() -> ShardFunction.named("range"))
        .hasMessage("shardFunction: 'range' (expected: modulo or consistent)");
    assertThatThrownBy(() -> ShardFunction.MODULO.shardOf(1, 0)).hasMessage("shards: 0 (expected: >= 1)");
    assertThatThrownBy(() -> ShardFunction.CONSISTENT.shardOf(1, -2)).hasMessage("shards: -2 (expected: >= 1)");
  }
}
