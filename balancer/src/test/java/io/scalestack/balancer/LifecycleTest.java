package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.anyPort;
import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class LifecycleTest {

  @Test
  void startFailsWithAClearMessageWhenTheAddressIsTaken() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, Fixtures.LOOPBACK)) {
      InetSocketAddress address = new InetSocketAddress(Fixtures.LOOPBACK, taken.getLocalPort());
      LoadBalancer lb = balancer(new ManualScheduler()).listen(address).build();

      assertThatThrownBy(lb::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("listen: 127.0.0.1:" + taken.getLocalPort()
              + " (expected: a free local address; binding failed: ");
      assertThatThrownBy(lb::start).hasMessage("start: the balancer is closed (expected: new)");
      lb.close();
    }
  }

  @Test
  void closeLetsAnInFlightRequestFinishAndStopsAccepting() throws Exception {
    try (TestBackend a = TestBackend.start("a")) {
      ManualScheduler scheduler = new ManualScheduler();
      LoadBalancer lb = balancer(scheduler).backend("a", a.address()).build().start();
      awaitAllUp(lb, scheduler);
      InetSocketAddress address = lb.address();

      CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> get(address, "/slow"));
      await().atMost(Duration.ofSeconds(5)).until(() -> a.slowArrived.get() == 1);
      CompletableFuture<Void> closed = CompletableFuture.runAsync(lb::close);
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThatThrownBy(() -> new Socket(address.getAddress(), address.getPort()).close())
              .isInstanceOf(ConnectException.class));
      assertThat(closed).isNotDone();

      a.slowGate.countDown();
      assertThat(slow.get().statusCode()).isEqualTo(200);
      assertThat(slow.get().body()).isEqualTo("a");
      assertThat(slow.get().headers().firstValue("connection")).hasValue("close");
      closed.get();
    }
  }

  @Test
  void builderRejectsInvalidSettingsNamingFieldValueAndExpectation() {
    assertThatThrownBy(() -> LoadBalancer.builder().retries(-1)).hasMessage("retries: -1 (expected: 0..100)");
    assertThatThrownBy(() -> LoadBalancer.builder().connectTimeout(Duration.ZERO))
        .hasMessage("connectTimeout: PT0S (expected: > 0)");
    assertThatThrownBy(() -> LoadBalancer.builder().responseTimeout(Duration.ofMillis(-5)))
        .hasMessage("responseTimeout: PT-0.005S (expected: > 0)");
    assertThatThrownBy(() -> LoadBalancer.builder().maxContentLengthBytes(-1))
        .hasMessage("maxContentLengthBytes: -1 (expected: >= 0)");
    assertThatThrownBy(() -> LoadBalancer.builder().maxConnectionsPerBackend(0))
        .hasMessage("maxConnectionsPerBackend: 0 (expected: >= 1)");
    assertThatThrownBy(() -> LoadBalancer.builder().backend("web 1", anyPort()))
        .hasMessage("name: 'web 1' (expected: 1 to 64 characters of A-Z a-z 0-9 . _ -)");
    assertThatThrownBy(() -> LoadBalancer.builder().backend("web-1", anyPort()).backend("web-1", anyPort()))
        .hasMessage("backend: 'web-1' (expected: a name not given before)");
    InetSocketAddress same = new InetSocketAddress(Fixtures.LOOPBACK, 18080);
    assertThatThrownBy(() -> LoadBalancer.builder().listen(same).adminListen(same).build())
        .hasMessage("adminListen: 127.0.0.1:18080 (expected: an address other than listen)");
  }

  @Test
  void algorithmParsesConfigNamesAndRejectsOthersPrecisely() {
    assertThat(Algorithm.parse("round-robin")).isEqualTo(Algorithm.ROUND_ROBIN);
    assertThat(Algorithm.parse("least-connections")).isEqualTo(Algorithm.LEAST_CONNECTIONS);
    assertThat(Algorithm.parse(" Least-Connections ")).isEqualTo(Algorithm.LEAST_CONNECTIONS);
    assertThat(Algorithm.parse("leastconn")).isEqualTo(Algorithm.LEAST_CONNECTIONS);
    assertThat(Algorithm.ROUND_ROBIN.configName()).isEqualTo("round-robin");
    assertThatThrownBy(() -> Algorithm.parse("fastest"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("algorithm: 'fastest' (expected: round-robin, least-connections, response-time, random, source-hash, hash or bandwidth)");
    assertThatThrownBy(() -> Algorithm.parse(null))
        .hasMessage("algorithm: null (expected: round-robin, least-connections, response-time, random, source-hash, hash or bandwidth)");
  }
}
