package io.scalestack.balancer;

import java.util.Locale;

/**
 * What the balancer's main listener speaks: HTTP/1.1 (a layer-7 reverse proxy, the default) or
 * plain TCP (a layer-4 proxy that relays the bytes of each connection to one backend, as HAProxy's
 * {@code mode tcp} or nginx's {@code stream}). One {@link LoadBalancer} has one mode; pools,
 * health checks, the admin API and metrics are the same in both.
 *
 * <p>Immutable; thread-safe.
 */
public enum Mode {
  /** HTTP/1.1 reverse proxy: requests are parsed, routed, retried and rewritten. */
  HTTP("http"),
  /**
   * TCP proxy: each client connection gets one backend connection, chosen by the pool's
   * algorithm when the client connects, and the bytes are relayed both ways unchanged.
   */
  TCP("tcp");

  private final String configName;

  Mode(String configName) {
    this.configName = configName;
  }

  /** The name in {@code lb.yaml} and on the command line: {@code http} or {@code tcp}. */
  public String configName() {
    return configName;
  }

  /**
   * The mode called {@code s} ({@code http} or {@code tcp}, any case).
   *
   * @throws IllegalArgumentException naming the value and the expected ones
   */
  public static Mode parse(String s) {
    String key = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
    for (Mode mode : values()) {
      if (mode.configName.equals(key)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("mode: '" + s + "' (expected: http or tcp)");
  }
}
