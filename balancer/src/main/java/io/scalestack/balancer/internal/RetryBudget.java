package io.scalestack.balancer.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Caps method-based retries at a percentage of requests over a sliding window (Envoy's and
 * Finagle's retry budget), so that retries cannot multiply the load on backends that are already
 * failing: a retry is allowed while the retries in the last {@link #WINDOW_SECONDS} seconds stay
 * below {@code percent}% of the requests in that window, or below a floor of {@link
 * #MIN_RETRIES_PER_WINDOW} (so a quiet balancer can still retry).
 *
 * <p>Thread-safe and lock-free: one slot per second, each packing the second it belongs to with
 * its counts in an {@link AtomicLongArray}; a slot from an older second is reset by the first
 * writer that sees it. Counts near a second boundary may be off by a few, which a budget
 * tolerates.
 */
final class RetryBudget {

  static final int WINDOW_SECONDS = 10;
  static final int MIN_RETRIES_PER_WINDOW = 10;

  private final int percent;
  private final LongSupplier nanoClock;
  // per slot: [second, requests, retries] at 3*slot, 3*slot+1, 3*slot+2
  private final AtomicLongArray slots = new AtomicLongArray(3 * WINDOW_SECONDS);

  RetryBudget(int percent, LongSupplier nanoClock) {
    this.percent = percent;
    this.nanoClock = nanoClock;
  }

  /** One request arrived (retries are not requests). */
  void request() {
    add(1, 1);
  }

  /** Takes one retry from the budget; false when the budget is spent (the retry must not happen). */
  boolean tryRetry() {
    long now = second();
    long requests = 0;
    long retries = 0;
    for (int slot = 0; slot < WINDOW_SECONDS; slot++) {
      long second = slots.get(3 * slot);
      if (now - second < WINDOW_SECONDS) {
        requests += slots.get(3 * slot + 1);
        retries += slots.get(3 * slot + 2);
      }
    }
    if (retries >= Math.max(MIN_RETRIES_PER_WINDOW, requests * percent / 100)) {
      return false;
    }
    add(2, 1);
    return true;
  }

  private void add(int field, long delta) {
    long now = second();
    int slot = (int) (now % WINDOW_SECONDS);
    long seen = slots.get(3 * slot);
    if (seen != now && slots.compareAndSet(3 * slot, seen, now)) {
      slots.set(3 * slot + 1, 0);
      slots.set(3 * slot + 2, 0);
    }
    slots.addAndGet(3 * slot + field, delta);
  }

  private long second() {
    // offset so that every real second is far from 0, the value of a never-used slot
    return TimeUnit.NANOSECONDS.toSeconds(nanoClock.getAsLong()) + Long.MAX_VALUE / 4;
  }
}
