package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.anyPort;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance point 3: under 2,000 requests per second, {@code kill -9} one of three backends —
 * each a process of its own ({@link KillableBackendMain}) — and no GET fails while no POST
 * reaches a backend twice.
 *
 * <p>Why no GET can fail: when the backend dies, the kernel closes its sockets. A GET it had read
 * but not answered sees its connection close before any response byte (the backend writes each
 * response with one {@code write(2)}, so a kill leaves all of it or none of it); with {@code
 * retryIdempotent} the balancer sends it again elsewhere. A GET that lands on a pooled connection
 * whose close the balancer has not yet read is written into a dead socket: the same case. Every
 * later connect is refused, which ejects the backend and is retried whatever the method, and the
 * active health check takes it down. A POST in flight on the dead backend may fail (502) — the
 * balancer cannot know whether the backend acted on it — but is never sent to a second backend,
 * which each backend's log of the request ids it received proves.
 *
 * <p>The load is open-loop ({@link PacedLoad}) and its achieved rate is checked, so that the
 * test cannot pass on a trickle; nothing about latency is asserted.
 */
class FaultToleranceTest {

  private static final int RATE = 2_000;
  private static final Pattern RETRIES = Pattern.compile(
      "scalestack_lb_retries_total\\{[^}]*reason=\"([a-z-]+)\"[^}]*} ([0-9.E]+)");

  @RegisterExtension final Resources resources = new Resources();
  @TempDir Path logs;

  /** The outcome of one kill scenario. */
  private record Outcome(PacedLoad.Summary summary, Map<String, Integer> postsSeen, KillableBackend victim,
      int victimExit, BackendState victimState, Map<String, Double> retries, int connections) {

    List<String> duplicatedPosts() {
      return postsSeen.entrySet().stream().filter(e -> e.getValue() > 1).map(e -> e.getKey() + " x" + e.getValue())
          .sorted().toList();
    }

    /** POSTs answered 200 whose id no backend logged exactly once. */
    List<String> answeredPostsNotLoggedOnce() {
      return summary.results().stream()
          .filter(r -> r.request().method().equals("POST") && r.ok())
          .map(r -> r.request().id())
          .filter(id -> postsSeen.getOrDefault(id, 0) != 1)
          .toList();
    }

    void print(String scenario) {
      System.out.printf("%s: %.0f req/s answered, %.0f issued (asked %d), GETs %d (failed %d), POSTs %d (client-visible errors %d,"
              + " logged by backends %d, duplicated %d), victim exit %d, retries %s; p99 %.1f ms, max %.1f ms, %d connections%n",
          scenario, summary.achievedPerSecond(), summary.issuedPerSecond(), RATE, summary.count("GET"), summary.failures("GET").size(),
          summary.count("POST"), summary.failures("POST").size(), postsSeen.size(), duplicatedPosts().size(),
          victimExit, retries, summary.quantileMillis(0.99), summary.quantileMillis(1), connections);
    }
  }

  @Test
  void killingOneOfThreeBackendsUnderLoadFailsNoGetAndSendsNoPostTwice() throws Exception {
    Outcome outcome = killOneOfThreeUnderLoad("idempotent-retries", true, Duration.ofSeconds(6), Duration.ofSeconds(2));
    outcome.print("retryIdempotent(true)");

    assertThat(outcome.summary().achievedPerSecond()).as("the load was real").isGreaterThanOrEqualTo(0.9 * RATE);
    assertThat(outcome.victimExit()).as("killed by SIGKILL").isEqualTo(128 + 9);
    assertThat(outcome.victimState()).isEqualTo(BackendState.DOWN);
    assertThat(outcome.summary().failures("GET")).isEmpty();
    assertThat(outcome.duplicatedPosts()).isEmpty();
    assertThat(outcome.answeredPostsNotLoggedOnce()).isEmpty();
    // the victim served its share until the kill: the kill hit a backend in use
    assertThat(outcome.victim().postIds()).hasSizeGreaterThan(50);
  }

  @Test
  void withoutIdempotentRetriesAKilledBackendStillGetsNoPostSentTwice() throws Exception {
    Outcome outcome = killOneOfThreeUnderLoad("default", false, Duration.ofSeconds(3), Duration.ofSeconds(1));
    outcome.print("retryIdempotent(false)");

    // a shorter run, so its answers' tail would weigh on the answer rate: the issue rate shows the load
    assertThat(outcome.summary().issuedPerSecond()).as("the load was real").isGreaterThanOrEqualTo(0.9 * RATE);
    assertThat(outcome.victimExit()).as("killed by SIGKILL").isEqualTo(128 + 9);
    assertThat(outcome.duplicatedPosts()).isEmpty();
    assertThat(outcome.answeredPostsNotLoggedOnce()).isEmpty();
    // a request that reached the dead backend is not retried unless idempotent retries are on
    assertThat(outcome.retries().getOrDefault("empty-response", 0.0)).isZero();
  }

  private Outcome killOneOfThreeUnderLoad(String scenario, boolean retryIdempotent, Duration length, Duration killAfter)
      throws Exception {
    List<KillableBackend> backends = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      backends.add(resources.track(KillableBackend.launch("k" + i, logs, 5)));
    }
    LoadBalancer.Builder builder = LoadBalancer.builder().listen(anyPort()).adminListen(anyPort()).ioThreads(2)
        .retryIdempotent(retryIdempotent)
        .healthCheck(HealthCheck.builder().interval(Duration.ofMillis(100)).timeout(Duration.ofMillis(500)).build())
        .pool(Pool.builder(Pool.DEFAULT).outlierDetection(OutlierDetection.builder().build()).build());
    for (KillableBackend b : backends) {
      builder.backend(b.name, b.awaitAddress());
    }
    LoadBalancer lb = resources.track(builder.build().start());
    await().atMost(Duration.ofSeconds(10)).until(() ->
        lb.backends().stream().allMatch(b -> b.state() == BackendState.UP));
    PacedLoad load = resources.track(new PacedLoad(lb.address(), 4_000));

    // warm-up: JIT in four JVMs, pooled connections; a failure here is a failure too
    PacedLoad.Summary warm = load.run(RATE, Duration.ofSeconds(1), i -> request(scenario + "-warm", i));
    assertThat(warm.results()).filteredOn(r -> !r.ok()).isEmpty();

    KillableBackend victim = backends.get(1);
    long killAt = RATE * killAfter.toMillis() / 1000;
    int total = (int) (RATE * length.toMillis() / 1000);
    PacedLoad.Summary summary = load.run(RATE, total, i -> request(scenario, i), i -> {
      if (i == killAt) {
        victim.kill();
      }
    });

    int exit = victim.awaitExit();
    await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, victim.name).state() == BackendState.DOWN);
    Map<String, Integer> seen = new HashMap<>();
    for (KillableBackend b : backends) {
      for (String id : b.postIds()) {
        seen.merge(id, 1, Integer::sum);
      }
    }
    Map<String, Double> retries = new HashMap<>();
    Matcher m = RETRIES.matcher(get(lb.adminAddress(), "/metrics").body());
    while (m.find()) {
      retries.merge(m.group(1), Double.parseDouble(m.group(2)), Double::sum);
    }
    return new Outcome(summary, seen, victim, exit, status(lb, victim.name).state(), retries,
        load.connectionsOpened());
  }

  /** Four GETs to one POST; each POST with an id unique across the test. */
  private static PacedLoad.Request request(String scenario, long i) {
    return i % 5 == 4
        ? new PacedLoad.Request("POST", "/orders", scenario + "-" + i)
        : new PacedLoad.Request("GET", "/items/" + i, null);
  }
}
