package io.scalestack.balancer;

import java.time.Duration;
import java.util.Objects;

/**
 * How the balancer actively checks its backends, with HAProxy's semantics: every {@link
 * #interval()} (± {@link #jitter()}, so that checks of many backends do not fall in step) it
 * sends {@code GET} {@link #path()} on a new connection; an answer with a 2xx or 3xx status
 * within {@link #timeout()} is a success, anything else a failure. A {@link Type#TCP TCP} check
 * only opens a connection (HAProxy's default {@code check} without {@code option httpchk}). A backend that is
 * up goes down after {@link #fall()} consecutive failures; a backend that is down comes up after
 * {@link #rise()} consecutive successes.
 *
 * <p>A newly added backend starts down and comes up after its first successful check (HAProxy's
 * {@code init-state down}), so a backend that is not ready yet never gets traffic; the first
 * check runs at once. A backend ejected after a connection failure needs the full {@code rise}.
 *
 * <p>Immutable; thread-safe. Built by {@link #builder()}, whose setters validate at once.
 */
public final class HealthCheck {

  private static final HealthCheck DEFAULTS = new Builder().build();

  /** What a check does. */
  public enum Type {
    /** {@code GET path}; a 2xx or 3xx status passes. */
    HTTP,
    /** A TCP connect; an accepted connection passes. */
    TCP
  }

  private final String path;
  private final Duration interval;
  private final Duration timeout;
  private final int rise;
  private final int fall;
  private final Type type;
  private final double jitter;

  private HealthCheck(Builder builder) {
    this.type = builder.type;
    this.jitter = builder.jitter;
    this.path = builder.path;
    this.interval = builder.interval;
    this.timeout = builder.timeout;
    this.rise = builder.rise;
    this.fall = builder.fall;
  }

  /** A builder starting from the defaults: HTTP {@code /health}, every 1 s ± 10%, 1 s timeout, rise 2, fall 2. */
  public static Builder builder() {
    return new Builder();
  }

  /** The defaults: HTTP {@code /health}, every 1 s ± 10%, 1 s timeout, rise 2, fall 2. */
  public static HealthCheck defaults() {
    return DEFAULTS;
  }

  /** The request target checked, in origin form, for example {@code /health}. */
  public String path() {
    return path;
  }

  /** The time between the end of one check and the start of the next. */
  public Duration interval() {
    return interval;
  }

  /** How long one check (connect and answer) may take before it counts as a failure. */
  public Duration timeout() {
    return timeout;
  }

  /** Consecutive successes that take a down backend up. */
  public int rise() {
    return rise;
  }

  /** Consecutive failures that take an up backend down. */
  public int fall() {
    return fall;
  }

  /** HTTP or TCP. */
  public Type type() {
    return type;
  }

  /** The fraction of the interval by which each wait varies at random, both ways (0.1: ±10%). */
  public double jitter() {
    return jitter;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HealthCheck other
        && path.equals(other.path)
        && interval.equals(other.interval)
        && timeout.equals(other.timeout)
        && rise == other.rise
        && fall == other.fall
        && type == other.type
        && jitter == other.jitter;
  }

  @Override
  public int hashCode() {
    return Objects.hash(path, interval, timeout, rise, fall, type, jitter);
  }

  @Override
  public String toString() {
    return "HealthCheck[" + (type == Type.TCP ? "tcp" : "path=" + path) + ", interval=" + interval
        + ", jitter=" + jitter + ", timeout=" + timeout + ", rise=" + rise + ", fall=" + fall + "]";
  }

  /** Builds a {@link HealthCheck}; not thread-safe. */
  public static final class Builder {
    private String path = "/health";
    private Duration interval = Duration.ofSeconds(1);
    private Duration timeout = Duration.ofSeconds(1);
    private int rise = 2;
    private int fall = 2;
    private Type type = Type.HTTP;
    private double jitter = 0.1;

    private Builder() {}

    /** HTTP (the default) or TCP. */
    public Builder type(Type type) {
      this.type = Objects.requireNonNull(type, "type");
      return this;
    }

    /** The random variation of each interval, as a fraction of it: 0 to 0.5; default 0.1 (±10%). */
    public Builder jitter(double jitter) {
      if (!(jitter >= 0 && jitter <= 0.5)) {
        throw new IllegalArgumentException("jitter: " + jitter + " (expected: 0.0..0.5)");
      }
      this.jitter = jitter;
      return this;
    }

    /** The request target to check, in origin form ({@code /health}, {@code /ready?deep=1}). */
    public Builder path(String path) {
      Objects.requireNonNull(path, "path");
      if (!path.startsWith("/") || path.length() > 2048 || !isVisibleAscii(path)) {
        throw new IllegalArgumentException(
            "path: '" + path + "' (expected: an origin-form request target starting with '/', visible ASCII, at most 2048 characters)");
      }
      this.path = path;
      return this;
    }

    /** The time between the end of one check and the start of the next; default 1 s. */
    public Builder interval(Duration interval) {
      this.interval = positive("interval", interval);
      return this;
    }

    /** How long one check may take; default 1 s. */
    public Builder timeout(Duration timeout) {
      this.timeout = positive("timeout", timeout);
      return this;
    }

    /** Consecutive successes that take a down backend up; default 2. */
    public Builder rise(int rise) {
      if (rise < 1) {
        throw new IllegalArgumentException("rise: " + rise + " (expected: >= 1)");
      }
      this.rise = rise;
      return this;
    }

    /** Consecutive failures that take an up backend down; default 2. */
    public Builder fall(int fall) {
      if (fall < 1) {
        throw new IllegalArgumentException("fall: " + fall + " (expected: >= 1)");
      }
      this.fall = fall;
      return this;
    }

    /** The health check. */
    public HealthCheck build() {
      return new HealthCheck(this);
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
      }
      if (value.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: <= PT24H)");
      }
      return value;
    }

    private static boolean isVisibleAscii(String s) {
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c <= 0x20 || c >= 0x7f) {
          return false;
        }
      }
      return true;
    }
  }
}
