package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.checkRound;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RoutingTest {

  @RegisterExtension final Resources resources = new Resources();

  private <T extends AutoCloseable> T track(T resource) {
    return resources.track(resource);
  }

  @Test
  void roundRobinSpreadsRequestsEvenly() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    TestBackend c = track(TestBackend.start("c"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.ROUND_ROBIN)
        .backend("a", a.address()).backend("b", b.address()).backend("c", c.address())
        .build().start());
    awaitAllUp(lb, scheduler);

    Map<String, Long> servedBy = new java.util.TreeMap<>();
    for (int i = 0; i < 30; i++) {
      HttpResponse<String> response = get(lb.address(), "/item/" + i);
      assertThat(response.statusCode()).isEqualTo(200);
      servedBy.merge(response.body(), 1L, Long::sum);
    }

    assertThat(servedBy).containsExactlyInAnyOrderEntriesOf(Map.of("a", 10L, "b", 10L, "c", 10L));
    assertThat(List.of(a.requests(), b.requests(), c.requests())).containsExactly(10, 10, 10);
    assertThat(lb.backends()).extracting(BackendStatus::requests).containsExactly(10L, 10L, 10L);
  }

  @Test
  void leastConnectionsPrefersTheIdleBackend() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.LEAST_CONNECTIONS)
        .backend("a", a.address()).backend("b", b.address())
        .build().start());
    awaitAllUp(lb, scheduler);

    CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> get(lb.address(), "/slow"));
    await().atMost(Duration.ofSeconds(5)).until(() -> a.slowArrived.get() + b.slowArrived.get() == 1);
    TestBackend busy = a.slowArrived.get() == 1 ? a : b;
    TestBackend idle = busy == a ? b : a;
    assertThat(status(lb, busy.name).inFlight()).isEqualTo(1);

    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      servedBy.add(get(lb.address(), "/fast").body());
    }

    // round robin would have sent half of them to the busy backend
    assertThat(servedBy).containsOnly(idle.name);
    busy.slowGate.countDown();
    assertThat(slow.get().statusCode()).isEqualTo(200);
    assertThat(slow.get().body()).isEqualTo(busy.name);
    await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, busy.name).inFlight() == 0);
  }

  @Test
  void reusesKeepAliveConnectionsToBackends() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);

    for (int i = 0; i < 20; i++) {
      // a new client connection each time: reuse must come from the balancer's pool
      try (RawClient client = new RawClient(lb.address())) {
        client.send("GET /n/" + i + " HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n");
        assertThat(client.read().status()).isEqualTo(200);
      }
    }

    assertThat(a.requests()).isEqualTo(20);
    assertThat(a.connections()).isEqualTo(1);
    assertThat(status(lb, "a").activeConnections()).isEqualTo(1);
  }

  @Test
  void boundsConnectionsPerBackendAndQueuesTheRest() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).maxConnectionsPerBackend(1).backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);

    CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> get(lb.address(), "/slow"));
    await().atMost(Duration.ofSeconds(5)).until(() -> a.slowArrived.get() == 1);
    CompletableFuture<HttpResponse<String>> queued = CompletableFuture.supplyAsync(() -> get(lb.address(), "/queued"));
    await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, "a").inFlight() == 2);
    assertThat(a.requests()).as("the second request waits for the only connection").isEqualTo(1);

    a.slowGate.countDown();
    assertThat(slow.get().statusCode()).isEqualTo(200);
    assertThat(queued.get().statusCode()).isEqualTo(200);
    assertThat(a.requests()).isEqualTo(2);
    assertThat(a.connections()).isEqualTo(1);
  }

  @Test
  void evictsIdleBackendConnections() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backendIdleTimeout(Duration.ofMillis(200))
        .backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);

    assertThat(get(lb.address(), "/").statusCode()).isEqualTo(200);
    assertThat(status(lb, "a").activeConnections()).isEqualTo(1);

    await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, "a").activeConnections() == 0);
    assertThat(get(lb.address(), "/").statusCode()).isEqualTo(200);
    assertThat(a.connections()).isEqualTo(2);
  }

  @Test
  void addsForwardedHeadersAndRemovesHopByHopFields() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);

    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /who HTTP/1.1\r\n"
          + "Host: shop.example:8080\r\n"
          + "X-Forwarded-For: 203.0.113.7\r\n"
          + "X-Forwarded-Proto: https\r\n"
          + "Connection: keep-alive, X-Session-Hop\r\n"
          + "Keep-Alive: timeout=5\r\n"
          + "X-Session-Hop: secret\r\n"
          + "Proxy-Connection: keep-alive\r\n"
          + "X-End-To-End: kept\r\n"
          + "\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("a");
    }

    TestBackend.Received seen = a.received.getFirst();
    assertThat(seen.header("X-Forwarded-For")).isEqualTo("203.0.113.7, 127.0.0.1");
    assertThat(seen.header("X-Forwarded-Proto")).isEqualTo("http");
    assertThat(seen.header("X-Forwarded-Host")).isEqualTo("shop.example:8080");
    assertThat(seen.header("Host")).isEqualTo("shop.example:8080");
    assertThat(seen.header("Via")).isEqualTo("1.1 scalestack-lb");
    assertThat(seen.header("X-End-To-End")).isEqualTo("kept");
    assertThat(seen.header("X-Session-Hop")).isNull();
    assertThat(seen.header("Keep-Alive")).isNull();
    assertThat(seen.header("Proxy-Connection")).isNull();
  }

  @Test
  void newBackendGetsNoTrafficUntilItsFirstSuccessfulHealthCheck() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).build().start());

    assertThat(status(lb, "a").state()).isEqualTo(BackendState.DOWN);
    HttpResponse<String> before = get(lb.address(), "/");
    assertThat(before.statusCode()).isEqualTo(503);
    assertThat(before.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(before.body()).isEqualTo("{\"error\":\"no backend is available\"}");
    assertThat(a.requests()).isZero();

    checkRound(scheduler, 1);

    assertThat(status(lb, "a").state()).isEqualTo(BackendState.UP);
    assertThat(get(lb.address(), "/").statusCode()).isEqualTo(200);
  }

  @Test
  void honoursClientKeepAliveAndHttp10Close() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);

    try (RawClient client = new RawClient(lb.address())) {
      // two pipelined requests on one connection, answered in order
      client.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response first = client.read();
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.body()).isEqualTo("a");
      assertThat(first.header("connection")).isNull();
      RawClient.Response second = client.readHead();
      assertThat(second.status()).isEqualTo(200);
      // a HEAD response tells the length a GET would get, and carries no body
      assertThat(second.header("content-length")).isEqualTo("1");
      client.send("GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.read().body()).isEqualTo("a");
    }
    try (RawClient client = new RawClient(lb.address())) {
      // RFC 9112 §9.3: an HTTP/1.0 client asks for keep-alive and is told it got it
      client.send("GET /k1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.header("connection")).isEqualTo("keep-alive");
      client.send("GET /k2 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      assertThat(client.read().body()).isEqualTo("a");
    }
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /4 HTTP/1.0\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(client.closedByPeer()).isTrue();
    }
    assertThat(a.received).extracting(TestBackend.Received::path).containsExactly("/1", "/2", "/3", "/k1", "/k2", "/4");
    assertThat(a.received).extracting(TestBackend.Received::method).containsExactly("GET", "HEAD", "GET", "GET", "GET", "GET");
    Map<String, Long> byConnection = a.received.stream()
        .collect(Collectors.groupingBy(r -> r.remote().toString(), Collectors.counting()));
    // every request, from three client connections, rode the balancer's one pooled connection
    assertThat(byConnection.values()).containsExactly(6L);
  }
}
