package io.scalestack.cli;

import java.net.InetSocketAddress;

/** Parsing of {@code host:port} flags, with the house error message. */
final class Addresses {

  private Addresses() {}

  static InetSocketAddress parse(String flag, String text) {
    int colon = text == null ? -1 : text.lastIndexOf(':');
    if (colon <= 0) {
      throw new BadInputException(flag + ": '" + text + "' (expected: host:port)");
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new BadInputException(flag + ": '" + text + "' (expected: host:port with a port in 0..65535)");
    }
    if (port < 0 || port > 65535) {
      throw new BadInputException(flag + ": '" + text + "' (expected: host:port with a port in 0..65535)");
    }
    return new InetSocketAddress(text.substring(0, colon), port);
  }
}
