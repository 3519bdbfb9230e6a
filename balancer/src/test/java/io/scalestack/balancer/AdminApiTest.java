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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class AdminApiTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  @RegisterExtension final Resources resources = new Resources();

  private <T extends AutoCloseable> T track(T resource) {
    return resources.track(resource);
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

  private static HttpResponse<String> putJson(LoadBalancer lb, String path, String body, String token) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(lb.adminAddress(), path))
        .header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return send(request);
  }

  @Test
  void requiresTheBearerTokenWhenOneIsConfigured() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    String token = "s3cret-token-0123456789";
    LoadBalancer lb = track(balancer(scheduler).adminToken(token).build().start());

    HttpResponse<String> anonymous = get(lb.adminAddress(), "/backends");
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.headers().firstValue("www-authenticate")).hasValue("Bearer realm=\"scalestack-lb\"");
    assertThat(anonymous.body())
        .isEqualTo("{\"error\":\"authorization: missing or wrong (expected: Authorization: Bearer <admin token>)\"}");
    assertThat(putJson(lb, "/backends/a", "{\"address\":\"" + address(a.address()) + "\"}", "wrong-token-0123456789")
        .statusCode()).isEqualTo(401);
    assertThat(send(HttpRequest.newBuilder(uri(lb.adminAddress(), "/metrics")).header("Authorization", "Basic x")
        .GET()).statusCode()).isEqualTo(401);
    assertThat(lb.backends()).isEmpty();
    // liveness probes need no token
    assertThat(get(lb.adminAddress(), "/health").statusCode()).isEqualTo(200);

    HttpResponse<String> created = putJson(lb, "/backends/a", "{\"address\":\"" + address(a.address()) + "\"}", token);
    assertThat(created.statusCode()).isEqualTo(201);
    HttpResponse<String> listed = send(HttpRequest.newBuilder(uri(lb.adminAddress(), "/backends"))
        .header("Authorization", "bearer " + token).GET());
    assertThat(listed.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(listed.body()).get(0).get("name").asText()).isEqualTo("a");
    assertThatThrownByShortToken();
  }

  private static void assertThatThrownByShortToken() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LoadBalancer.builder().adminToken("short"))
        .hasMessage("adminToken: 5 characters (expected: at least 16 visible ASCII characters)");
  }

  @Test
  void reweightsAndMovesABackendInPlaceKeepingItsConnections() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).backend("b", b.address()).build().start());
    awaitAllUp(lb, scheduler);
    for (int i = 0; i < 4; i++) {
      get(lb.address(), "/warm");
    }
    int connectionsBefore = a.connections();

    HttpResponse<String> reweighted = putJson(lb, "/backends/a", "{\"weight\":3}", null);
    assertThat(reweighted.statusCode()).isEqualTo(200);
    JsonNode node = JSON.readTree(reweighted.body());
    assertThat(node.get("weight").asInt()).isEqualTo(3);
    assertThat(node.get("pool").asText()).isEqualTo("default");
    assertThat(node.get("state").asText()).as("no new health check needed").isEqualTo("UP");

    int aBefore = a.requests();
    int bBefore = b.requests();
    for (int i = 0; i < 40; i++) {
      assertThat(get(lb.address(), "/w").statusCode()).isEqualTo(200);
    }
    assertThat(a.requests() - aBefore).isEqualTo(30);
    assertThat(b.requests() - bBefore).isEqualTo(10);
    assertThat(a.connections()).as("the pooled connection survived").isEqualTo(connectionsBefore);

    assertThat(putJson(lb, "/backends/a", "{\"weight\":0}", null).body())
        .isEqualTo("{\"error\":\"weight: 0 (expected: 1..256)\"}");
    assertThat(putJson(lb, "/backends/a", "{\"pool\":\"nope\"}", null).body())
        .isEqualTo("{\"error\":\"pool: 'nope' (expected: one of default)\"}");

    assertThat(putJson(lb, "/pools/spare", "{\"algorithm\":\"least-connections\"}", null).statusCode()).isEqualTo(201);
    HttpResponse<String> moved = putJson(lb, "/backends/a", "{\"pool\":\"spare\"}", null);
    assertThat(moved.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(moved.body()).get("pool").asText()).isEqualTo("spare");
    for (int i = 0; i < 4; i++) {
      assertThat(get(lb.address(), "/after-move").body()).isEqualTo("b");
    }
    JsonNode pools = JSON.readTree(get(lb.adminAddress(), "/pools").body());
    assertThat(pools.get(0).get("name").asText()).isEqualTo("default");
    assertThat(pools.get(0).get("backends").toString()).isEqualTo("[\"b\"]");
    assertThat(pools.get(1).get("name").asText()).isEqualTo("spare");
    assertThat(pools.get(1).get("algorithm").asText()).isEqualTo("least-connections");
    assertThat(pools.get(1).get("backends").toString()).isEqualTo("[\"a\"]");
  }

  @Test
  void changesAPoolsAlgorithmAtRuntime() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    TestBackend c = track(TestBackend.start("c"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .backend("a", a.address()).backend("b", b.address()).backend("c", c.address()).build().start());
    awaitAllUp(lb, scheduler);

    HttpResponse<String> noKey = putJson(lb, "/pools/default", "{\"algorithm\":\"hash\"}", null);
    assertThat(noKey.statusCode()).isEqualTo(400);
    assertThat(noKey.body()).contains("hashKey: missing for pool 'default'");
    assertThat(putJson(lb, "/pools/default", "{\"algorithm\":\"fastest\"}", null).body()).isEqualTo(
        "{\"error\":\"algorithm: 'fastest' (expected: round-robin, least-connections, response-time, random, source-hash, hash or bandwidth)\"}");
    assertThat(putJson(lb, "/pools/default", "{\"algo\":1}", null).body()).startsWith("{\"error\":\"algo: unknown field");

    HttpResponse<String> changed = putJson(lb, "/pools/default",
        "{\"algorithm\":\"hash\",\"hashKey\":\"header:X-User\",\"hashLoadFactor\":1.25}", null);
    assertThat(changed.statusCode()).isEqualTo(200);
    JsonNode pool = JSON.readTree(changed.body());
    assertThat(pool.get("algorithm").asText()).isEqualTo("hash");
    assertThat(pool.get("hashKey").asText()).isEqualTo("header:X-User");
    assertThat(pool.get("backends")).hasSize(3);
    assertThat(lb.pools().getFirst().algorithm()).isEqualTo(Algorithm.HASH);

    for (int user = 0; user < 10; user++) {
      java.util.Set<String> servedBy = new java.util.HashSet<>();
      for (int i = 0; i < 3; i++) {
        servedBy.add(send(HttpRequest.newBuilder(uri(lb.address(), "/")).header("X-User", "u" + user).GET()).body());
      }
      assertThat(servedBy).hasSize(1);
    }
    assertThat(JSON.readTree(get(lb.adminAddress(), "/pools/default").body()).get("hashLoadFactor").asDouble())
        .isEqualTo(1.25);
    assertThat(get(lb.adminAddress(), "/pools/nope").statusCode()).isEqualTo(404);

    HttpResponse<String> sticky = putJson(lb, "/pools/default",
        "{\"sticky\":\"insert:SRV\",\"outlierDetection\":{\"consecutiveErrors\":3,\"maxEjectionPercent\":50}}", null);
    assertThat(sticky.statusCode()).isEqualTo(200);
    assertThat(lb.pools().getFirst().sticky()).isEqualTo(Sticky.insertCookie("SRV"));
    assertThat(lb.pools().getFirst().outlierDetection().consecutiveErrors()).isEqualTo(3);
    assertThat(lb.pools().getFirst().algorithm()).as("unchanged fields stay").isEqualTo(Algorithm.HASH);
    assertThat(send(HttpRequest.newBuilder(uri(lb.address(), "/")).GET()).headers().allValues("set-cookie"))
        .singleElement().asString().startsWith("SRV=");
    assertThat(putJson(lb, "/pools/default", "{\"sticky\":null,\"outlierDetection\":null}", null).statusCode())
        .isEqualTo(200);
    assertThat(lb.pools().getFirst().sticky()).isNull();
    assertThat(lb.pools().getFirst().outlierDetection()).isNull();
    assertThat(putJson(lb, "/pools/default", "{\"outlierDetection\":{\"consecutiveErrors\":0}}", null).body())
        .isEqualTo("{\"error\":\"consecutiveErrors: 0 (expected: 1..1000)\"}");

    assertThat(putJson(lb, "/pools/default", "{\"healthCheck\":{\"type\":\"tcp\",\"intervalMillis\":2000}}", null)
        .statusCode()).isEqualTo(200);
    assertThat(lb.pools().getFirst().healthCheck())
        .contains(HealthCheck.builder().type(HealthCheck.Type.TCP).interval(Duration.ofSeconds(2)).build());
    assertThat(JSON.readTree(get(lb.adminAddress(), "/pools/default").body()).get("healthCheck").get("type").asText())
        .isEqualTo("tcp");
    assertThat(putJson(lb, "/pools/default", "{\"healthCheck\":{\"type\":\"icmp\"}}", null).body())
        .isEqualTo("{\"error\":\"healthCheck.type: \\\"icmp\\\" (expected: \\\"http\\\" or \\\"tcp\\\")\"}");
    assertThat(putJson(lb, "/pools/default", "{\"healthCheck\":null}", null).statusCode()).isEqualTo(200);
    assertThat(lb.pools().getFirst().healthCheck()).isEmpty();
  }
}
