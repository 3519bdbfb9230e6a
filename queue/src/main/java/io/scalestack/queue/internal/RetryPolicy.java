package io.scalestack.queue.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What every backend shares about leases and retries: the lease timeout, the attempts before the
 * dead letters, and the back-off between attempts, with the checks of their builders. Immutable,
 * thread-safe.
 */
public record RetryPolicy(Duration leaseTimeout, int maxAttempts, Duration backoffBase, Duration backoffMax) {

  /** The defaults: lease 5 s, 5 attempts, back-off from 500 ms doubling to 60 s. */
  public static final RetryPolicy DEFAULTS =
      new RetryPolicy(Duration.ofSeconds(5), 5, Duration.ofMillis(500), Duration.ofSeconds(60));

  public RetryPolicy {
    Objects.requireNonNull(leaseTimeout, "leaseTimeout");
    Objects.requireNonNull(backoffBase, "base");
    Objects.requireNonNull(backoffMax, "max");
    if (leaseTimeout.toMillis() < 10) {
      throw new IllegalArgumentException("leaseTimeout: " + leaseTimeout + " (expected: >= 10 ms)");
    }
    if (maxAttempts < 1 || maxAttempts > 1000) {
      throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: 1..1000)");
    }
    if (backoffBase.isNegative() || backoffMax.compareTo(backoffBase) < 0) {
      throw new IllegalArgumentException("backoff: " + backoffBase + ", " + backoffMax + " (expected: 0 <= base <= max)");
    }
  }

  public RetryPolicy withLeaseTimeout(Duration leaseTimeout) {
    return new RetryPolicy(leaseTimeout, maxAttempts, backoffBase, backoffMax);
  }

  public RetryPolicy withMaxAttempts(int maxAttempts) {
    return new RetryPolicy(leaseTimeout, maxAttempts, backoffBase, backoffMax);
  }

  public RetryPolicy withBackoff(Duration base, Duration max) {
    return new RetryPolicy(leaseTimeout, maxAttempts, base, max);
  }

  /**
   * The wait before the attempt after {@code attempt}: the base doubled per attempt, capped, with
   * ±20% jitter so that jobs failing together do not retry together.
   */
  public long backoffMillis(int attempt) {
    double exponential = backoffBase.toMillis() * Math.pow(2, Math.max(0, attempt - 1));
    double capped = Math.min(backoffMax.toMillis(), exponential);
    return (long) (capped * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
  }
}
