package io.scalestack.cache.internal;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The hottest keys of one server's reads: a count-min sketch (4 rows of {@code width} counters;
 * an estimate is never under the true count) and a table of the {@code topK} keys with the highest
 * estimates. Every {@code halfLife} the counters and the table are halved, so the figures describe
 * the last few half-lives and a key that cools down leaves the table. A key is hot when it is in
 * the table with an estimate of at least {@code minCount}.
 *
 * <p>{@link #record} costs 4 hashes and atomic increments, plus a lock when a key enters a full
 * table. Thread-safe; the figures are estimates (a count may land just before or after a halving).
 */
public final class HotKeySketch {

  private static final int DEPTH = 4;

  private final int width;
  private final int topK;
  private final long minCount;
  private final long halfLifeMillis;
  private final Clock clock;
  private final AtomicLongArray counters;
  private final Map<String, Long> top = new ConcurrentHashMap<>();
  private final AtomicLong nextHalving;
  /** The smallest estimate in the full table: a key must beat it to enter. */
  private volatile long admission;

  /** A sketch; {@code width} is rounded up to a power of two. */
  public HotKeySketch(int width, int topK, long minCount, long halfLifeMillis, Clock clock) {
    this.width = Integer.highestOneBit(Math.max(16, width - 1) << 1);
    this.topK = topK;
    this.minCount = minCount;
    this.halfLifeMillis = halfLifeMillis;
    this.clock = clock;
    this.counters = new AtomicLongArray(this.width * DEPTH);
    this.nextHalving = new AtomicLong(clock.millis() + halfLifeMillis);
  }

  /** Counts one read of {@code key}. */
  public void record(String key) {
    maybeHalve();
    int hash = key.hashCode();
    long estimate = Long.MAX_VALUE;
    for (int row = 0; row < DEPTH; row++) {
      estimate = Math.min(estimate, counters.incrementAndGet(index(hash, row)));
    }
    long counted = estimate;
    if (top.computeIfPresent(key, (k, old) -> Math.max(old, counted)) != null) {
      return;
    }
    if (top.size() < topK) {
      top.put(key, estimate);
      return;
    }
    if (estimate <= admission) {
      return;
    }
    synchronized (this) {
      Map.Entry<String, Long> smallest = smallest();
      if (smallest != null && estimate > smallest.getValue() && !top.containsKey(key)) {
        top.remove(smallest.getKey());
        top.put(key, estimate);
      }
      Map.Entry<String, Long> now = smallest();
      admission = now == null || top.size() < topK ? 0 : now.getValue();
    }
  }

  /** Whether {@code key} is among the hottest and read at least {@code minCount} times lately. */
  public boolean isHot(String key) {
    Long estimate = top.get(key);
    return estimate != null && estimate >= minCount;
  }

  /** The hot keys, hottest first. */
  public List<String> hottest() {
    List<Map.Entry<String, Long>> entries = new ArrayList<>();
    for (Map.Entry<String, Long> entry : top.entrySet()) {
      if (entry.getValue() >= minCount) {
        entries.add(Map.entry(entry.getKey(), entry.getValue()));
      }
    }
    entries.sort(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()));
    return entries.stream().map(Map.Entry::getKey).toList();
  }

  private Map.Entry<String, Long> smallest() {
    Map.Entry<String, Long> smallest = null;
    for (Map.Entry<String, Long> entry : top.entrySet()) {
      if (smallest == null || entry.getValue() < smallest.getValue()) {
        smallest = Map.entry(entry.getKey(), entry.getValue());
      }
    }
    return smallest;
  }

  private void maybeHalve() {
    long due = nextHalving.get();
    long now = clock.millis();
    if (now < due) {
      return;
    }
    long periods = (now - due) / halfLifeMillis + 1;
    if (!nextHalving.compareAndSet(due, due + periods * halfLifeMillis)) {
      return; // another caller halves
    }
    int shift = (int) Math.min(63, periods);
    for (int i = 0; i < counters.length(); i++) {
      counters.getAndUpdate(i, c -> c >>> shift);
    }
    top.replaceAll((k, c) -> c >>> shift);
    top.values().removeIf(c -> c == 0);
    admission = 0;
  }

  private int index(int hash, int row) {
    long z = hash + (row + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return row * width + (int) (z & (width - 1));
  }
}
