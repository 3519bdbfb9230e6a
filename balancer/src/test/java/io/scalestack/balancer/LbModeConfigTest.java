package io.scalestack.balancer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** lb.yaml keys of TCP mode and the PROXY protocol: mode, acceptProxyProtocol, sendProxyProtocol. */
class LbModeConfigTest {

  @Test
  void aTcpModeFileRelaysConnectionsAndSendsTheProxyHeader() throws Exception {
    java.util.List<String> headers = new java.util.concurrent.CopyOnWriteArrayList<>();
    try (TcpBackend backend = ProxyProtocolTest.headerBackend("db-1", headers)) {
      String yaml = """
          listen: 127.0.0.1:0
          mode: tcp
          acceptProxyProtocol: true
          admin: {listen: 127.0.0.1:0}
          ioThreads: 2
          healthCheck: {interval: 100ms, timeout: 500ms, rise: 1}
          pools:
            default:
              algorithm: source-hash
              sticky: source
              sendProxyProtocol: v1
              backends:
                - {name: db-1, address: %s}
          """.formatted("127.0.0.1:" + backend.address().getPort());
      try (LoadBalancer lb = LbConfig.parse("lb.yaml", yaml).build().start()) {
        assertThat(lb.pools().getFirst().sendProxyProtocol()).isEqualTo(ProxyProtocol.V1);
        // the default health check of TCP mode is a connect: this backend does not speak HTTP
        await().atMost(Duration.ofSeconds(10)).until(() -> lb.backends().getFirst().state() == BackendState.UP);
        try (Socket socket = TcpModeTest.connect(lb.address())) {
          socket.getOutputStream().write("PROXY TCP4 192.0.2.1 192.0.2.2 1111 2222\r\n".getBytes(StandardCharsets.US_ASCII));
          InputStream in = socket.getInputStream();
          assertThat(TcpModeTest.readLine(in)).isEqualTo("ok db-1");
        }
        assertThat(headers).containsExactly("PROXY TCP4 192.0.2.1 192.0.2.2 1111 2222\r\n");
      }
    }
  }

  @Test
  void modeMistakesNameLineFieldValueAndExpectation() {
    assertError("mode: udp\n", "lb.yaml:1: mode: 'udp' (expected: http or tcp)");
    assertError("acceptProxyProtocol: maybe\n", "lb.yaml:1: acceptProxyProtocol: 'maybe' (expected: true or false)");
    assertError("mode: tcp\nhttp2: {enabled: true}\n",
        "lb.yaml:2: http2: set in tcp mode (expected: no http2 in tcp mode; it relays bytes as they are, HTTP/2 included)");
    assertError("mode: tcp\nroutes:\n  - {pool: default, pathPrefix: /api/}\n",
        "lb.yaml:3: routes[0]: routes: 1 (expected: none in tcp mode; content switching needs HTTP requests,"
            + " a TCP connection goes to the default pool)");
    assertError("mode: tcp\npools:\n  default:\n    algorithm: hash\n    hashKey: header:X-User\n",
        "lb.yaml:4: pools.default: pool 'default': algorithm: hash with hashKey header:X-User (expected in tcp mode:"
            + " round-robin, least-connections, response-time, random, source-hash or bandwidth; a TCP connection has no"
            + " header, cookie, query or path to hash: source-hash hashes the client address)");
    assertError("mode: tcp\npools:\n  default:\n    sticky: insert:SRV\n",
        "lb.yaml:4: pools.default: pool 'default': sticky: insert:SRV (expected in tcp mode: source or none;"
            + " a TCP connection carries no cookies)");
    assertError("pools:\n  default:\n    sendProxyProtocol: v2\n",
        "lb.yaml:3: pools.default: pool 'default': sendProxyProtocol: v2 (expected: only with mode tcp; in http mode"
            + " backend connections are pooled and shared by many clients)");
    assertError("mode: tcp\npools:\n  default:\n    sendProxyProtocol: v3\n",
        "lb.yaml:4: pools.default.sendProxyProtocol: 'v3' (expected: v1 or v2)");
    LbConfig.parse("lb.yaml", "mode: TCP\npools:\n  default:\n    sendProxyProtocol: 'off'\n").build().close();
    LbConfig.parse("lb.yaml", "mode: http\nacceptProxyProtocol: true\n").build().close();
  }

  @Test
  void theAdminApiRefusesAPoolSettingTheModeCannotUse() throws Exception {
    ManualScheduler scheduler = new ManualScheduler();
    try (LoadBalancer lb = Fixtures.balancer(scheduler).build().start()) {
      var response = Fixtures.send(java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb.adminAddress(), "/pools/default"))
          .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"sendProxyProtocol\":\"v1\"}")));
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(response.body()).contains("sendProxyProtocol: v1 (expected: only with mode tcp");
    }
    try (LoadBalancer lb = TcpModeTest.tcpBalancer(scheduler).build().start()) {
      var response = Fixtures.send(java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb.adminAddress(), "/pools/default"))
          .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"sendProxyProtocol\":\"v2\"}")));
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).contains("\"sendProxyProtocol\":\"v2\"");
      assertThat(lb.pools().getFirst().sendProxyProtocol()).isEqualTo(ProxyProtocol.V2);
      response = Fixtures.send(java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb.adminAddress(), "/pools/default"))
          .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"algorithm\":\"hash\",\"hashKey\":\"path\"}")));
      assertThat(response.statusCode()).isEqualTo(400);
      assertThat(response.body()).contains("(expected in tcp mode:");
    }
  }

  private static void assertError(String yaml, String message) {
    assertThatThrownBy(() -> LbConfig.parse("lb.yaml", yaml).build().close())
        .isInstanceOf(LbConfigException.class)
        .hasMessage(message);
  }
}
