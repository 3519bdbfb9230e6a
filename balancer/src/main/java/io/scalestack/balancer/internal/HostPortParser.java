package io.scalestack.balancer.internal;

import java.net.InetSocketAddress;

/** {@code host:port} parsing for configuration readers outside this package. Stateless; thread-safe. */
public final class HostPortParser {

  private HostPortParser() {}

  /**
   * Parses {@code host:port} ({@code [v6]:port} for IPv6); a host name comes back unresolved.
   *
   * @throws IllegalArgumentException {@code field: 'value' (expected: host:port)}
   */
  public static InetSocketAddress parse(String field, String value) {
    return HostPort.parse(field, value);
  }
}
