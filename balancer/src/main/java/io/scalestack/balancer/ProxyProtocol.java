package io.scalestack.balancer;

import java.util.Locale;

/**
 * A version of HAProxy's PROXY protocol, which prefixes a connection with a header naming the
 * original client and destination addresses, so that a server behind a TCP proxy still learns
 * who its client is: {@link #V1} a text line, {@link #V2} a binary header (HAProxy's
 * {@code proxy-protocol.txt}, sections 2.1 and 2.2).
 *
 * <p>Immutable; thread-safe.
 */
public enum ProxyProtocol {
  /** The human-readable header: {@code PROXY TCP4 192.0.2.1 192.0.2.2 56324 443\r\n}, at most 107 bytes. */
  V1("v1"),
  /** The binary header: a 12-byte signature, version and command, family, length, addresses. */
  V2("v2");

  private final String configName;

  ProxyProtocol(String configName) {
    this.configName = configName;
  }

  /** The name in {@code lb.yaml} and in the admin API: {@code v1} or {@code v2}. */
  public String configName() {
    return configName;
  }

  /**
   * The version called {@code s} ({@code v1} or {@code v2}, any case).
   *
   * @throws IllegalArgumentException naming the value and the expected ones
   */
  public static ProxyProtocol parse(String s) {
    String key = s == null ? "" : s.strip().toLowerCase(Locale.ROOT);
    for (ProxyProtocol version : values()) {
      if (version.configName.equals(key)) {
        return version;
      }
    }
    throw new IllegalArgumentException("sendProxyProtocol: '" + s + "' (expected: v1 or v2)");
  }
}
