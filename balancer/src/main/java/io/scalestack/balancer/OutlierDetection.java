package io.scalestack.balancer;

import java.time.Duration;
import java.util.Objects;

/**
 * Passive health checking of a {@link Pool} (Envoy's outlier detection): a backend that answers
 * {@link #consecutiveErrors()} requests in a row with a 5xx status, or fails that many
 * connections, is ejected — it gets no new requests — for {@link #baseEjectionTime()} times the
 * number of times it has been ejected, at most {@link #maxEjectionTime()}. At most {@link
 * #maxEjectionPercent()} of a pool's backends are ejected at once (but always at least one may
 * be).
 *
 * <p>Immutable; thread-safe. Built by {@link #builder()}.
 */
public final class OutlierDetection {

  private final int consecutiveErrors;
  private final Duration baseEjectionTime;
  private final Duration maxEjectionTime;
  private final int maxEjectionPercent;

  private OutlierDetection(Builder b) {
    this.consecutiveErrors = b.consecutiveErrors;
    this.baseEjectionTime = b.baseEjectionTime;
    this.maxEjectionTime = b.maxEjectionTime;
    this.maxEjectionPercent = b.maxEjectionPercent;
  }

  /** Defaults: 5 consecutive errors, 30 s base ejection, at most 300 s, at most 10% ejected (at least one backend). */
  public static Builder builder() {
    return new Builder();
  }

  public int consecutiveErrors() {
    return consecutiveErrors;
  }

  public Duration baseEjectionTime() {
    return baseEjectionTime;
  }

  public Duration maxEjectionTime() {
    return maxEjectionTime;
  }

  public int maxEjectionPercent() {
    return maxEjectionPercent;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OutlierDetection other
        && consecutiveErrors == other.consecutiveErrors
        && baseEjectionTime.equals(other.baseEjectionTime)
        && maxEjectionTime.equals(other.maxEjectionTime)
        && maxEjectionPercent == other.maxEjectionPercent;
  }

  @Override
  public int hashCode() {
    return Objects.hash(consecutiveErrors, baseEjectionTime, maxEjectionTime, maxEjectionPercent);
  }

  @Override
  public String toString() {
    return "OutlierDetection[consecutiveErrors=" + consecutiveErrors + ", baseEjectionTime=" + baseEjectionTime
        + ", maxEjectionTime=" + maxEjectionTime + ", maxEjectionPercent=" + maxEjectionPercent + "]";
  }

  /** Builds an {@link OutlierDetection}; setters validate at once. Not thread-safe. */
  public static final class Builder {
    private int consecutiveErrors = 5;
    private Duration baseEjectionTime = Duration.ofSeconds(30);
    private Duration maxEjectionTime = Duration.ofSeconds(300);
    private int maxEjectionPercent = 10;
    private boolean maxEjectionTimeSet;

    private Builder() {}

    /** Errors in a row that eject a backend; default 5. */
    public Builder consecutiveErrors(int consecutiveErrors) {
      if (consecutiveErrors < 1 || consecutiveErrors > 1000) {
        throw new IllegalArgumentException("consecutiveErrors: " + consecutiveErrors + " (expected: 1..1000)");
      }
      this.consecutiveErrors = consecutiveErrors;
      return this;
    }

    /** The first ejection's length; each later one is this times the ejection count; default 30 s. */
    public Builder baseEjectionTime(Duration baseEjectionTime) {
      this.baseEjectionTime = positive("baseEjectionTime", baseEjectionTime);
      return this;
    }

    /** The longest ejection; default 300 s, or the base ejection time if longer. */
    public Builder maxEjectionTime(Duration maxEjectionTime) {
      this.maxEjectionTime = positive("maxEjectionTime", maxEjectionTime);
      this.maxEjectionTimeSet = true;
      return this;
    }

    /** The largest share of a pool's backends ejected at once; default 10 (at least one backend). */
    public Builder maxEjectionPercent(int maxEjectionPercent) {
      if (maxEjectionPercent < 0 || maxEjectionPercent > 100) {
        throw new IllegalArgumentException("maxEjectionPercent: " + maxEjectionPercent + " (expected: 0..100)");
      }
      this.maxEjectionPercent = maxEjectionPercent;
      return this;
    }

    public OutlierDetection build() {
      if (!maxEjectionTimeSet && maxEjectionTime.compareTo(baseEjectionTime) < 0) {
        maxEjectionTime = baseEjectionTime;
      }
      if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
        throw new IllegalArgumentException("maxEjectionTime: " + maxEjectionTime
            + " (expected: >= baseEjectionTime " + baseEjectionTime + ")");
      }
      return new OutlierDetection(this);
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero() || value.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: > 0 and <= PT24H)");
      }
      return value;
    }
  }
}
