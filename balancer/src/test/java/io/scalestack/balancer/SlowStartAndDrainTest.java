package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.status;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Acceptance point 5: a backend added under load ramps up without a client error, and a drained
 * backend finishes its in-flight requests while it gets no new one.
 *
 * <p>What is deterministic: health checks run only when the test says ({@link ManualScheduler}),
 * so the added backend comes up at a point of the test's choosing. The slow-start ramp itself runs
 * on the balancer's real clock (its exact weights are unit-tested against a hand-moved clock in
 * {@code SelectorTest}); here the shares are counted over request numbers of an open-loop load
 * ({@link PacedLoad}), which stand for time, with margins that a noisy machine does not cross.
 */
class SlowStartAndDrainTest {

  @RegisterExtension final Resources resources = new Resources();

  @Test
  void aBackendAddedUnderLoadRampsUpToItsFairShareWithoutAClientError() throws Exception {
    int rate = 800;
    List<NamedBackend> backends = List.of(
        resources.track(NamedBackend.start("b0")), resources.track(NamedBackend.start("b1")),
        resources.track(NamedBackend.start("b2")));
    NamedBackend added = resources.track(NamedBackend.start("b3"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer.Builder builder = balancer(scheduler)
        .pool(Pool.builder(Pool.DEFAULT).slowStart(Duration.ofSeconds(3)).build());
    for (NamedBackend b : backends) {
      builder.backend(b.name, b.address());
    }
    LoadBalancer lb = resources.track(builder.build().start());
    awaitAllUp(lb, scheduler);
    PacedLoad load = resources.track(new PacedLoad(lb.address(), 4_000));
    assertThat(admin("GET", lb, "/backends", null).statusCode()).isEqualTo(200);

    CountDownLatch addNow = new CountDownLatch(1);
    CompletableFuture<PacedLoad.Summary> run = CompletableFuture.supplyAsync(() -> {
      try {
        return load.run(rate, rate * 11 / 2, i -> new PacedLoad.Request("GET", "/catalog/" + i, null), i -> {
          if (i == rate / 2) {
            addNow.countDown();
          }
        });
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    });
    assertThat(addNow.await(10, TimeUnit.SECONDS)).isTrue();
    HttpResponse<String> put = admin("PUT", lb, "/backends/" + added.name,
        "{\"address\":\"" + hostPort(added.address()) + "\"}");
    assertThat(put.statusCode()).isBetween(200, 201);
    awaitAllUp(lb, scheduler); // the added backend's first checks: it comes up now, and its ramp starts
    PacedLoad.Summary summary = run.get(30, TimeUnit.SECONDS);

    assertThat(summary.results()).filteredOn(r -> !r.ok()).isEmpty();
    List<PacedLoad.Result> results = summary.results();
    // the ramp starts when the added backend came up: its first request
    int first = (int) results.stream().filter(r -> r.body().equals(added.name)).findFirst().orElseThrow().index();
    // request numbers stand for time: `rate` requests are one second of the ramp
    double firstSecond = share(results, first, first + rate, added.name);
    double thirdSecond = share(results, first + 2 * rate, first + 3 * rate, added.name);
    double afterRamp = share(results, first + 3 * rate + rate / 4, results.size(), added.name);
    System.out.printf("slow start: share of the added backend %.3f in its first second, %.3f in its third, %.3f after"
        + " (fair 0.25); %d requests, %.0f req/s issued, %.0f answered%n", firstSecond, thirdSecond, afterRamp,
        results.size(), summary.issuedPerSecond(), summary.achievedPerSecond());

    // the request numbers stand for time only if the pacing kept up
    assertThat(summary.issuedPerSecond()).as("the load was real").isGreaterThanOrEqualTo(0.9 * rate);
    // weight ramps 10% → 100% over 3 s: about 6% of requests in the first second, 22% in the third
    assertThat(firstSecond).isLessThan(0.12).isLessThan(thirdSecond / 2);
    assertThat(afterRamp).isBetween(0.20, 0.30);
    assertThat(added.requests()).isEqualTo((int) results.stream().filter(r -> r.body().equals(added.name)).count());
  }

  @Test
  void aDrainedBackendFinishesItsSlowInFlightRequestsAndGetsNoNewOne() throws Exception {
    int rate = 300;
    NamedBackend a = resources.track(NamedBackend.start("a"));
    NamedBackend b = resources.track(NamedBackend.start("b"));
    NamedBackend slow = resources.track(NamedBackend.start("slow"));
    slow.delayMillis = 1_000; // every request it gets is in flight for a second
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = resources.track(balancer(scheduler)
        .backend(a.name, a.address()).backend(b.name, b.address()).backend(slow.name, slow.address())
        .build().start());
    awaitAllUp(lb, scheduler);
    PacedLoad load = resources.track(new PacedLoad(lb.address(), 4_000));
    // the admin client's first request loads and starts a good deal: not during the measured run
    assertThat(admin("GET", lb, "/backends", null).statusCode()).isEqualTo(200);

    CountDownLatch drainNow = new CountDownLatch(1);
    AtomicLong lastIssued = new AtomicLong(-1);
    CompletableFuture<PacedLoad.Summary> run = CompletableFuture.supplyAsync(() -> {
      try {
        return load.run(rate, rate * 4, i -> new PacedLoad.Request("GET", "/report/" + i, null), i -> {
          lastIssued.set(i);
          if (i == rate * 3 / 2) {
            drainNow.countDown();
          }
        });
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    });
    assertThat(drainNow.await(10, TimeUnit.SECONDS)).isTrue();
    HttpResponse<String> drained = admin("POST", lb, "/backends/" + slow.name + "/drain", null);
    // every request issued from here on was read by the balancer after the drain took effect
    long drainedBefore = lastIssued.get();
    assertThat(drained.statusCode()).isEqualTo(200);
    int inFlightAtDrain = new ObjectMapper().readTree(drained.body()).get("inFlight").asInt();
    PacedLoad.Summary summary = run.get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, slow.name).inFlight() == 0);

    List<PacedLoad.Result> bySlow = summary.results().stream().filter(r -> r.body().equals(slow.name)).toList();
    System.out.printf("drain: %d requests in flight on the drained backend at the drain, %d answered by it in all,"
            + " last one issued as #%d, drain after #%d; %d requests, %.0f req/s issued, %.0f answered%n", inFlightAtDrain,
        bySlow.size(), bySlow.isEmpty() ? -1 : bySlow.getLast().index(), drainedBefore, summary.results().size(),
        summary.issuedPerSecond(), summary.achievedPerSecond());

    // the drained backend's second per request stretches the answers past the last issue: count issues
    assertThat(summary.issuedPerSecond()).as("the load was real").isGreaterThanOrEqualTo(0.9 * rate);
    assertThat(inFlightAtDrain).as("the drain caught slow requests in flight").isGreaterThan(10);
    // no client error: each request that was in flight on the drained backend got its 200
    assertThat(summary.results()).filteredOn(r -> !r.ok()).isEmpty();
    assertThat(bySlow).hasSize(slow.requests());
    assertThat(bySlow).allSatisfy(r -> assertThat(r.index()).isLessThanOrEqualTo(drainedBefore));
    assertThat(status(lb, slow.name).state()).isEqualTo(BackendState.DRAINING);
  }

  private static String hostPort(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  private static HttpResponse<String> admin(String method, LoadBalancer lb, String path, String json) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(lb.adminAddress(), path));
    if (json == null) {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    } else {
      request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
    }
    return send(request);
  }

  /** The share of requests {@code from} (inclusive) to {@code to} (exclusive) that {@code name} answered. */
  private static double share(List<PacedLoad.Result> results, int from, int to, String name) {
    List<PacedLoad.Result> window = results.subList(from, Math.min(to, results.size()));
    return window.stream().filter(r -> r.body().equals(name)).count() / (double) window.size();
  }
}
