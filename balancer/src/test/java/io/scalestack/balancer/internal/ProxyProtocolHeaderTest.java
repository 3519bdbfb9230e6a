package io.scalestack.balancer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.scalestack.balancer.ProxyProtocol;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The headers the balancer sends are what the spec says, and what a strict decoder reads back. */
class ProxyProtocolHeaderTest {

  private static InetSocketAddress at(String ip, int port) throws UnknownHostException {
    return new InetSocketAddress(InetAddress.getByName(ip), port);
  }

  private static String v1(InetSocketAddress source, InetSocketAddress destination) {
    ByteBuf buf = ProxyProtocolHeader.encode(ProxyProtocol.V1, source, destination, ByteBufAllocator.DEFAULT);
    try {
      return buf.toString(StandardCharsets.US_ASCII);
    } finally {
      buf.release();
    }
  }

  private static HAProxyMessage decode(ByteBuf header) {
    EmbeddedChannel channel = new EmbeddedChannel(new HAProxyMessageDecoder());
    channel.writeInbound(header);
    HAProxyMessage message = channel.readInbound();
    channel.finishAndReleaseAll();
    return message;
  }

  @Test
  void writesV1LinesForEachFamily() throws Exception {
    assertThat(v1(at("192.0.2.1", 56324), at("198.51.100.2", 443)))
        .isEqualTo("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
    assertThat(v1(at("2001:db8::1", 1), at("2001:db8::2", 65535)))
        .isEqualTo("PROXY TCP6 2001:db8::1 2001:db8::2 1 65535\r\n");
    assertThat(v1(null, at("198.51.100.2", 443))).isEqualTo("PROXY UNKNOWN\r\n");
  }

  @Test
  void mapsIpv4ToIpv6WhenTheFamiliesDiffer() throws Exception {
    String line = v1(at("192.0.2.1", 1000), at("2001:db8::2", 2000));
    assertThat(line).startsWith("PROXY TCP6 ").endsWith(" 2001:db8::2 1000 2000\r\n");
    HAProxyMessage message = decode(io.netty.buffer.Unpooled.copiedBuffer(line, StandardCharsets.US_ASCII));
    try {
      assertThat(InetAddress.getByName(message.sourceAddress())).isEqualTo(InetAddress.getByName("192.0.2.1"));
    } finally {
      message.release();
    }
  }

  @Test
  void v2HeadersDecodeToTheSameAddresses() throws Exception {
    String[][] cases = {{"192.0.2.1", "198.51.100.2"}, {"2001:db8::1", "2001:db8::2"}, {"192.0.2.1", "2001:db8::2"}};
    for (String[] c : cases) {
      ByteBuf header = ProxyProtocolHeader.encode(ProxyProtocol.V2, at(c[0], 40000), at(c[1], 443),
          ByteBufAllocator.DEFAULT);
      assertThat(header.readableBytes()).isEqualTo(c[0].contains(":") || c[1].contains(":") ? 16 + 36 : 16 + 12);
      HAProxyMessage message = decode(header);
      try {
        assertThat(message.command()).isEqualTo(HAProxyCommand.PROXY);
        assertThat(message.proxiedProtocol().transportProtocol())
            .isEqualTo(HAProxyProxiedProtocol.TransportProtocol.STREAM);
        assertThat(InetAddress.getByName(message.sourceAddress())).isEqualTo(InetAddress.getByName(c[0]));
        assertThat(InetAddress.getByName(message.destinationAddress())).isEqualTo(InetAddress.getByName(c[1]));
        assertThat(message.sourcePort()).isEqualTo(40000);
        assertThat(message.destinationPort()).isEqualTo(443);
      } finally {
        message.release();
      }
    }
  }

  @Test
  void v2WithAnUnknownSourceIsUnspec() {
    ByteBuf header = ProxyProtocolHeader.encode(ProxyProtocol.V2, null, null, ByteBufAllocator.DEFAULT);
    assertThat(header.readableBytes()).isEqualTo(16);
    HAProxyMessage message = decode(header);
    try {
      assertThat(message.proxiedProtocol()).isEqualTo(HAProxyProxiedProtocol.UNKNOWN);
    } finally {
      message.release();
    }
  }
}
