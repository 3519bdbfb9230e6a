package io.scalestack.balancer.internal;

/**
 * A backend's response time as a peak-sensitive exponentially weighted moving average (Finagle's
 * and Envoy's "peak EWMA"): a sample above the average replaces it at once, a sample below decays
 * into it with time constant {@link #DECAY_NANOS}, so a backend that turns slow is avoided at
 * once and trusted again only gradually.
 *
 * <p>Thread-safe: samples come from many event loops; the two fields are updated together under
 * {@code this} (an uncontended lock, held for a few arithmetic operations).
 */
final class ResponseTime {

  /** How fast the average forgets: after 10 s, a sample weighs e^-1 of a new one. */
  static final long DECAY_NANOS = 10_000_000_000L;

  private double averageNanos;
  private long lastSampleNanos;

  /** Records one sample taken at {@code nowNanos} ({@link System#nanoTime()} scale). */
  synchronized void record(long sampleNanos, long nowNanos) {
    if (lastSampleNanos == 0 || sampleNanos > averageNanos) {
      averageNanos = sampleNanos;
    } else {
      double elapsed = Math.max(0, nowNanos - lastSampleNanos);
      double weight = Math.exp(-elapsed / DECAY_NANOS);
      averageNanos = averageNanos * weight + sampleNanos * (1 - weight);
    }
    lastSampleNanos = nowNanos;
  }

  /** The current average in nanoseconds; 0 before the first sample. */
  synchronized double averageNanos() {
    return averageNanos;
  }
}
