package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.checkRound;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.status;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scalestack.observability.Telemetry;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdminApiTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }

  private static HttpResponse<String> put(LoadBalancer lb, String name, String body) {
    return send(HttpRequest.newBuilder(uri(lb.adminAddress(), "/backends/" + name))
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  private static HttpResponse<String> post(LoadBalancer lb, String path) {
    return send(HttpRequest.newBuilder(uri(lb.adminAddress(), path)).POST(HttpRequest.BodyPublishers.noBody()));
  }

  private static HttpResponse<String> delete(LoadBalancer lb, String name) {
    return send(HttpRequest.newBuilder(uri(lb.adminAddress(), "/backends/" + name)).DELETE());
  }

  private static String address(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  @Test
  void servesHealthBackendsAndPrometheusMetrics() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    Telemetry telemetry = track(Telemetry.forMember("lb-test"));
    LoadBalancer lb = track(balancer(scheduler).telemetry(telemetry).backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);
    assertThat(get(lb.address(), "/x").statusCode()).isEqualTo(200);

    HttpResponse<String> health = get(lb.adminAddress(), "/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"status\":\"UP\"}");

    JsonNode backends = JSON.readTree(get(lb.adminAddress(), "/backends").body());
    assertThat(backends).hasSize(1);
    JsonNode first = backends.get(0);
    assertThat(first.get("name").asText()).isEqualTo("a");
    assertThat(first.get("address").asText()).endsWith(":" + a.address().getPort());
    assertThat(first.get("state").asText()).isEqualTo("UP");
    assertThat(first.get("inFlight").asInt()).isZero();
    assertThat(first.get("activeConnections").asInt()).isEqualTo(1);
    assertThat(first.get("requests").asLong()).isEqualTo(1);

    HttpResponse<String> metrics = get(lb.adminAddress(), "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("content-type")).hasValue(Telemetry.CONTENT_TYPE);
    assertThat(metrics.body())
        .contains("scalestack_lb_requests_total{backend=\"a\",member=\"lb-test\",status=\"200\"} 1.0")
        .contains("scalestack_lb_request_duration_seconds_bucket{backend=\"a\"")
        .contains("scalestack_lb_backend_state{backend=\"a\",member=\"lb-test\",state=\"UP\"} 1.0")
        .contains("scalestack_lb_backend_state{backend=\"a\",member=\"lb-test\",state=\"DOWN\"} 0.0")
        .contains("scalestack_lb_health_checks_total{backend=\"a\",member=\"lb-test\",result=\"success\"}");
  }

  @Test
  void addsAndRemovesBackendsAtRuntime() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);

    HttpResponse<String> created = put(lb, "b", "{\"address\":\"" + address(b.address()) + "\"}");
    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(JSON.readTree(created.body()).get("state").asText()).isEqualTo("DOWN");
    awaitAllUp(lb, scheduler);
    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      servedBy.add(get(lb.address(), "/").body());
    }
    assertThat(servedBy).containsOnly("a", "b").contains("b");

    // a restarted server registering again at the same address changes nothing
    HttpResponse<String> again = put(lb, "b", "{\"address\":\"" + address(b.address()) + "\"}");
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(again.body()).get("state").asText()).isEqualTo("UP");

    assertThat(delete(lb, "a").statusCode()).isEqualTo(204);
    HttpResponse<String> missing = delete(lb, "a");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(missing.body()).isEqualTo("{\"error\":\"backend: 'a' (expected: the name of a backend)\"}");
    int before = a.requests();
    for (int i = 0; i < 4; i++) {
      assertThat(get(lb.address(), "/").body()).isEqualTo("b");
    }
    assertThat(a.requests()).isEqualTo(before);
    assertThat(lb.backends()).extracting(BackendStatus::name).containsExactly("b");
  }

  @Test
  void acceptsAHostNameAndShowsTheAddressItResolvedTo() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).build().start());

    HttpResponse<String> created = put(lb, "a", "{\"address\":\"localhost:" + a.address().getPort() + "\"}");

    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(JSON.readTree(created.body()).get("address").asText())
        .isEqualTo(a.address().getAddress().getHostAddress() + ":" + a.address().getPort());
    awaitAllUp(lb, scheduler);
    assertThat(get(lb.address(), "/").body()).isEqualTo("a");
  }

  @Test
  void rejectsABadAddressWithAPreciseMessage() throws Exception {
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).build().start());

    HttpResponse<String> bad = put(lb, "x", "{\"address\":\"x\"}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).isEqualTo("{\"error\":\"address: 'x' (expected: host:port)\"}");

    assertThat(put(lb, "x", "{\"address\":\"127.0.0.1:70000\"}").body())
        .isEqualTo("{\"error\":\"address: '127.0.0.1:70000' (expected: host:port)\"}");
    assertThat(put(lb, "x", "{\"addr\":\"127.0.0.1:80\"}").body())
        .isEqualTo("{\"error\":\"address: missing (expected: host:port)\"}");
    HttpResponse<String> notJson = put(lb, "x", "{address");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(notJson.body()).startsWith("{\"error\":\"body: not valid JSON (expected: a JSON object like");
    HttpResponse<String> badName = put(lb, "bad%20name", "{\"address\":\"127.0.0.1:80\"}");
    assertThat(badName.statusCode()).isEqualTo(400);
    assertThat(badName.body()).isEqualTo("{\"error\":\"name: 'bad name' (expected: 1 to 64 characters of A-Z a-z 0-9 . _ -)\"}");
    assertThat(lb.backends()).isEmpty();
    assertThat(post(lb, "/backends/nope/drain").statusCode()).isEqualTo(404);
    assertThat(get(lb.adminAddress(), "/nowhere").statusCode()).isEqualTo(404);
    HttpResponse<String> wrongMethod = post(lb, "/backends");
    assertThat(wrongMethod.statusCode()).isEqualTo(405);
    assertThat(wrongMethod.headers().firstValue("allow")).hasValue("GET");
  }

  @Test
  void drainStopsNewRequestsWhileAnInFlightOneCompletes() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).backend("b", b.address()).build().start());
    awaitAllUp(lb, scheduler);

    CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> get(lb.address(), "/slow"));
    await().atMost(Duration.ofSeconds(5)).until(() -> a.slowArrived.get() + b.slowArrived.get() == 1);
    TestBackend draining = a.slowArrived.get() == 1 ? a : b;
    TestBackend other = draining == a ? b : a;

    HttpResponse<String> drained = post(lb, "/backends/" + draining.name + "/drain");
    assertThat(drained.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(drained.body()).get("state").asText()).isEqualTo("DRAINING");
    assertThat(JSON.readTree(drained.body()).get("inFlight").asInt()).isEqualTo(1);
    int before = draining.requests();
    for (int i = 0; i < 4; i++) {
      assertThat(get(lb.address(), "/").body()).isEqualTo(other.name);
    }
    assertThat(draining.requests()).isEqualTo(before);

    draining.slowGate.countDown();
    assertThat(slow.get().statusCode()).isEqualTo(200);
    assertThat(slow.get().body()).isEqualTo(draining.name);
    await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, draining.name).inFlight() == 0);
    assertThat(status(lb, draining.name).state()).isEqualTo(BackendState.DRAINING);

    HttpResponse<String> ready = post(lb, "/backends/" + draining.name + "/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(ready.body()).get("state").asText()).isEqualTo("UP");
    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      servedBy.add(get(lb.address(), "/").body());
    }
    assertThat(servedBy).contains(draining.name);
  }

  @Test
  void removingABackendLetsItsInFlightRequestFinish() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).build().start());
    awaitAllUp(lb, scheduler);

    CompletableFuture<HttpResponse<String>> slow = CompletableFuture.supplyAsync(() -> get(lb.address(), "/slow"));
    await().atMost(Duration.ofSeconds(5)).until(() -> a.slowArrived.get() == 1);
    assertThat(lb.removeBackend("a")).isTrue();
    assertThat(get(lb.address(), "/").statusCode()).isEqualTo(503);

    a.slowGate.countDown();
    assertThat(slow.get().statusCode()).isEqualTo(200);
    assertThat(slow.get().body()).isEqualTo("a");
    checkRound(scheduler, 0);
  }
}
