package io.scalestack.balancer;

import java.util.Locale;

/**
 * How the balancer picks a backend among those that are {@link BackendState#UP}.
 *
 * <p>Immutable; thread-safe.
 */
public enum Algorithm {
  /** Each healthy backend in turn. */
  ROUND_ROBIN("round-robin"),
  /**
   * The healthy backend with the fewest requests in flight; ties go to each tied backend in turn.
   * HAProxy's {@code leastconn}, counted in requests because connections are pooled.
   */
  LEAST_CONNECTIONS("least-connections");

  private final String configName;

  Algorithm(String configName) {
    this.configName = configName;
  }

  /** The name used in configuration files and on the command line, for example {@code round-robin}. */
  public String configName() {
    return configName;
  }

  /**
   * Parses a configuration name: {@code round-robin} or {@code least-connections} (case-insensitive;
   * HAProxy's {@code roundrobin} and {@code leastconn} are accepted too).
   *
   * @throws IllegalArgumentException naming the value and what was expected
   */
  public static Algorithm parse(String s) {
    if (s != null) {
      switch (s.strip().toLowerCase(Locale.ROOT)) {
        case "round-robin", "roundrobin" -> {
          return ROUND_ROBIN;
        }
        case "least-connections", "leastconn" -> {
          return LEAST_CONNECTIONS;
        }
        default -> { }
      }
    }
    throw new IllegalArgumentException(
        "algorithm: " + (s == null ? "null" : "'" + s + "'") + " (expected: round-robin or least-connections)");
  }
}
