package io.scalestack.balancer;

import java.util.Locale;

/**
 * How a pool picks a backend among those that may take a request: the algorithms the seed notes
 * name (round robin, least connection, response time, hash, bandwidth) and the ones HAProxy,
 * nginx and Envoy add. Every weighted algorithm uses a backend's weight (1..256), scaled down
 * during slow start.
 *
 * <p>Immutable; thread-safe.
 */
public enum Algorithm {
  /**
   * Smooth weighted round robin (nginx's): over any run of requests a backend of weight {@code w}
   * gets exactly {@code w / Σw} of them, interleaved rather than in bursts.
   */
  ROUND_ROBIN("round-robin"),
  /**
   * The backend with the fewest requests in flight per unit of weight; ties go to each tied
   * backend in turn. HAProxy's {@code leastconn}, counted in requests because connections are
   * pooled.
   */
  LEAST_CONNECTIONS("least-connections"),
  /**
   * Least response time: of two backends picked at random (power of two choices), the one whose
   * peak-EWMA latency times (requests in flight + 1), per unit of weight, is lower. Finagle's and
   * Envoy's "peak EWMA / P2C".
   */
  RESPONSE_TIME("response-time"),
  /** A backend at random, in proportion to its weight. */
  RANDOM("random"),
  /**
   * Consistent hash of the client's IP address: a client keeps its backend while that backend is
   * up (HAProxy's {@code source}, nginx's {@code ip_hash}).
   */
  SOURCE_HASH("source-hash"),
  /**
   * Consistent hash (a ring with virtual nodes) of a key taken from the request — a header, a
   * cookie, a query parameter or the path, see {@link HashKey} — optionally with bounded loads.
   * A request without the key goes round robin.
   */
  HASH("hash"),
  /** The backend with the fewest request and response bytes in flight per unit of weight. */
  BANDWIDTH("bandwidth");

  private static final String EXPECTED =
      "round-robin, least-connections, response-time, random, source-hash, hash or bandwidth";

  private final String configName;

  Algorithm(String configName) {
    this.configName = configName;
  }

  /** The name used in configuration files and on the command line, for example {@code round-robin}. */
  public String configName() {
    return configName;
  }

  /**
   * Parses a configuration name (case-insensitive): {@code round-robin}, {@code
   * least-connections}, {@code response-time}, {@code random}, {@code source-hash}, {@code hash}
   * or {@code bandwidth}. HAProxy's {@code roundrobin}, {@code leastconn} and {@code source}, and
   * the seed notes' spellings ({@code round robin}, {@code least connection}, {@code least
   * response time}) are accepted too.
   *
   * @throws IllegalArgumentException naming the value and what was expected
   */
  public static Algorithm parse(String s) {
    if (s != null) {
      String key = s.strip().toLowerCase(Locale.ROOT).replace(' ', '-').replace('_', '-');
      switch (key) {
        case "round-robin", "roundrobin", "wrr" -> {
          return ROUND_ROBIN;
        }
        case "least-connections", "least-connection", "leastconn", "least-conn" -> {
          return LEAST_CONNECTIONS;
        }
        case "response-time", "least-response-time", "peak-ewma" -> {
          return RESPONSE_TIME;
        }
        case "random" -> {
          return RANDOM;
        }
        case "source-hash", "source", "ip-hash" -> {
          return SOURCE_HASH;
        }
        case "hash", "consistent-hash" -> {
          return HASH;
        }
        case "bandwidth", "least-bandwidth" -> {
          return BANDWIDTH;
        }
        default -> { }
      }
    }
    throw new IllegalArgumentException(
        "algorithm: " + (s == null ? "null" : "'" + s + "'") + " (expected: " + EXPECTED + ")");
  }
}
