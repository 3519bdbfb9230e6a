package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** URL switching: routes pick pools, first match wins, paths are rewritten; through the real balancer. */
class ContentSwitchingTest {

  @RegisterExtension final Resources resources = new Resources();

  private <T extends AutoCloseable> T track(T resource) {
    return resources.track(resource);
  }

  private NamedBackend start(String name) throws IOException {
    return track(NamedBackend.start(name));
  }

  private static String request(LoadBalancer lb, String method, String path, String... headers) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(uri(lb.address(), path))
        .method(method, HttpRequest.BodyPublishers.noBody());
    for (int i = 0; i < headers.length; i += 2) {
      builder.header(headers[i], headers[i + 1]);
    }
    return send(builder).body();
  }

  private static String withHost(LoadBalancer lb, String host) throws IOException {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
      return client.read().body();
    }
  }

  @Test
  void routesByHostPathHeaderCookieAndMethodFirstMatchWinsElseTheDefaultPool() throws Exception {
    NamedBackend web = start("web");
    NamedBackend api = start("api");
    NamedBackend admin = start("admin");
    NamedBackend images = start("images");
    NamedBackend beta = start("beta");
    NamedBackend writes = start("writes");
    NamedBackend shop = start("shop");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder("api").algorithm(Algorithm.LEAST_CONNECTIONS).build())
        .pool(Pool.builder("admin").build())
        .pool(Pool.builder("images").build())
        .pool(Pool.builder("beta").build())
        .pool(Pool.builder("writes").build())
        .pool(Pool.builder("shop").build())
        .route(Route.to("admin").pathPrefix("/api/admin").build())      // before /api: first match wins
        .route(Route.to("api").pathPrefix("/api/").build())
        .route(Route.to("images").pathRegex("/.*\\.(png|jpe?g)").build())
        .route(Route.to("beta").header("X-Canary", "yes|true").build())
        .route(Route.to("beta").cookie("tier", "beta").build())
        .route(Route.to("writes").methods("POST", "PUT").pathPrefix("/orders").build())
        .route(Route.to("shop").host("*.shop.example").build())
        .backend("web", web.address())
        .backend("api", api.address(), 1, "api")
        .backend("admin", admin.address(), 1, "admin")
        .backend("images", images.address(), 1, "images")
        .backend("beta", beta.address(), 1, "beta")
        .backend("writes", writes.address(), 1, "writes")
        .backend("shop", shop.address(), 1, "shop")
        .build().start());
    awaitAllUp(lb, scheduler);

    assertThat(request(lb, "GET", "/")).isEqualTo("web");
    assertThat(request(lb, "GET", "/api/users")).isEqualTo("api");
    assertThat(request(lb, "GET", "/api")).as("prefix /api/ does not match /api").isEqualTo("web");
    assertThat(request(lb, "GET", "/api/admin/stats")).isEqualTo("admin");
    assertThat(request(lb, "GET", "/photos/cat.jpeg?w=10")).isEqualTo("images");
    assertThat(request(lb, "GET", "/photos/cat.gif")).isEqualTo("web");
    assertThat(request(lb, "GET", "/home", "X-Canary", "true")).isEqualTo("beta");
    assertThat(request(lb, "GET", "/home", "X-Canary", "no")).isEqualTo("web");
    assertThat(request(lb, "GET", "/home", "Cookie", "lang=en; tier=beta")).isEqualTo("beta");
    assertThat(request(lb, "GET", "/home", "Cookie", "tier=gold")).isEqualTo("web");
    assertThat(request(lb, "POST", "/orders/7")).isEqualTo("writes");
    assertThat(request(lb, "GET", "/orders/7")).isEqualTo("web");
    assertThat(withHost(lb, "eu.shop.example")).isEqualTo("shop");
    assertThat(withHost(lb, "EU.Shop.Example:8080")).isEqualTo("shop");
    assertThat(withHost(lb, "shop.example")).isEqualTo("web");
    assertThat(web.seen).extracting(NamedBackend.Seen::uri).doesNotContain("/api/users");
  }

  @Test
  void aRouteStripsOrRewritesThePathPrefixAndKeepsTheQuery() throws Exception {
    NamedBackend web = start("web");
    NamedBackend api = start("api");
    NamedBackend legacy = start("legacy");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder("api").build())
        .pool(Pool.builder("legacy").build())
        .route(Route.to("api").pathPrefix("/api/").stripPrefix("/api").build())
        .route(Route.to("legacy").pathPrefix("/v1/").rewritePrefix("/v1/", "/legacy/v1/").build())
        .backend("web", web.address())
        .backend("api", api.address(), 1, "api")
        .backend("legacy", legacy.address(), 1, "legacy")
        .build().start());
    awaitAllUp(lb, scheduler);

    assertThat(request(lb, "GET", "/api/users/7?fields=name")).isEqualTo("api");
    assertThat(request(lb, "GET", "/v1/items")).isEqualTo("legacy");
    assertThat(request(lb, "GET", "/apiary")).isEqualTo("web");

    assertThat(api.seen).extracting(NamedBackend.Seen::uri).containsExactly("/users/7?fields=name");
    assertThat(legacy.seen).extracting(NamedBackend.Seen::uri).containsExactly("/legacy/v1/items");
    assertThat(web.seen).extracting(NamedBackend.Seen::uri).containsExactly("/apiary");
  }

  @Test
  void aRetryStaysInTheRoutedPoolAndTheRewriteIsAppliedOnce() throws Exception {
    NamedBackend web = start("web");
    NamedBackend dead = NamedBackend.start("dead");
    NamedBackend alive = start("alive");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder("api").build())
        .route(Route.to("api").pathPrefix("/api/").stripPrefix("/api").build())
        .backend("web", web.address())
        .backend("dead", dead.address(), 1, "api")
        .backend("alive", alive.address(), 1, "api")
        .build().start());
    awaitAllUp(lb, scheduler);
    dead.close();

    List<String> bodies = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      bodies.add(request(lb, "GET", "/api/api/x" + i));
    }

    // the dead backend refuses connections: the retry goes to the other api backend, not to web
    assertThat(bodies).containsOnly("alive");
    assertThat(alive.seen).extracting(NamedBackend.Seen::uri).containsExactly("/api/x0", "/api/x1", "/api/x2", "/api/x3");
    assertThat(web.requests()).isZero();
  }

  @Test
  void eachPoolBalancesWithItsOwnAlgorithm() throws Exception {
    NamedBackend a1 = start("a1");
    NamedBackend a2 = start("a2");
    NamedBackend b1 = start("b1");
    NamedBackend b2 = start("b2");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder("sharded").algorithm(Algorithm.HASH).hashKey(HashKey.query("user")).build())
        .route(Route.to("sharded").pathPrefix("/s").build())
        .backend("a1", a1.address()).backend("a2", a2.address())
        .backend("b1", b1.address(), 1, "sharded").backend("b2", b2.address(), 1, "sharded")
        .build().start());
    awaitAllUp(lb, scheduler);

    List<String> roundRobin = new ArrayList<>();
    List<String> hashed = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      roundRobin.add(request(lb, "GET", "/r"));
      hashed.add(request(lb, "GET", "/s?user=zed"));
    }
    assertThat(roundRobin).containsExactly("a1", "a2", "a1", "a2", "a1", "a2");
    assertThat(hashed).hasSize(6).containsOnly(hashed.getFirst());
    assertThat(hashed.getFirst()).isIn("b1", "b2");
    assertThat(lb.pools()).extracting(Pool::name).containsExactly("default", "sharded");
    assertThat(lb.backends()).extracting(BackendStatus::pool).containsExactly("default", "default", "sharded", "sharded");
  }

  @Test
  void configurationMistakesAreNamedPrecisely() {
    assertThatThrownBy(() -> LoadBalancer.builder().route(Route.to("api").build()).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("route: pool 'api' (expected: one of default)");
    assertThatThrownBy(() -> LoadBalancer.builder().backend("a", Fixtures.anyPort(), 1, "nope").build())
        .hasMessage("pool: 'nope' (expected: one of default)");
    assertThatThrownBy(() -> LoadBalancer.builder().backend("a", Fixtures.anyPort(), 0))
        .hasMessage("weight: 0 (expected: 1..256)");
    assertThatThrownBy(() -> Route.to("api").pathRegex("(unclosed"))
        .hasMessageStartingWith("pathRegex: '(unclosed' (expected: a Java regular expression;");
    assertThatThrownBy(() -> Route.to("api").pathPrefix("api"))
        .hasMessage("pathPrefix: 'api' (expected: a path starting with '/', visible ASCII)");
    assertThatThrownBy(() -> Route.to("bad pool"))
        .hasMessage("pool: 'bad pool' (expected: 1 to 64 characters of A-Z a-z 0-9 . _ -)");
    assertThatThrownBy(() -> Pool.builder("p").algorithm(Algorithm.HASH).build())
        .hasMessage("hashKey: missing for pool 'p' (expected: header:NAME, cookie:NAME, query:NAME or path with algorithm hash)");
    assertThatThrownBy(() -> HashKey.parse("body:x"))
        .hasMessage("hashKey: 'body:x' (expected: header:NAME, cookie:NAME, query:NAME or path)");
    assertThatThrownBy(() -> Pool.builder("p").hashLoadFactor(0.5))
        .hasMessage("hashLoadFactor: 0.5 (expected: 0, or 1.0..100.0)");
    assertThat(HashKey.parse("Header:X-User").toString()).isEqualTo("header:X-User");
    assertThat(HashKey.parse("cookie:uid")).isEqualTo(HashKey.cookie("uid"));
    assertThat(Sticky.parse("insert:SRV")).isEqualTo(Sticky.insertCookie("SRV"));
    assertThat(Sticky.parse("prefix:JSESSIONID").mode()).isEqualTo(Sticky.Mode.PREFIX_COOKIE);
    assertThat(Sticky.parse("source")).isEqualTo(Sticky.sourceIp());
    assertThatThrownBy(() -> Sticky.parse("cookie"))
        .hasMessage("sticky: 'cookie' (expected: insert:COOKIE, prefix:COOKIE or source)");
    for (Algorithm algorithm : Algorithm.values()) {
      assertThat(Algorithm.parse(algorithm.configName())).isEqualTo(algorithm);
    }
    assertThat(Algorithm.parse("least connection")).isEqualTo(Algorithm.LEAST_CONNECTIONS);
    assertThat(Algorithm.parse("round robin")).isEqualTo(Algorithm.ROUND_ROBIN);
    assertThat(Algorithm.parse("response time")).isEqualTo(Algorithm.RESPONSE_TIME);
    assertThat(Algorithm.parse("source")).isEqualTo(Algorithm.SOURCE_HASH);
  }
}
