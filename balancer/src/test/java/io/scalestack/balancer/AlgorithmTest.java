package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.status;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The balancing algorithms, through the real balancer to real backends, judged by counts. */
class AlgorithmTest {

  @RegisterExtension final Resources resources = new Resources();

  private <T extends AutoCloseable> T track(T resource) {
    return resources.track(resource);
  }

  private List<NamedBackend> backends(String... names) throws IOException {
    List<NamedBackend> list = new ArrayList<>();
    for (String name : names) {
      list.add(track(NamedBackend.start(name)));
    }
    return list;
  }

  /** Sends {@code total} GETs from {@code threads} threads; returns the count of each status. */
  static Map<Integer, Integer> load(LoadBalancer lb, int threads, int total, IntFunction<String> path)
      throws Exception {
    Map<Integer, Integer> statuses = new ConcurrentHashMap<>();
    AtomicInteger next = new AtomicInteger();
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        futures.add(pool.submit(() -> {
          int i;
          while ((i = next.getAndIncrement()) < total) {
            statuses.merge(get(lb.address(), path.apply(i)).statusCode(), 1, Integer::sum);
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    }
    return statuses;
  }

  @Test
  void weightedRoundRobinHitsTheExactWeightRatio() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.ROUND_ROBIN)
        .backend("a", bs.get(0).address(), 5)
        .backend("b", bs.get(1).address(), 3)
        .backend("c", bs.get(2).address(), 2)
        .build().start());
    awaitAllUp(lb, scheduler);

    Map<Integer, Integer> statuses = load(lb, 4, 10_000, i -> "/r/" + i);

    assertThat(statuses).containsExactly(Map.entry(200, 10_000));
    assertThat(NamedBackend.countByName(bs)).containsExactly(
        Map.entry("a", 5_000L), Map.entry("b", 3_000L), Map.entry("c", 2_000L));
    assertThat(lb.backends()).extracting(BackendStatus::weight).containsExactly(5, 3, 2);
  }

  @Test
  void smoothRoundRobinInterleavesRatherThanBursts() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .backend("a", bs.get(0).address(), 5)
        .backend("b", bs.get(1).address(), 1)
        .backend("c", bs.get(2).address(), 1)
        .build().start());
    awaitAllUp(lb, scheduler);

    StringBuilder order = new StringBuilder();
    for (int i = 0; i < 14; i++) {
      order.append(get(lb.address(), "/").body());
    }

    // nginx's documented sequence for weights 5, 1, 1, twice
    assertThat(order.toString()).isEqualTo("aabacaa" + "aabacaa");
  }

  @Test
  void responseTimeSendsFewRequestsToABackendTenTimesSlower() throws Exception {
    List<NamedBackend> bs = backends("fast-1", "fast-2", "slow");
    bs.get(0).delayMillis = 5;
    bs.get(1).delayMillis = 5;
    bs.get(2).delayMillis = 50;
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.RESPONSE_TIME)
        .backend("fast-1", bs.get(0).address())
        .backend("fast-2", bs.get(1).address())
        .backend("slow", bs.get(2).address())
        .build().start());
    awaitAllUp(lb, scheduler);

    int total = 500;
    Map<Integer, Integer> statuses = load(lb, 4, total, i -> "/p/" + i);

    assertThat(statuses).containsExactly(Map.entry(200, total));
    double slowShare = (double) bs.get(2).requests() / total;
    // round robin would send it a third; P2C on peak EWMA leaves it little more than its first samples
    assertThat(slowShare).isLessThan(0.05);
    assertThat(bs.get(0).requests()).isGreaterThan(total / 4);
    assertThat(bs.get(1).requests()).isGreaterThan(total / 4);
  }

  @Test
  void leastConnectionsWeighsRequestsInFlightByWeight() throws Exception {
    List<NamedBackend> bs = backends("big", "small");
    NamedBackend big = bs.get(0);
    NamedBackend small = bs.get(1);
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.LEAST_CONNECTIONS)
        .backend("big", big.address(), 4)
        .backend("small", small.address(), 1)
        .build().start());
    awaitAllUp(lb, scheduler);

    // with nothing in flight, (0+1)/4 < (0+1)/1: the heavier backend takes the long requests first
    List<CompletableFuture<HttpResponse<String>>> holds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      holds.add(CompletableFuture.supplyAsync(() -> get(lb.address(), "/hold")));
      int expected = i + 1;
      await().atMost(Duration.ofSeconds(5)).until(() -> big.held.get() + small.held.get() == expected);
    }
    // big: 3 in flight → (3+1)/4 = 1; small: (0+1)/1 = 1; a tie, then small holds one: big wins again
    assertThat(big.held.get()).isEqualTo(3);
    assertThat(small.held.get()).isZero();
    holds.add(CompletableFuture.supplyAsync(() -> get(lb.address(), "/hold")));
    holds.add(CompletableFuture.supplyAsync(() -> get(lb.address(), "/hold")));
    await().atMost(Duration.ofSeconds(5)).until(() -> big.held.get() + small.held.get() == 5);
    assertThat(List.of(big.held.get(), small.held.get())).containsExactly(4, 1);

    // big (4+1)/4 < small (1+1)/1: short requests go to big although it holds four times more
    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      servedBy.add(get(lb.address(), "/quick").body());
    }
    assertThat(servedBy).containsOnly("big");

    big.release(4);
    small.release(1);
    for (CompletableFuture<HttpResponse<String>> hold : holds) {
      assertThat(hold.get().statusCode()).isEqualTo(200);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, "big").inFlight() + status(lb, "small").inFlight() == 0);
  }

  @Test
  void leastConnectionsSendsNewRequestsAwayFromTheBackendHoldingLongOnes() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.parse("leastconn"))
        .backend("a", bs.get(0).address()).backend("b", bs.get(1).address()).backend("c", bs.get(2).address())
        .build().start());
    awaitAllUp(lb, scheduler);

    CompletableFuture<HttpResponse<String>> hold = CompletableFuture.supplyAsync(() -> get(lb.address(), "/hold"));
    await().atMost(Duration.ofSeconds(5)).until(() -> bs.stream().mapToInt(b -> b.held.get()).sum() == 1);
    NamedBackend busy = bs.stream().filter(b -> b.held.get() == 1).findFirst().orElseThrow();
    int before = busy.requests();

    Map<Integer, Integer> statuses = load(lb, 1, 30, i -> "/q/" + i);

    assertThat(statuses).containsExactly(Map.entry(200, 30));
    assertThat(busy.requests()).as("round robin would have sent it 10").isEqualTo(before);
    busy.release(1);
    assertThat(hold.get().statusCode()).isEqualTo(200);
  }

  @Test
  void bandwidthAvoidsTheBackendMovingTheMostBytesEvenWithFewerRequests() throws Exception {
    List<NamedBackend> bs = backends("uploading", "chatty");
    NamedBackend uploading = bs.get(0);
    NamedBackend chatty = bs.get(1);
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.BANDWIDTH)
        .backend("uploading", uploading.address()).backend("chatty", chatty.address())
        .build().start());
    awaitAllUp(lb, scheduler);

    // the first request (a tie) goes to either: make it the 1 MiB upload and see where it went
    byte[] upload = new byte[1 << 20];
    CompletableFuture<HttpResponse<String>> big = CompletableFuture.supplyAsync(() -> send(
        HttpRequest.newBuilder(uri(lb.address(), "/hold/upload")).POST(HttpRequest.BodyPublishers.ofByteArray(upload))));
    await().atMost(Duration.ofSeconds(5)).until(() -> uploading.held.get() + chatty.held.get() == 1);
    NamedBackend loaded = uploading.held.get() == 1 ? uploading : chatty;
    NamedBackend light = loaded == uploading ? chatty : uploading;
    assertThat(status(lb, loaded.name).inFlight()).isEqualTo(1);

    // two bodiless long requests go to the other one: 0 bytes in flight beats 1 MiB
    List<CompletableFuture<HttpResponse<String>>> small = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      small.add(CompletableFuture.supplyAsync(() -> get(lb.address(), "/hold/small")));
      int expected = i + 2;
      await().atMost(Duration.ofSeconds(5)).until(() -> uploading.held.get() + chatty.held.get() == expected);
    }
    assertThat(light.held.get()).isEqualTo(2);

    // least connections would now pick the upload's backend (1 in flight against 2); bandwidth does not
    List<String> servedBy = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      servedBy.add(get(lb.address(), "/quick").body());
    }
    assertThat(servedBy).containsOnly(light.name);

    loaded.release(1);
    light.release(2);
    assertThat(big.get().statusCode()).isEqualTo(200);
    assertThat(loaded.seen.getFirst().bodyBytes()).isEqualTo(1 << 20);
    for (CompletableFuture<HttpResponse<String>> f : small) {
      assertThat(f.get().statusCode()).isEqualTo(200);
    }
  }

  @Test
  void randomSpreadsInProportionToWeight() throws Exception {
    List<NamedBackend> bs = backends("heavy", "light");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.RANDOM)
        .backend("heavy", bs.get(0).address(), 3).backend("light", bs.get(1).address(), 1)
        .build().start());
    awaitAllUp(lb, scheduler);

    int total = 2_000;
    load(lb, 4, total, i -> "/x/" + i);

    // expected 1500 of 2000; ±100 is more than 5 standard deviations (σ ≈ 19)
    assertThat(bs.get(0).requests()).isBetween(1_400, 1_600);
    assertThat(bs.get(0).requests() + bs.get(1).requests()).isEqualTo(total);
  }

  @Test
  void sourceHashKeepsEachClientAddressOnOneBackend() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).algorithm(Algorithm.parse("source"))
        .backend("a", bs.get(0).address()).backend("b", bs.get(1).address()).backend("c", bs.get(2).address())
        .build().start());
    awaitAllUp(lb, scheduler);

    Map<String, Set<String>> backendsByClient = new TreeMap<>();
    for (int client = 1; client <= 12; client++) {
      InetAddress from = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) client});
      for (int i = 0; i < 4; i++) {
        backendsByClient.computeIfAbsent(from.getHostAddress(), k -> new HashSet<>())
            .add(rawGet(lb.address(), from, "/s/" + i, ""));
      }
    }

    assertThat(backendsByClient.values()).allSatisfy(set -> assertThat(set).hasSize(1));
    Set<String> used = new HashSet<>();
    backendsByClient.values().forEach(used::addAll);
    assertThat(used).as("12 addresses spread over the backends").hasSizeGreaterThan(1);
  }

  @Test
  void hashOnAHeaderKeepsEachKeyOnOneBackendAndFallsBackToRoundRobinWithoutIt() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder(Pool.DEFAULT).algorithm(Algorithm.HASH).hashKey(HashKey.parse("header:X-User")).build())
        .backend("a", bs.get(0).address()).backend("b", bs.get(1).address()).backend("c", bs.get(2).address())
        .build().start());
    awaitAllUp(lb, scheduler);

    Map<String, Set<String>> backendsByUser = new TreeMap<>();
    for (int round = 0; round < 3; round++) {
      for (int user = 0; user < 30; user++) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri(lb.address(), "/h/" + round))
            .header("X-User", "user-" + user).GET());
        backendsByUser.computeIfAbsent("user-" + user, k -> new HashSet<>()).add(response.body());
      }
    }
    assertThat(backendsByUser.values()).allSatisfy(set -> assertThat(set).hasSize(1));
    Set<String> used = new HashSet<>();
    backendsByUser.values().forEach(used::addAll);
    assertThat(used).containsExactlyInAnyOrder("a", "b", "c");

    List<String> withoutKey = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      withoutKey.add(get(lb.address(), "/nokey").body());
    }
    assertThat(withoutKey).containsExactlyInAnyOrder("a", "b", "c");
  }

  @Test
  void hashOnACookieAQueryParameterOrThePathIsStableToo() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder("by-cookie").algorithm(Algorithm.HASH).hashKey(HashKey.cookie("uid")).build())
        .pool(Pool.builder("by-query").algorithm(Algorithm.HASH).hashKey(HashKey.query("user")).build())
        .pool(Pool.builder("by-path").algorithm(Algorithm.HASH).hashKey(HashKey.path()).build())
        .route(Route.to("by-cookie").pathPrefix("/c/").build())
        .route(Route.to("by-query").pathPrefix("/q/").build())
        .route(Route.to("by-path").pathPrefix("/p/").build())
        .backend("c1", bs.get(0).address(), 1, "by-cookie").backend("c2", bs.get(1).address(), 1, "by-cookie")
        .backend("c3", bs.get(2).address(), 1, "by-cookie")
        .backend("q1", bs.get(0).address(), 1, "by-query").backend("q2", bs.get(1).address(), 1, "by-query")
        .backend("q3", bs.get(2).address(), 1, "by-query")
        .backend("p1", bs.get(0).address(), 1, "by-path").backend("p2", bs.get(1).address(), 1, "by-path")
        .backend("p3", bs.get(2).address(), 1, "by-path")
        .build().start());
    awaitAllUp(lb, scheduler);

    for (int key = 0; key < 12; key++) {
      Set<String> byCookie = new HashSet<>();
      Set<String> byQuery = new HashSet<>();
      Set<String> byPath = new HashSet<>();
      for (int i = 0; i < 3; i++) {
        byCookie.add(send(HttpRequest.newBuilder(uri(lb.address(), "/c/" + i))
            .header("Cookie", "theme=dark; uid=u" + key + "; lang=en").GET()).body());
        byQuery.add(get(lb.address(), "/q/" + i + "?a=1&user=u" + key + "&z=" + i).body());
        byPath.add(get(lb.address(), "/p/item-" + key + "?n=" + i).body());
      }
      assertThat(byCookie).hasSize(1);
      assertThat(byQuery).hasSize(1);
      assertThat(byPath).hasSize(1);
    }
  }

  /** One GET on a new connection from local address {@code from}; returns the body. */
  static String rawGet(InetSocketAddress lb, InetAddress from, String path, String extraHeaders) throws IOException {
    try (Socket socket = new Socket(lb.getAddress(), lb.getPort(), from, 0)) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + extraHeaders + "\r\n")
          .getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = socket.getInputStream();
      String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      return response.substring(response.indexOf("\r\n\r\n") + 4);
    }
  }
}
