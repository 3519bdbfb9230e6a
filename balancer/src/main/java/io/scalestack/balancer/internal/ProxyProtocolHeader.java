package io.scalestack.balancer.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.NetUtil;
import io.scalestack.balancer.ProxyProtocol;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Encodes the PROXY protocol header the balancer writes first on a backend connection in TCP mode
 * (HAProxy's {@code proxy-protocol.txt}). Stateless; thread-safe.
 */
final class ProxyProtocolHeader {

  /** §2.2: the 12 bytes every v2 header starts with. */
  static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

  // §2.2, 13th byte: version 2 in the high nibble, command in the low one
  private static final int V2_PROXY = 0x21;
  // §2.2, 14th byte: address family in the high nibble, transport in the low one
  private static final int TCP_OVER_IPV4 = 0x11;
  private static final int TCP_OVER_IPV6 = 0x21;
  // §2.2: a connection the proxy made on its own (a health check), not relayed for a client
  private static final int V2_LOCAL = 0x20;
  private static final int UNSPEC = 0x00;

  private ProxyProtocolHeader() {}

  /**
   * The header of {@code version} saying that {@code source} connected to {@code destination};
   * when either is unknown (null), v1's {@code PROXY UNKNOWN} or v2's {@code AF_UNSPEC}, by which
   * the backend keeps the connection's own addresses. When one address is IPv4 and the other IPv6
   * (a dual-stack listener), the IPv4 one is sent IPv4-mapped (RFC 4291 §2.5.5.2), since a header
   * has one family.
   */
  static ByteBuf encode(ProxyProtocol version, InetSocketAddress source, InetSocketAddress destination,
      ByteBufAllocator alloc) {
    byte[] src = source == null || source.getAddress() == null ? null : source.getAddress().getAddress();
    byte[] dst = destination == null || destination.getAddress() == null ? null : destination.getAddress().getAddress();
    if (src != null && dst != null && src.length != dst.length) {
      src = ipv6(src);
      dst = ipv6(dst);
    }
    boolean known = src != null && dst != null;
    if (version == ProxyProtocol.V1) {
      // §2.1: "PROXY" SP family SP src SP dst SP sport SP dport CRLF, at most 107 bytes
      String line = !known ? "PROXY UNKNOWN\r\n"
          : "PROXY " + (src.length == 4 ? "TCP4 " : "TCP6 ") + NetUtil.bytesToIpAddress(src) + " "
              + NetUtil.bytesToIpAddress(dst) + " " + source.getPort() + " " + destination.getPort() + "\r\n";
      byte[] bytes = line.getBytes(StandardCharsets.US_ASCII);
      return alloc.buffer(bytes.length).writeBytes(bytes);
    }
    int addressBytes = !known ? 0 : 2 * src.length + 4;
    ByteBuf buf = alloc.buffer(16 + addressBytes);
    buf.writeBytes(V2_SIGNATURE);
    buf.writeByte(V2_PROXY);
    buf.writeByte(!known ? UNSPEC : src.length == 4 ? TCP_OVER_IPV4 : TCP_OVER_IPV6);
    buf.writeShort(addressBytes);
    if (known) {
      // §2.2: source address, destination address, source port, destination port, in network order
      buf.writeBytes(src).writeBytes(dst).writeShort(source.getPort()).writeShort(destination.getPort());
    }
    return buf;
  }

  /**
   * The header of {@code version} for a connection of the balancer's own, a health check: v1's
   * {@code PROXY UNKNOWN} (§2.1), v2's {@code LOCAL} command with {@code AF_UNSPEC} and no
   * addresses (§2.2); either way the backend keeps the connection's own addresses.
   */
  static ByteBuf local(ProxyProtocol version, ByteBufAllocator alloc) {
    if (version == ProxyProtocol.V1) {
      return encode(version, null, null, alloc);
    }
    return alloc.buffer(16).writeBytes(V2_SIGNATURE).writeByte(V2_LOCAL).writeByte(UNSPEC).writeShort(0);
  }

  private static byte[] ipv6(byte[] address) {
    if (address.length == 16) {
      return address;
    }
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    System.arraycopy(address, 0, mapped, 12, 4);
    return mapped;
  }
}
