package io.scalestack.balancer.internal;

import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.regex.Pattern;

/** Parses and formats {@code host:port} addresses. Stateless; thread-safe. */
final class HostPort {

  // RFC 1123 host names (letters, digits, hyphens, dots); underscores tolerated as many resolvers do
  private static final Pattern HOST_NAME = Pattern.compile("[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})?");

  private HostPort() {}

  /**
   * Parses {@code host:port} ({@code [v6]:port} for IPv6). An IP literal comes back resolved
   * (no lookup); a host name comes back unresolved, to be resolved off the event loop.
   *
   * @throws IllegalArgumentException {@code field: 'value' (expected: host:port)}
   */
  static InetSocketAddress parse(String field, String value) {
    if (value == null) {
      throw new IllegalArgumentException(field + ": null (expected: host:port)");
    }
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw invalid(field, value);
    }
    String host = value.substring(0, colon);
    String portText = value.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
      if (!NetUtil.isValidIpV6Address(host)) {
        throw invalid(field, value);
      }
    } else if (host.indexOf(':') >= 0 || !HOST_NAME.matcher(host).matches()) {
      throw invalid(field, value);
    }
    if (portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw invalid(field, value);
    }
    int port = Integer.parseInt(portText);
    if (port < 1 || port > 65535) {
      throw invalid(field, value);
    }
    InetAddress literal = NetUtil.createInetAddressFromIpAddressString(host);
    return literal != null ? new InetSocketAddress(literal, port) : InetSocketAddress.createUnresolved(host, port);
  }

  /**
   * {@code host:port}: the IP literal when resolved (IPv6 in brackets), else the host name; never
   * triggers a lookup.
   */
  static String format(InetSocketAddress address) {
    String host = address.getAddress() != null ? address.getAddress().getHostAddress() : address.getHostString();
    if (address.getAddress() instanceof Inet6Address || host.indexOf(':') >= 0) {
      return "[" + host + "]:" + address.getPort();
    }
    return host + ":" + address.getPort();
  }

  private static IllegalArgumentException invalid(String field, String value) {
    return new IllegalArgumentException(field + ": '" + value + "' (expected: host:port)");
  }
}
