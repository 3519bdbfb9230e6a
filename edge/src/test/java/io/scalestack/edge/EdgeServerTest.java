package io.scalestack.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.edge.TestOrigin.Answer;
import io.scalestack.observability.Telemetry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The edge against a real origin on loopback: RFC 9111 and RFC 5861 behaviour, coalescing, purge, tiers, bad input. */
class EdgeServerTest {

  static {
    Awaitility.setDefaultPollDelay(Duration.ZERO);
    Awaitility.setDefaultPollInterval(Duration.ofMillis(10));
    Awaitility.setDefaultTimeout(Duration.ofSeconds(10));
  }

  static final String TOKEN = "s3cret-purge-token";
  static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  final MutableClock clock = new MutableClock(System.currentTimeMillis() / 1000 * 1000);
  TestOrigin origin;
  EdgeServer edge;
  Telemetry telemetry;

  @BeforeEach
  void setUp() throws IOException {
    origin = new TestOrigin(clock);
  }

  @AfterEach
  void tearDown() {
    if (edge != null) {
      edge.close();
    }
    origin.close();
  }

  EdgeServer.Builder edgeBuilder() {
    telemetry = Telemetry.forMember("edge-test");
    return EdgeServer.builder()
        .listen(new InetSocketAddress("127.0.0.1", 0))
        .adminListen(new InetSocketAddress("127.0.0.1", 0))
        .origin(origin.url())
        .clock(clock)
        .telemetry(telemetry)
        .purgeToken(TOKEN)
        .ioThreads(2);
  }

  void startEdge() {
    edge = edgeBuilder().build().start();
  }

  URI uri(String path) {
    return URI.create("http://127.0.0.1:" + edge.address().getPort() + path);
  }

  HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> admin(String method, String pathAndQuery, String token) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + edge.adminAddress().getPort() + pathAndQuery))
        .method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String xcache(HttpResponse<?> r) {
    return r.headers().firstValue("x-cache").orElse("-");
  }

  // ---------------------------------------------------------------------------------------------
  // Coalescing

  @Test
  void thousandConcurrentMissesMakeOneOriginRequest() throws Exception {
    origin.on("/big-news", Answer.ok("the one and only body", "Cache-Control", "max-age=60").delayed(1000));
    startEdge();
    HttpClient many = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      all.add(many.sendAsync(HttpRequest.newBuilder(uri("/big-news")).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(60, java.util.concurrent.TimeUnit.SECONDS);
    for (CompletableFuture<HttpResponse<String>> f : all) {
      assertThat(f.get().statusCode()).isEqualTo(200);
      assertThat(f.get().body()).isEqualTo("the one and only body");
    }
    assertThat(origin.count("/big-news")).isEqualTo(1);
    assertThat(edge.originRequests()).isEqualTo(1);
    many.close();
  }

  @Test
  void concurrentRevalidationsMakeOneConditionalRequest() throws Exception {
    origin.on("/reval", h -> "\"r1\"".equals(h.getFirst("If-None-Match"))
        ? Answer.of(304, "", "ETag", "\"r1\"", "Cache-Control", "max-age=60").delayed(500)
        : Answer.ok("revalidated body", "ETag", "\"r1\"", "Cache-Control", "max-age=60"));
    startEdge();
    get("/reval");
    clock.advanceSeconds(120);
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      all.add(CLIENT.sendAsync(HttpRequest.newBuilder(uri("/reval")).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      assertThat(f.get().body()).isEqualTo("revalidated body");
      assertThat(xcache(f.get())).isIn("REVALIDATED", "HIT");
    }
    assertThat(origin.count("/reval")).isEqualTo(2);
  }

  @Test
  void uncacheableAnswersAreNotSharedBetweenCoalescedRequests() throws Exception {
    AtomicInteger n = new AtomicInteger();
    origin.on("/private", h -> Answer.ok("for you " + n.incrementAndGet(), "Cache-Control", "private").delayed(300));
    startEdge();
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      all.add(CLIENT.sendAsync(HttpRequest.newBuilder(uri("/private")).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : all) {
      assertThat(f.get().statusCode()).isEqualTo(200);
    }
    assertThat(origin.count("/private")).isEqualTo(5);
  }

  // ---------------------------------------------------------------------------------------------
  // RFC 9111 freshness

  @Test
  void maxAgeFreshThenStaleWithAgeHeader() throws Exception {
    origin.on("/a.css", Answer.ok("body{}", "Cache-Control", "max-age=60"));
    startEdge();
    HttpResponse<String> first = get("/a.css");
    assertThat(xcache(first)).isEqualTo("MISS");
    assertThat(first.headers().firstValue("age")).hasValue("0");
    assertThat(first.headers().firstValue("via").orElse("")).contains("scalestack-edge");
    clock.advanceSeconds(30);
    HttpResponse<String> second = get("/a.css");
    assertThat(xcache(second)).isEqualTo("HIT");
    assertThat(second.body()).isEqualTo("body{}");
    assertThat(second.headers().firstValue("age")).hasValue("30"); // RFC 9111 §4.2.3
    assertThat(origin.count("/a.css")).isEqualTo(1);
    clock.advanceSeconds(31);
    assertThat(xcache(get("/a.css"))).isEqualTo("MISS");
    assertThat(origin.count("/a.css")).isEqualTo(2);
  }

  @Test
  void ageFromOriginAddsToResidentTime() throws Exception {
    origin.on("/aged", Answer.ok("x", "Cache-Control", "max-age=100", "Age", "40"));
    startEdge();
    get("/aged");
    clock.advanceSeconds(10);
    HttpResponse<String> r = get("/aged");
    assertThat(r.headers().firstValue("age")).hasValue("50");
    clock.advanceSeconds(55); // 105 > 100: stale
    get("/aged");
    assertThat(origin.count("/aged")).isEqualTo(2);
  }

  @Test
  void sMaxAgeWinsOverMaxAge() throws Exception {
    origin.on("/s", Answer.ok("x", "Cache-Control", "max-age=10, s-maxage=100"));
    startEdge();
    get("/s");
    clock.advanceSeconds(50);
    assertThat(xcache(get("/s"))).isEqualTo("HIT");
    clock.advanceSeconds(51);
    assertThat(xcache(get("/s"))).isEqualTo("MISS");
    assertThat(origin.count("/s")).isEqualTo(2);
  }

  @Test
  void expiresMinusDateWhenNoMaxAge() throws Exception {
    origin.on("/e", h -> Answer.ok("x", "Expires", java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
        .format(java.time.ZonedDateTime.ofInstant(clock.instant().plusSeconds(60), java.time.ZoneOffset.UTC))));
    origin.on("/e0", Answer.ok("x", "Expires", "0"));
    startEdge();
    get("/e");
    clock.advanceSeconds(59);
    assertThat(xcache(get("/e"))).isEqualTo("HIT");
    clock.advanceSeconds(2);
    assertThat(xcache(get("/e"))).isEqualTo("MISS");
    get("/e0");
    get("/e0");
    assertThat(origin.count("/e0")).isEqualTo(2); // an invalid Expires is already expired (§5.3)
  }

  @Test
  void noStoreAndPrivateAreNeverStored() throws Exception {
    origin.on("/ns", Answer.ok("x", "Cache-Control", "no-store, max-age=60"));
    origin.on("/p", Answer.ok("x", "Cache-Control", "private, max-age=60"));
    origin.on("/none", Answer.ok("x")); // no explicit freshness: no heuristics
    startEdge();
    for (int i = 0; i < 3; i++) {
      assertThat(xcache(get("/ns"))).isEqualTo("MISS");
      assertThat(xcache(get("/p"))).isEqualTo("MISS");
      get("/none");
    }
    assertThat(origin.count("/ns")).isEqualTo(3);
    assertThat(origin.count("/p")).isEqualTo(3);
    assertThat(origin.count("/none")).isEqualTo(3);
  }

  @Test
  void noCacheIsRevalidatedBeforeEachUse() throws Exception {
    origin.on("/nc", h -> "\"v1\"".equals(h.getFirst("If-None-Match"))
        ? Answer.of(304, "", "ETag", "\"v1\"", "Cache-Control", "no-cache")
        : Answer.ok("payload", "ETag", "\"v1\"", "Cache-Control", "no-cache"));
    startEdge();
    assertThat(xcache(get("/nc"))).isEqualTo("MISS");
    for (int i = 0; i < 3; i++) {
      HttpResponse<String> r = get("/nc");
      assertThat(xcache(r)).isEqualTo("REVALIDATED");
      assertThat(r.body()).isEqualTo("payload");
      assertThat(origin.lastHeaders("/nc").getFirst("If-None-Match")).isEqualTo("\"v1\"");
    }
    assertThat(origin.count("/nc")).isEqualTo(4);
  }

  @Test
  void clientCacheControlIsIgnored() throws Exception {
    origin.on("/c", Answer.ok("x", "Cache-Control", "max-age=60"));
    startEdge();
    get("/c");
    assertThat(xcache(get("/c", "Cache-Control", "no-cache"))).isEqualTo("HIT");
    assertThat(xcache(get("/c", "Cache-Control", "max-age=0"))).isEqualTo("HIT");
    assertThat(origin.count("/c")).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------
  // Vary

  @Test
  void varyStoresVariantsApart() throws Exception {
    origin.on("/v", h -> Answer.ok("lang=" + h.getFirst("Accept-Language"), "Cache-Control", "max-age=60",
        "Vary", "Accept-Language"));
    startEdge();
    assertThat(get("/v", "Accept-Language", "en").body()).isEqualTo("lang=en");
    assertThat(get("/v", "Accept-Language", "fr").body()).isEqualTo("lang=fr");
    HttpResponse<String> en = get("/v", "Accept-Language", "en");
    assertThat(xcache(en)).isEqualTo("HIT");
    assertThat(en.body()).isEqualTo("lang=en");
    HttpResponse<String> fr = get("/v", "Accept-Language", "fr");
    assertThat(xcache(fr)).isEqualTo("HIT");
    assertThat(fr.body()).isEqualTo("lang=fr");
    assertThat(origin.count("/v")).isEqualTo(2);
  }

  @Test
  void varyStarIsNeverServedFromCache() throws Exception {
    origin.on("/star", Answer.ok("x", "Cache-Control", "max-age=60", "Vary", "*"));
    startEdge();
    get("/star");
    get("/star");
    assertThat(origin.count("/star")).isEqualTo(2);
  }

  // ---------------------------------------------------------------------------------------------
  // Revalidation

  @Test
  void etagRevalidationRefreshesOn304() throws Exception {
    origin.on("/r", h -> "\"abc\"".equals(h.getFirst("If-None-Match"))
        ? Answer.of(304, "", "ETag", "\"abc\"", "Cache-Control", "max-age=10", "X-Refreshed", "yes")
        : Answer.ok("etagged", "ETag", "\"abc\"", "Cache-Control", "max-age=10"));
    startEdge();
    get("/r");
    clock.advanceSeconds(20);
    HttpResponse<String> r = get("/r");
    assertThat(xcache(r)).isEqualTo("REVALIDATED");
    assertThat(r.body()).isEqualTo("etagged");
    assertThat(r.headers().firstValue("x-refreshed")).hasValue("yes"); // §4.3.4: stored headers updated
    HttpResponse<String> again = get("/r");
    assertThat(xcache(again)).isEqualTo("HIT"); // fresh again for max-age=10
    assertThat(again.headers().firstValue("age")).hasValue("0");
    assertThat(origin.count("/r")).isEqualTo(2);
  }

  @Test
  void lastModifiedRevalidation() throws Exception {
    String lm = "Tue, 01 Jan 2030 00:00:00 GMT";
    origin.on("/lm", h -> lm.equals(h.getFirst("If-Modified-Since"))
        ? Answer.of(304, "", "Cache-Control", "max-age=10")
        : Answer.ok("dated", "Last-Modified", lm, "Cache-Control", "max-age=10"));
    startEdge();
    get("/lm");
    clock.advanceSeconds(11);
    HttpResponse<String> r = get("/lm");
    assertThat(xcache(r)).isEqualTo("REVALIDATED");
    assertThat(r.body()).isEqualTo("dated");
    assertThat(origin.lastHeaders("/lm").getFirst("If-Modified-Since")).isEqualTo(lm);
  }

  @Test
  void clientConditionalsAreAnsweredFromCache() throws Exception {
    origin.on("/cond", Answer.ok("x", "ETag", "W/\"e1\"", "Cache-Control", "max-age=60"));
    startEdge();
    get("/cond");
    HttpResponse<String> r = get("/cond", "If-None-Match", "\"other\", W/\"e1\"");
    assertThat(r.statusCode()).isEqualTo(304);
    assertThat(r.headers().firstValue("etag")).hasValue("W/\"e1\"");
    assertThat(get("/cond", "If-None-Match", "\"other\"").statusCode()).isEqualTo(200);
    assertThat(origin.count("/cond")).isEqualTo(1);
  }

  // ---------------------------------------------------------------------------------------------
  // RFC 5861

  @Test
  void staleIfErrorServesWhenOriginIsStopped() throws Exception {
    origin.on("/sie", Answer.ok("still here", "Cache-Control", "max-age=1, stale-if-error=3600"));
    origin.on("/plain", Answer.ok("gone", "Cache-Control", "max-age=1"));
    startEdge();
    get("/sie");
    get("/plain");
    origin.stop();
    clock.advanceSeconds(100);
    HttpResponse<String> r = get("/sie");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("still here");
    assertThat(xcache(r)).isEqualTo("STALE");
    assertThat(get("/plain").statusCode()).isEqualTo(502);
    clock.advanceSeconds(3600);
    assertThat(get("/sie").statusCode()).isEqualTo(502); // past the stale-if-error window
    assertThat(scrape()).contains("scalestack_edge_stale_served_total");
  }

  @Test
  void mustRevalidateForbidsStaleIfError() throws Exception {
    origin.on("/mr", Answer.ok("strict", "Cache-Control", "max-age=1, must-revalidate, stale-if-error=3600"));
    startEdge();
    get("/mr");
    origin.stop();
    clock.advanceSeconds(10);
    assertThat(get("/mr").statusCode()).isEqualTo(504); // RFC 9111 §5.2.2.2
  }

  @Test
  void headOfAStreamedObjectHasNoBody() throws Exception {
    origin.on("/huge", Answer.ok("H".repeat(200 * 1024), "Cache-Control", "max-age=600"));
    edge = edgeBuilder().maxObjectBytes(64 * 1024).build().start();
    String answer = raw("HEAD /huge HTTP/1.1\r\nHost: a\r\n\r\nGET /huge HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false);
    assertThat(answer.split("HTTP/1.1 200", -1)).hasSize(3);
    assertThat(answer.length()).isBetween(200 * 1024, 200 * 1024 + 2048); // one body, the GET's
  }

  @Test
  void staleIfErrorOn5xx() throws Exception {
    AtomicInteger n = new AtomicInteger();
    origin.on("/flaky", h -> n.incrementAndGet() == 1 ? Answer.ok("good", "Cache-Control", "max-age=1, stale-if-error=60")
        : Answer.of(503, "down", "Cache-Control", "no-store"));
    startEdge();
    get("/flaky");
    clock.advanceSeconds(5);
    HttpResponse<String> r = get("/flaky");
    assertThat(r.body()).isEqualTo("good");
    assertThat(xcache(r)).isEqualTo("STALE");
  }

  @Test
  void staleWhileRevalidateServesAtOnceAndRevalidatesOnceInTheBackground() throws Exception {
    AtomicInteger n = new AtomicInteger();
    origin.on("/swr", h -> Answer.ok("v" + n.incrementAndGet(), "Cache-Control", "max-age=1, stale-while-revalidate=60")
        .delayed(n.get() > 1 ? 300 : 0));
    startEdge();
    assertThat(get("/swr").body()).isEqualTo("v1");
    clock.advanceSeconds(5);
    for (int i = 0; i < 5; i++) {
      HttpResponse<String> r = get("/swr");
      assertThat(xcache(r)).isEqualTo("STALE");
      assertThat(r.body()).isEqualTo("v1");
    }
    await().until(() -> xcache(get("/swr")).equals("HIT"));
    assertThat(get("/swr").body()).isEqualTo("v2");
    assertThat(origin.count("/swr")).isEqualTo(2); // one background revalidation for five stale answers
  }

  // ---------------------------------------------------------------------------------------------
  // Purge

  @Test
  void purgeByUrlRemovesEveryVariant() throws Exception {
    origin.on("/pv", h -> Answer.ok("lang=" + h.getFirst("Accept-Language"), "Cache-Control", "max-age=600",
        "Vary", "Accept-Language"));
    startEdge();
    get("/pv", "Accept-Language", "en");
    get("/pv", "Accept-Language", "fr");
    assertThat(xcache(get("/pv", "Accept-Language", "en"))).isEqualTo("HIT");
    HttpResponse<String> purge = admin("POST", "/purge?url=/pv", TOKEN);
    assertThat(purge.statusCode()).isEqualTo(200);
    assertThat(purge.body()).contains("\"purged\":2");
    assertThat(xcache(get("/pv", "Accept-Language", "en"))).isEqualTo("MISS");
    assertThat(xcache(get("/pv", "Accept-Language", "fr"))).isEqualTo("MISS");
    assertThat(origin.count("/pv")).isEqualTo(4);
  }

  @Test
  void purgeByTag() throws Exception {
    origin.on("/photo/1", Answer.ok("1", "Cache-Control", "max-age=600", "Surrogate-Key", "user-7 photo-1"));
    origin.on("/photo/2", Answer.ok("2", "Cache-Control", "max-age=600", "Surrogate-Key", "user-7 photo-2"));
    origin.on("/photo/3", Answer.ok("3", "Cache-Control", "max-age=600", "Surrogate-Key", "user-8 photo-3"));
    startEdge();
    for (String p : List.of("/photo/1", "/photo/2", "/photo/3")) {
      HttpResponse<String> r = get(p);
      assertThat(r.headers().firstValue("surrogate-key")).isEmpty(); // internal
    }
    assertThat(admin("POST", "/purge?tag=user-7", TOKEN).body()).contains("\"purged\":2");
    assertThat(xcache(get("/photo/1"))).isEqualTo("MISS");
    assertThat(xcache(get("/photo/2"))).isEqualTo("MISS");
    assertThat(xcache(get("/photo/3"))).isEqualTo("HIT");
    assertThat(admin("POST", "/purge?tag=user-7", TOKEN).body()).contains("\"purged\":2"); // re-stored, re-indexed
    assertThat(admin("POST", "/purge?tag=nobody", TOKEN).body()).contains("\"purged\":0");
  }

  @Test
  void aPurgeDuringAFillKeepsTheAnswerOutOfTheCache() throws Exception {
    AtomicInteger n = new AtomicInteger();
    origin.on("/slow", h -> Answer.ok("v" + n.incrementAndGet(), "Cache-Control", "max-age=600").delayed(n.get() == 1 ? 500 : 0));
    startEdge();
    CompletableFuture<HttpResponse<String>> first = CLIENT.sendAsync(HttpRequest.newBuilder(uri("/slow")).build(),
        HttpResponse.BodyHandlers.ofString());
    await().until(() -> origin.count("/slow") == 1);
    assertThat(admin("POST", "/purge?url=/slow", TOKEN).statusCode()).isEqualTo(200);
    assertThat(first.get().body()).isEqualTo("v1");
    HttpResponse<String> second = get("/slow");
    assertThat(second.body()).isEqualTo("v2"); // v1 may predate the purge: not stored
    assertThat(xcache(get("/slow"))).isEqualTo("HIT");
  }

  @Test
  void purgeNeedsTheToken() throws Exception {
    origin.on("/x", Answer.ok("x", "Cache-Control", "max-age=600"));
    startEdge();
    get("/x");
    assertThat(admin("POST", "/purge?url=/x", null).statusCode()).isEqualTo(401);
    assertThat(admin("POST", "/purge?url=/x", "wrong-token-123").statusCode()).isEqualTo(401);
    assertThat(xcache(get("/x"))).isEqualTo("HIT");
    assertThat(admin("GET", "/health", null).statusCode()).isEqualTo(200);
  }

  @Test
  void unsafeMethodInvalidatesTheUrl() throws Exception {
    origin.on("/doc", Answer.ok("doc", "Cache-Control", "max-age=600"));
    startEdge();
    get("/doc");
    assertThat(xcache(get("/doc"))).isEqualTo("HIT");
    HttpResponse<String> post = CLIENT.send(HttpRequest.newBuilder(uri("/doc"))
        .POST(HttpRequest.BodyPublishers.ofString("edit")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(xcache(post)).isEqualTo("BYPASS");
    assertThat(xcache(get("/doc"))).isEqualTo("MISS"); // RFC 9111 §4.4
  }

  // ---------------------------------------------------------------------------------------------
  // Tiers and sizes

  @Test
  void memoryBoundEvicts() throws Exception {
    String body = "x".repeat(100 * 1024);
    for (int i = 0; i < 30; i++) {
      origin.on("/m" + i, Answer.ok(body, "Cache-Control", "max-age=600"));
    }
    edge = edgeBuilder().maxMemoryBytes(1 << 20).build().start();
    for (int i = 0; i < 30; i++) {
      assertThat(get("/m" + i).body()).hasSize(body.length());
    }
    await().until(() -> edge.memoryBytes() <= (1 << 20));
    assertThat(edge.objects()).isLessThan(30).isGreaterThan(0);
    assertThat(scrape()).contains("scalestack_edge_evictions_total");
  }

  @Test
  void diskTierRoundTrip(@TempDir Path dir) throws Exception {
    String body = "d".repeat(100 * 1024);
    for (int i = 0; i < 30; i++) {
      origin.on("/d" + i, Answer.ok(body + i, "Cache-Control", "max-age=600", "ETag", "\"d" + i + "\""));
    }
    edge = edgeBuilder().maxMemoryBytes(1 << 20).disk(dir, 64L << 20).build().start();
    for (int i = 0; i < 30; i++) {
      get("/d" + i);
    }
    int before = origin.total();
    // every object is in memory or on disk: all 30 come back without the origin
    await().untilAsserted(() -> {
      for (int i = 0; i < 30; i++) {
        HttpResponse<String> r = get("/d" + i);
        assertThat(r.body()).isEqualTo(body + i);
      }
      assertThat(origin.total()).isEqualTo(before);
    });
  }

  @Test
  void largeObjectsStreamThroughUnstored() throws Exception {
    String body = "L".repeat(256 * 1024);
    origin.on("/large", Answer.ok(body, "Cache-Control", "max-age=600"));
    edge = edgeBuilder().maxObjectBytes(64 * 1024).build().start();
    assertThat(get("/large").body()).isEqualTo(body);
    assertThat(get("/large").body()).isEqualTo(body);
    assertThat(origin.count("/large")).isEqualTo(2);
  }

  @Test
  void headIsServedFromTheStoredGet() throws Exception {
    origin.on("/h", Answer.ok("12345", "Cache-Control", "max-age=600"));
    startEdge();
    get("/h");
    HttpResponse<String> head = CLIENT.send(HttpRequest.newBuilder(uri("/h")).method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.headers().firstValue("content-length")).hasValue("5");
    assertThat(xcache(head)).isEqualTo("HIT");
  }

  // ---------------------------------------------------------------------------------------------
  // Bad input, raw bytes

  @Test
  void malformedRequestsGetOne400AndTheEdgeKeepsServing() throws Exception {
    origin.on("/ok", Answer.ok("fine", "Cache-Control", "max-age=600"));
    startEdge();
    for (String bad : List.of(
        "GET /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "GET /ok HTTP/1.1\r\n\r\n", // no Host
        "GET nope HTTP/1.1\r\nHost: a\r\n\r\n",
        "GARBAGE\r\n\r\n")) {
      String answer = raw(bad, false);
      assertThat(answer).startsWith("HTTP/1.1 400");
      assertThat(answer.split("HTTP/1.1 ", -1)).hasSize(2); // one answer
    }
    assertThat(raw("GET /ok HTTP/1.1\r\nHost: a\r\n" + "X-Long: " + "y".repeat(20_000) + "\r\n\r\n", false)).startsWith("HTTP/1.1 431");
    assertThat(get("/ok").body()).isEqualTo("fine");
  }

  @Test
  void requestSplitByteByByteAndPipelined() throws Exception {
    origin.on("/ok", Answer.ok("fine", "Cache-Control", "max-age=600"));
    startEdge();
    String two = "GET /ok HTTP/1.1\r\nHost: a\r\n\r\nGET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    String answer = raw(two, true);
    assertThat(answer.split("HTTP/1.1 200", -1)).hasSize(3);
    assertThat(answer).contains("X-Cache: MISS").contains("X-Cache: HIT");
    assertThat(answer.indexOf("MISS")).isLessThan(answer.indexOf("HIT")); // in order
  }

  @Test
  void expectContinueIsAnsweredAndTheBodyPassedThrough() throws Exception {
    origin.on("/form", Answer.of(201, "created", "Cache-Control", "no-store"));
    startEdge();
    String answer = raw("POST /form HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", false);
    assertThat(answer).startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201");
    assertThat(answer).endsWith("created");
    assertThat(origin.count("/form")).isEqualTo(1);
  }

  @Test
  void metricsAreExposed() throws Exception {
    origin.on("/m", Answer.ok("abc", "Cache-Control", "max-age=600"));
    startEdge();
    get("/m");
    get("/m");
    String text = admin("GET", "/metrics", null).body();
    assertThat(text).contains("scalestack_edge_requests_total{member=\"edge-test\",result=\"hit\"} 1.0")
        .contains("scalestack_edge_requests_total{member=\"edge-test\",result=\"miss\"} 1.0")
        .contains("scalestack_edge_origin_requests_total{member=\"edge-test\"} 1.0")
        .contains("scalestack_edge_bytes_served_total{member=\"edge-test\"} 6.0")
        .contains("scalestack_edge_objects{member=\"edge-test\"} 1.0")
        .contains("scalestack_edge_memory_bytes")
        .contains("scalestack_edge_hit_ratio{member=\"edge-test\"} 0.5");
  }

  String scrape() {
    return telemetry.scrape();
  }

  /** Sends {@code request} on a raw socket (byte by byte if asked) and reads until the edge closes. */
  String raw(String request, boolean byteByByte) throws IOException {
    try (Socket s = new Socket("127.0.0.1", edge.address().getPort())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      byte[] bytes = request.getBytes(StandardCharsets.ISO_8859_1);
      if (byteByByte) {
        for (byte b : bytes) {
          out.write(b);
          out.flush();
        }
      } else {
        out.write(bytes);
        out.flush();
      }
      InputStream in = s.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
    }
  }
}
