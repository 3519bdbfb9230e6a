package io.scalestack.data;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;

/**
 * Globally unique, time-ordered 64-bit ids that any shard (any web server) can make without asking
 * anyone: Twitter's Snowflake layout — a 0 sign bit, 41 bits of milliseconds since {@link
 * Builder#epoch(Instant)} (69 years), 10 bits of worker id (0..1023, unique per generator
 * running at one time), 12 bits of sequence (4,096 ids per millisecond per worker).
 *
 * <p>One change from Snowflake: the sequence does not restart at 0 every millisecond but keeps
 * counting (wrapping at 4,096; a millisecond ends early only when it comes back to where that
 * millisecond began). With Snowflake's reset, a service making fewer than one id per millisecond
 * gets ids whose low bits are all 0, and {@code id % 4} — the seeds' shard function — puts every
 * user on shard 0. Here the low bits cycle, so modulo sharding on ids stays balanced.
 *
 * <p>The price: ids are ordered by millisecond, not strictly within one — an id made in a later
 * millisecond is larger than every id of the earlier ones, but the ids of one millisecond may wrap
 * (…4094, 4095, 0, 1…). They are unique all the same. If the clock steps back, {@link #next()} waits
 * for it to catch up to the last millisecond used, up to {@link Builder#maxClockBackwards(Duration)},
 * and then fails rather than risk a duplicate.
 *
 * <p>Thread-safe: {@link #next()} is synchronized (a few tens of nanoseconds uncontended).
 */
public final class SnowflakeIds {

  /** 2020-01-01T00:00:00Z, the default epoch. */
  public static final Instant DEFAULT_EPOCH = Instant.parse("2020-01-01T00:00:00Z");
  /** The largest worker id, 2^10 - 1. */
  public static final int MAX_WORKER_ID = (1 << 10) - 1;

  private static final int SEQUENCE_BITS = 12;
  private static final int WORKER_BITS = 10;
  private static final long SEQUENCE_MASK = (1L << SEQUENCE_BITS) - 1;
  private static final long MAX_TIMESTAMP = (1L << 41) - 1;

  private final int workerId;
  private final long epochMillis;
  private final Clock clock;
  private final long maxBackwardsMillis;

  private long lastMillis = -1;
  private long sequence;
  private long firstSequenceOfMillis;

  private SnowflakeIds(Builder builder) {
    this.workerId = builder.workerId;
    this.epochMillis = builder.epoch.toEpochMilli();
    this.clock = builder.clock;
    this.maxBackwardsMillis = builder.maxClockBackwards.toMillis();
  }

  /** A builder; {@link Builder#workerId(int)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The next id.
   *
   * @throws IllegalStateException if the clock went back further than allowed, or is before the
   *     epoch or past its 69 years
   */
  public synchronized long next() {
    long now = millisSinceEpoch();
    if (now < lastMillis) {
      long deadline = System.nanoTime() + Duration.ofMillis(maxBackwardsMillis).toNanos();
      while ((now = millisSinceEpoch()) < lastMillis) {
        if (System.nanoTime() - deadline > 0) {
          throw new IllegalStateException("clock: went back " + (lastMillis - now) + " ms (expected: at most "
              + maxBackwardsMillis + " ms, maxClockBackwards); no id is made rather than a duplicate");
        }
        LockSupport.parkNanos(100_000);
      }
    }
    if (now == lastMillis) {
      sequence = (sequence + 1) & SEQUENCE_MASK;
      if (sequence == firstSequenceOfMillis) {
        // 4,096 ids in this millisecond: the next one belongs to the next millisecond
        while ((now = millisSinceEpoch()) <= lastMillis) {
          Thread.onSpinWait();
        }
        firstSequenceOfMillis = sequence;
      }
    } else {
      sequence = (sequence + 1) & SEQUENCE_MASK;
      firstSequenceOfMillis = sequence;
    }
    lastMillis = now;
    return (now << (WORKER_BITS + SEQUENCE_BITS)) | ((long) workerId << SEQUENCE_BITS) | sequence;
  }

  private long millisSinceEpoch() {
    long millis = clock.millis() - epochMillis;
    if (millis < 0 || millis > MAX_TIMESTAMP) {
      throw new IllegalStateException("clock: " + clock.instant() + " (expected: within 69 years after the epoch "
          + Instant.ofEpochMilli(epochMillis) + ")");
    }
    return millis;
  }

  /** The worker id of this generator. */
  public int workerId() {
    return workerId;
  }

  /** When {@code id} was made, with the default epoch. */
  public static Instant timestampOf(long id) {
    return timestampOf(id, DEFAULT_EPOCH);
  }

  /** When {@code id} was made by a generator with {@code epoch}. */
  public static Instant timestampOf(long id, Instant epoch) {
    return Instant.ofEpochMilli(epoch.toEpochMilli() + (id >>> (WORKER_BITS + SEQUENCE_BITS)));
  }

  /** The worker id inside {@code id}. */
  public static int workerOf(long id) {
    return (int) ((id >>> SEQUENCE_BITS) & MAX_WORKER_ID);
  }

  /** Configures a {@link SnowflakeIds}. Not thread-safe. */
  public static final class Builder {
    private int workerId = -1;
    private Instant epoch = DEFAULT_EPOCH;
    private Clock clock = Clock.systemUTC();
    private Duration maxClockBackwards = Duration.ofSeconds(5);

    private Builder() {}

    /** This generator's worker id, 0..1023, unique among generators running at the same time; required. */
    public Builder workerId(int workerId) {
      if (workerId < 0 || workerId > MAX_WORKER_ID) {
        throw new IllegalArgumentException("workerId: " + workerId + " (expected: 0.." + MAX_WORKER_ID + ")");
      }
      this.workerId = workerId;
      return this;
    }

    /** The instant timestamp 0 stands for (default 2020-01-01T00:00:00Z); every generator of one id space must agree. */
    public Builder epoch(Instant epoch) {
      this.epoch = Objects.requireNonNull(epoch, "epoch");
      return this;
    }

    /** The clock (default the system's UTC clock); tests step it. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** How long {@link SnowflakeIds#next()} waits for a clock that stepped back (default 5 s); 0 fails at once. */
    public Builder maxClockBackwards(Duration maxClockBackwards) {
      Objects.requireNonNull(maxClockBackwards, "maxClockBackwards");
      if (maxClockBackwards.isNegative()) {
        throw new IllegalArgumentException("maxClockBackwards: " + maxClockBackwards + " (expected: >= 0)");
      }
      this.maxClockBackwards = maxClockBackwards;
      return this;
    }

    /**
     * Builds the generator.
     *
     * @throws IllegalStateException without a worker id
     */
    public SnowflakeIds build() {
      if (workerId < 0) {
        throw new IllegalStateException("workerId: not set (expected: 0.." + MAX_WORKER_ID + ", unique per generator)");
      }
      return new SnowflakeIds(this);
    }
  }
}
