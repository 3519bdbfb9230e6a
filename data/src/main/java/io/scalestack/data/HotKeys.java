package io.scalestack.data;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Finds the hottest keys (the celebrity problem: one user whose profile everyone reads) from
 * access counts, cheaply enough for the request path: a count-min sketch (Cormode and
 * Muthukrishnan, 2005) of {@code depth} rows of {@code width} counters estimates each key's count
 * (never under, over by at most total × e / width with probability 1 − e^−depth), and a small
 * table keeps the {@code topK} keys with the highest estimates. Counts decay: every {@code
 * halfLife} all counters and the total are halved, so the figures describe the last few half-lives
 * and a key that cools down stops being hot.
 *
 * <p>A key is {@linkplain #isHot(long) hot} when its estimated share of the (decayed) accesses is
 * at least {@code hotShare} and there were at least {@code minAccesses} accesses (and stays hot down
 * to half of both). A key getting half of all reads is hot as soon as {@code minAccesses} reads have
 * been counted.
 *
 * <p>{@link #record(long)} costs {@code depth} hash computations and atomic increments, plus a map
 * update when the key is among the hottest. Thread-safe, lock-free; the halving is done by the
 * first caller past the deadline, while others keep counting (a count may land just before or after
 * the halving: the figures are estimates anyway).
 */
public final class HotKeys {

  /** One of the hottest keys: its estimated (decayed) accesses and share of all accesses. */
  public record Entry(long key, long estimate, double share) {}

  private final int width;
  private final int depth;
  private final int topK;
  private final double hotShare;
  private final long minAccesses;
  private final long halfLifeMillis;
  private final Clock clock;
  private final AtomicLongArray counters;
  private final AtomicLong total = new AtomicLong();
  private final AtomicLong nextHalving;
  private final Map<Long, Long> top = new ConcurrentHashMap<>();
  /** The keys hot now: at most 2 / hotShare of them can hold half the share each. */
  private final Map<Long, Boolean> hot = new ConcurrentHashMap<>();

  private HotKeys(Builder builder) {
    this.width = builder.width;
    this.depth = builder.depth;
    this.topK = builder.topK;
    this.hotShare = builder.hotShare;
    this.minAccesses = builder.minAccesses;
    this.halfLifeMillis = builder.halfLife.toMillis();
    this.clock = builder.clock;
    this.counters = new AtomicLongArray(width * depth);
    this.nextHalving = new AtomicLong(clock.millis() + halfLifeMillis);
  }

  /** A builder with the defaults: 4 × 4096 counters, top 16, hot at 10% of at least 100 accesses, half-life 500 ms. */
  public static Builder builder() {
    return new Builder();
  }

  /** Counts one access to {@code key}. */
  public void record(long key) {
    decayIfDue();
    long estimate = Long.MAX_VALUE;
    for (int row = 0; row < depth; row++) {
      estimate = Math.min(estimate, counters.incrementAndGet(index(row, key)));
    }
    total.incrementAndGet();
    Long known = top.get(key);
    if (known != null) {
      top.put(key, estimate);
    } else if (top.size() < topK) {
      top.put(key, estimate);
    } else {
      // replace the coldest of the top if this key is now hotter (racy by design: the table is a hint)
      Map.Entry<Long, Long> coldest = null;
      for (Map.Entry<Long, Long> entry : top.entrySet()) {
        if (coldest == null || entry.getValue() < coldest.getValue()) {
          coldest = entry;
        }
      }
      if (coldest != null && estimate > coldest.getValue() && top.remove(coldest.getKey(), coldest.getValue())) {
        top.put(key, estimate);
      }
    }
  }

  /** The estimated (decayed) number of accesses to {@code key}: never fewer than the true count. */
  public long estimate(long key) {
    decayIfDue();
    long estimate = Long.MAX_VALUE;
    for (int row = 0; row < depth; row++) {
      estimate = Math.min(estimate, counters.get(index(row, key)));
    }
    return estimate;
  }

  /**
   * Whether {@code key} is hot: it becomes hot when it gets at least {@code hotShare} of at least
   * {@code minAccesses} accesses, and stays hot until it gets less than half that share, or the
   * accesses fall under a quarter of {@code minAccesses}. The hysteresis keeps a hot key from
   * flickering as the halving drops the counts (a key near the threshold would otherwise change
   * path every half-life).
   */
  public boolean isHot(long key) {
    long estimate = estimate(key);
    long accesses = total.get();
    boolean was = hot.containsKey(key);
    boolean now = was
        ? accesses >= minAccesses / 4 && estimate >= hotShare / 2 * accesses
        : accesses >= minAccesses && estimate >= hotShare * accesses;
    if (now && !was) {
      hot.put(key, Boolean.TRUE);
    } else if (!now && was) {
      hot.remove(key);
    }
    return now;
  }

  /** The hottest keys, hottest first, with fresh estimates. */
  public List<Entry> hottest() {
    decayIfDue(); // first: a halving between reading the total and the estimates would halve the shares
    long accesses = Math.max(1, total.get());
    List<Entry> entries = new ArrayList<>();
    for (Long key : top.keySet()) {
      long estimate = estimate(key);
      entries.add(new Entry(key, estimate, Math.min(1.0, (double) estimate / accesses)));
    }
    entries.sort(Comparator.comparingLong(Entry::estimate).reversed());
    return entries;
  }

  /** The (decayed) number of accesses counted. */
  public long total() {
    decayIfDue();
    return total.get();
  }

  private void decayIfDue() {
    long now = clock.millis();
    long due = nextHalving.get();
    if (now < due) {
      return;
    }
    // every half-life that passed halves once more; only the caller that moves the deadline does it
    long periods = 1 + (now - due) / halfLifeMillis;
    if (!nextHalving.compareAndSet(due, due + periods * halfLifeMillis)) {
      return;
    }
    int shift = (int) Math.min(63, periods);
    for (int i = 0; i < counters.length(); i++) {
      counters.getAndUpdate(i, c -> c >>> shift);
    }
    total.getAndUpdate(t -> t >>> shift);
    top.replaceAll((key, estimate) -> estimate >>> shift);
  }

  private int index(int row, long key) {
    // one 64-bit mix per row, seeded by the row (SplitMix64's finalizer), folded into the row's width
    long z = key + (row + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return row * width + (int) Long.remainderUnsigned(z, width);
  }

  /** Configures {@link HotKeys}. Not thread-safe. */
  public static final class Builder {
    private int width = 4096;
    private int depth = 4;
    private int topK = 16;
    private double hotShare = 0.1;
    private long minAccesses = 100;
    private Duration halfLife = Duration.ofMillis(500);
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Counters per row (default 4096): the over-estimate is at most total × e / width. */
    public Builder width(int width) {
      if (width < 16 || width > (1 << 24)) {
        throw new IllegalArgumentException("width: " + width + " (expected: 16..16777216)");
      }
      this.width = width;
      return this;
    }

    /** Rows (default 4): the over-estimate bound fails with probability e^-depth. */
    public Builder depth(int depth) {
      if (depth < 1 || depth > 16) {
        throw new IllegalArgumentException("depth: " + depth + " (expected: 1..16)");
      }
      this.depth = depth;
      return this;
    }

    /** How many of the hottest keys {@link HotKeys#hottest()} tracks (default 16). */
    public Builder topK(int topK) {
      if (topK < 1 || topK > 10_000) {
        throw new IllegalArgumentException("topK: " + topK + " (expected: 1..10000)");
      }
      this.topK = topK;
      return this;
    }

    /** The share of accesses that makes a key hot (default 0.1). */
    public Builder hotShare(double hotShare) {
      if (!(hotShare > 0 && hotShare <= 1)) {
        throw new IllegalArgumentException("hotShare: " + hotShare + " (expected: > 0 and <= 1)");
      }
      this.hotShare = hotShare;
      return this;
    }

    /** Fewer (decayed) accesses than this make nothing hot (default 100). */
    public Builder minAccesses(long minAccesses) {
      if (minAccesses < 1) {
        throw new IllegalArgumentException("minAccesses: " + minAccesses + " (expected: >= 1)");
      }
      this.minAccesses = minAccesses;
      return this;
    }

    /** How often every count is halved (default 500 ms). */
    public Builder halfLife(Duration halfLife) {
      Objects.requireNonNull(halfLife, "halfLife");
      if (halfLife.toMillis() < 1) {
        throw new IllegalArgumentException("halfLife: " + halfLife + " (expected: >= 1 ms)");
      }
      this.halfLife = halfLife;
      return this;
    }

    /** The clock for the halving (default the system's); tests move it. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public HotKeys build() {
      return new HotKeys(this);
    }
  }
}
