package io.scalestack.balancer;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A named group of backends with its own balancing: HAProxy's {@code backend} section, nginx's
 * {@code upstream}, Envoy's cluster. {@link Route}s send requests to pools; a request no route
 * matches goes to the pool called {@value #DEFAULT}.
 *
 * <p>Immutable; thread-safe. Built by {@link #builder(String)}, whose setters validate at once.
 */
public final class Pool {

  /** The name of the pool that takes requests no route matches, and backends added without a pool. */
  public static final String DEFAULT = "default";

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final String name;
  private final Algorithm algorithm;
  private final HashKey hashKey;
  private final double hashLoadFactor;
  private final Sticky sticky;
  private final Duration slowStart;
  private final OutlierDetection outlierDetection;
  private final int panicThresholdPercent;
  private final HealthCheck healthCheck;
  private final ProxyProtocol sendProxyProtocol;

  private Pool(Builder b) {
    this.name = b.name;
    this.algorithm = b.algorithm;
    this.hashKey = b.hashKey;
    this.hashLoadFactor = b.hashLoadFactor;
    this.sticky = b.sticky;
    this.slowStart = b.slowStart;
    this.outlierDetection = b.outlierDetection;
    this.panicThresholdPercent = b.panicThresholdPercent;
    this.healthCheck = b.healthCheck;
    this.sendProxyProtocol = b.sendProxyProtocol;
  }

  /** A builder for pool {@code name}: round robin, no stickiness, no slow start, no outlier detection. */
  public static Builder builder(String name) {
    return new Builder(name);
  }

  /** A builder starting from this pool's settings. */
  public Builder toBuilder() {
    Builder b = new Builder(name);
    b.algorithm = algorithm;
    b.hashKey = hashKey;
    b.hashLoadFactor = hashLoadFactor;
    b.sticky = sticky;
    b.slowStart = slowStart;
    b.outlierDetection = outlierDetection;
    b.panicThresholdPercent = panicThresholdPercent;
    b.healthCheck = healthCheck;
    b.sendProxyProtocol = sendProxyProtocol;
    return b;
  }

  /** The error for an invalid pool name, or null: 1 to 64 characters of {@code A-Z a-z 0-9 . _ -}. */
  public static String nameError(String name) {
    if (name != null && NAME.matcher(name).matches()) {
      return null;
    }
    return "pool: " + (name == null ? "null" : "'" + name + "'") + " (expected: 1 to 64 characters of A-Z a-z 0-9 . _ -)";
  }

  public String name() {
    return name;
  }

  public Algorithm algorithm() {
    return algorithm;
  }

  /** Where {@link Algorithm#HASH} takes its key; null for the other algorithms. */
  public HashKey hashKey() {
    return hashKey;
  }

  /**
   * The bounded-load factor of consistent hashing ("consistent hashing with bounded loads",
   * Mirrokni et al.): a backend takes a key's request only while it has fewer than {@code factor}
   * times the average requests in flight, else the next backend on the ring does; 0 for unbounded.
   */
  public double hashLoadFactor() {
    return hashLoadFactor;
  }

  /** Session persistence, or null for none. */
  public Sticky sticky() {
    return sticky;
  }

  /**
   * How long a backend that comes up ramps its weight from 10% to 100%; zero for no slow start.
   * Backends present when the balancer starts do not ramp. Under the hash algorithms the ramp
   * moves a growing share of the backend's keys to it, each key once.
   */
  public Duration slowStart() {
    return slowStart;
  }

  /** Passive health checking, or null for none. */
  public OutlierDetection outlierDetection() {
    return outlierDetection;
  }

  /**
   * Envoy's panic threshold: when fewer than this percentage of the pool's backends are healthy,
   * every backend that is not draining gets requests, healthy or not; 0 (the default) for never.
   */
  public int panicThresholdPercent() {
    return panicThresholdPercent;
  }

  /** This pool's active health check, or empty to use the balancer's. */
  public Optional<HealthCheck> healthCheck() {
    return Optional.ofNullable(healthCheck);
  }

  /**
   * The PROXY protocol header the balancer writes first on each new connection to this pool's
   * backends, or null (the default) for none. Only in {@link Mode#TCP}: in HTTP mode backend
   * connections are pooled and shared by many clients, so no one client's address can head them.
   */
  public ProxyProtocol sendProxyProtocol() {
    return sendProxyProtocol;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Pool p
        && name.equals(p.name)
        && algorithm == p.algorithm
        && Objects.equals(hashKey, p.hashKey)
        && hashLoadFactor == p.hashLoadFactor
        && Objects.equals(sticky, p.sticky)
        && slowStart.equals(p.slowStart)
        && Objects.equals(outlierDetection, p.outlierDetection)
        && panicThresholdPercent == p.panicThresholdPercent
        && Objects.equals(healthCheck, p.healthCheck)
        && sendProxyProtocol == p.sendProxyProtocol;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, algorithm, hashKey, hashLoadFactor, sticky, slowStart, outlierDetection,
        panicThresholdPercent, healthCheck, sendProxyProtocol);
  }

  @Override
  public String toString() {
    return "Pool[" + name + ", " + algorithm.configName()
        + (hashKey != null ? ", hashKey=" + hashKey : "")
        + (hashLoadFactor > 0 ? ", hashLoadFactor=" + hashLoadFactor : "")
        + (sticky != null ? ", sticky=" + sticky : "")
        + (!slowStart.isZero() ? ", slowStart=" + slowStart : "")
        + (outlierDetection != null ? ", " + outlierDetection : "")
        + (panicThresholdPercent > 0 ? ", panicThreshold=" + panicThresholdPercent + "%" : "")
        + (healthCheck != null ? ", " + healthCheck : "")
        + (sendProxyProtocol != null ? ", sendProxyProtocol=" + sendProxyProtocol.configName() : "") + "]";
  }

  /** Builds a {@link Pool}; not thread-safe. */
  public static final class Builder {
    private final String name;
    private Algorithm algorithm = Algorithm.ROUND_ROBIN;
    private HashKey hashKey;
    private double hashLoadFactor;
    private Sticky sticky;
    private Duration slowStart = Duration.ZERO;
    private OutlierDetection outlierDetection;
    private int panicThresholdPercent;
    private HealthCheck healthCheck;
    private ProxyProtocol sendProxyProtocol;

    private Builder(String name) {
      String error = nameError(name);
      if (error != null) {
        throw new IllegalArgumentException(error);
      }
      this.name = name;
    }

    /** The balancing algorithm; default round robin. {@link Algorithm#HASH} needs a {@link #hashKey}. */
    public Builder algorithm(Algorithm algorithm) {
      this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
      return this;
    }

    /** Where the hash algorithm takes its key. */
    public Builder hashKey(HashKey hashKey) {
      this.hashKey = Objects.requireNonNull(hashKey, "hashKey");
      return this;
    }

    /** The bounded-load factor, for example 1.25; 0 for none (the default); else at least 1. */
    public Builder hashLoadFactor(double factor) {
      if (!(factor == 0 || (factor >= 1 && factor <= 100))) {
        throw new IllegalArgumentException("hashLoadFactor: " + factor + " (expected: 0, or 1.0..100.0)");
      }
      this.hashLoadFactor = factor;
      return this;
    }

    /** No session persistence (the default). */
    public Builder withoutSticky() {
      this.sticky = null;
      return this;
    }

    /** No passive health checking (the default). */
    public Builder withoutOutlierDetection() {
      this.outlierDetection = null;
      return this;
    }

    /** Session persistence; default none. */
    public Builder sticky(Sticky sticky) {
      this.sticky = Objects.requireNonNull(sticky, "sticky");
      return this;
    }

    /** Slow start; default zero (none). */
    public Builder slowStart(Duration slowStart) {
      Objects.requireNonNull(slowStart, "slowStart");
      if (slowStart.isNegative() || slowStart.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("slowStart: " + slowStart + " (expected: PT0S..PT1H)");
      }
      this.slowStart = slowStart;
      return this;
    }

    /** Passive health checking; default none. */
    public Builder outlierDetection(OutlierDetection outlierDetection) {
      this.outlierDetection = Objects.requireNonNull(outlierDetection, "outlierDetection");
      return this;
    }

    /** The panic threshold in percent; default 0 (never panic). */
    public Builder panicThresholdPercent(int percent) {
      if (percent < 0 || percent > 100) {
        throw new IllegalArgumentException("panicThresholdPercent: " + percent + " (expected: 0..100)");
      }
      this.panicThresholdPercent = percent;
      return this;
    }

    /**
     * This pool's own active health check (for example a TCP check for a pool of non-HTTP
     * backends, or a different path); null, the default, uses the balancer's.
     */
    public Builder healthCheck(HealthCheck healthCheck) {
      this.healthCheck = healthCheck;
      return this;
    }

    /**
     * Writes a PROXY protocol header of {@code version} first on each new backend connection
     * (TCP mode only); default none.
     */
    public Builder sendProxyProtocol(ProxyProtocol version) {
      this.sendProxyProtocol = Objects.requireNonNull(version, "sendProxyProtocol");
      return this;
    }

    /** No PROXY protocol header towards the backends (the default). */
    public Builder withoutProxyProtocol() {
      this.sendProxyProtocol = null;
      return this;
    }

    /**
     * The pool.
     *
     * @throws IllegalArgumentException if the algorithm is {@code hash} without a hash key
     */
    public Pool build() {
      if (algorithm == Algorithm.HASH && hashKey == null) {
        throw new IllegalArgumentException("hashKey: missing for pool '" + name
            + "' (expected: header:NAME, cookie:NAME, query:NAME or path with algorithm hash)");
      }
      return new Pool(this);
    }
  }
}
