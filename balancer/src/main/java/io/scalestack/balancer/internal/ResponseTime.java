package io.scalestack.balancer.internal;

/**
 * A backend's response time as a peak-sensitive exponentially weighted moving average (Finagle's
 * and Envoy's "peak EWMA"): a sample above the average replaces it at once, a sample below decays
 * into it with time constant {@link #DECAY_NANOS}, so a backend that turns slow is avoided at
 * once and trusted again only gradually. Under load, each sample also moves the average at
 * least {@link #MIN_SAMPLE_WEIGHT} of the way: the average then forgets after a number of
 * samples rather than of seconds, so a cold-start or GC peak does not mark a busy backend slow
 * for seconds while it answers hundreds of requests fast.
 *
 * <p>Thread-safe: samples come from many event loops; the two fields are updated together under
 * {@code this} (an uncontended lock, held for a few arithmetic operations).
 */
final class ResponseTime {

  /**
   * How fast the average forgets: after 2 s, a sample weighs e^-1 of a new one. Finagle uses 10 s;
   * a shorter memory lets a backend recover within seconds from one peak (a new connection, a GC
   * pause) instead of being starved meanwhile.
   */
  static final long DECAY_NANOS = 2_000_000_000L;

  /**
   * How fast the average of a backend that gets no samples decays towards 0, so that a backend
   * avoided for being slow is probed again: after 10 s without a sample it reads e^-1 of its last
   * average (Finagle's and Linkerd's default decay). Longer than {@link #DECAY_NANOS} on purpose:
   * a probe of a backend that is still slow costs one slow answer, and with a 2 s idle decay a
   * backend 10× slower than the rest was probed every second or two, about 0.3% of requests in
   * {@code benchmarks/response-time}, enough to lift an open-loop client's p99 to its latency.
   * A backend that was slow once, from one peak, while it answers fast, forgets the peak after
   * samples ({@link #MIN_SAMPLE_WEIGHT}), not after this time.
   */
  static final long IDLE_DECAY_NANOS = 10_000_000_000L;

  /** The least weight a sample below the average gets: after 100 samples a peak weighs ~4%. */
  static final double MIN_SAMPLE_WEIGHT = 1.0 / 32;

  private double averageNanos;
  private long lastSampleNanos;

  /** Records one sample taken at {@code nowNanos} ({@link System#nanoTime()} scale). */
  synchronized void record(long sampleNanos, long nowNanos) {
    if (lastSampleNanos == 0 || sampleNanos > averageNanos) {
      averageNanos = sampleNanos;
    } else {
      double elapsed = Math.max(0, nowNanos - lastSampleNanos);
      double weight = Math.min(Math.exp(-elapsed / DECAY_NANOS), 1 - MIN_SAMPLE_WEIGHT);
      averageNanos = averageNanos * weight + sampleNanos * (1 - weight);
    }
    lastSampleNanos = nowNanos;
  }

  /** Whether a sample was recorded. */
  synchronized boolean sampled() {
    return lastSampleNanos != 0;
  }

  /** The current average in nanoseconds; 0 before the first sample. */
  synchronized double averageNanos() {
    return averageNanos;
  }

  /**
   * The average as seen at {@code nowNanos}: it decays towards 0 with time constant {@link
   * #IDLE_DECAY_NANOS} while no sample arrives (as Finagle's cost does), so a backend avoided after one slow answer is tried again after a
   * while instead of never.
   */
  synchronized double averageNanos(long nowNanos) {
    if (lastSampleNanos == 0) {
      return 0;
    }
    double elapsed = Math.max(0, nowNanos - lastSampleNanos);
    return averageNanos * Math.exp(-elapsed / IDLE_DECAY_NANOS);
  }
}
