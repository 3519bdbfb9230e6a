package io.scalestack.balancer.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class HostPortTest {

  @Test
  void parsesIpLiteralsWithoutALookupAndKeepsHostNamesUnresolved() {
    InetSocketAddress v4 = HostPort.parse("address", "127.0.1.11:8080");
    assertThat(v4.isUnresolved()).isFalse();
    assertThat(v4.getAddress().getHostAddress()).isEqualTo("127.0.1.11");
    assertThat(v4.getPort()).isEqualTo(8080);
    assertThat(HostPort.format(v4)).isEqualTo("127.0.1.11:8080");

    InetSocketAddress v6 = HostPort.parse("address", "[::1]:9000");
    assertThat(v6.isUnresolved()).isFalse();
    assertThat(HostPort.format(v6)).isEqualTo("[0:0:0:0:0:0:0:1]:9000");

    InetSocketAddress name = HostPort.parse("address", "web-1.internal:80");
    assertThat(name.isUnresolved()).isTrue();
    assertThat(HostPort.format(name)).isEqualTo("web-1.internal:80");
  }

  @Test
  void rejectsAnythingButHostColonPort() {
    for (String bad : new String[] {"x", ":80", "host:", "host:0", "host:65536", "host:8o", "a b:80", "::1:80",
        "[nothost]:80", "host:123456"}) {
      assertThatThrownBy(() -> HostPort.parse("address", bad))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("address: '" + bad + "' (expected: host:port)");
    }
    assertThatThrownBy(() -> HostPort.parse("address", null)).hasMessage("address: null (expected: host:port)");
  }

  @Test
  void originFormStripsSchemeAndAuthority() {
    assertThat(ProxyHeaders.originForm("/a?b=1")).isEqualTo("/a?b=1");
    assertThat(ProxyHeaders.originForm("http://example.com/a/b?c")).isEqualTo("/a/b?c");
    assertThat(ProxyHeaders.originForm("http://example.com")).isEqualTo("/");
    assertThat(ProxyHeaders.originForm("http://example.com?q=1")).isEqualTo("/?q=1");
  }
}
