package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.checkRound;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** TCP checks, outlier ejection, the ejection cap, panic and slow start, through the real balancer. */
class PassiveHealthTest {

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

  private static double metric(LoadBalancer lb, String name, String label) {
    String metrics = get(lb.adminAddress(), "/metrics").body();
    Matcher m = Pattern.compile(Pattern.quote(name) + "\\{[^}]*" + Pattern.quote(label) + "[^}]*} ([0-9.]+)").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  @Test
  void aTcpCheckNeedsOnlyAnAcceptedConnection() throws Exception {
    NamedBackend a = NamedBackend.start("a");
    a.healthStatus.set(503); // an HTTP check would fail
    ManualScheduler scheduler = new ManualScheduler();
    HealthCheck tcp = HealthCheck.builder().type(HealthCheck.Type.TCP).fall(1).timeout(Duration.ofMillis(500)).build();
    LoadBalancer lb = track(balancer(scheduler).healthCheck(tcp).backend("a", a.address()).build().start());

    checkRound(scheduler, 1);
    assertThat(status(lb, "a").state()).isEqualTo(BackendState.UP);
    assertThat(get(lb.address(), "/").body()).isEqualTo("a");

    a.close();
    // A check already connecting when the listener closed may still have completed its handshake
    // into the backlog; from the next round on the port refuses, and fall(1) takes it down.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      checkRound(scheduler, 1);
      assertThat(status(lb, "a").state()).isEqualTo(BackendState.DOWN);
    });
    assertThat(tcp.toString()).startsWith("HealthCheck[tcp, interval=PT1S, jitter=0.1");
  }

  @Test
  void consecutiveServerErrorsEjectABackendForAWhile() throws Exception {
    List<NamedBackend> bs = backends("good", "bad");
    bs.get(1).status.set(503);
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder(Pool.DEFAULT).outlierDetection(OutlierDetection.builder()
            .consecutiveErrors(3).baseEjectionTime(Duration.ofMinutes(10)).maxEjectionPercent(50).build()).build())
        .backend("good", bs.get(0).address()).backend("bad", bs.get(1).address())
        .build().start());
    awaitAllUp(lb, scheduler);

    int errors = 0;
    for (int i = 0; i < 20; i++) {
      if (get(lb.address(), "/x").statusCode() != 200) {
        errors++;
      }
    }

    // round robin: bad answers the 2nd, 4th and 6th request with 503, then is out
    assertThat(bs.get(1).requests()).isEqualTo(3);
    assertThat(errors).isEqualTo(3);
    assertThat(bs.get(0).requests()).isEqualTo(17);
    assertThat(status(lb, "bad").state()).isEqualTo(BackendState.DOWN);
    assertThat(metric(lb, "scalestack_lb_outlier_ejections_total", "backend=\"bad\"")).isEqualTo(1.0);
    assertThat(metric(lb, "scalestack_lb_pool_requests_total", "class=\"5xx\"")).isEqualTo(3.0);
    assertThat(metric(lb, "scalestack_lb_pool_requests_total", "class=\"2xx\"")).isEqualTo(17.0);
  }

  @Test
  void noMoreThanTheMaximumShareOfAPoolIsEjected() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    bs.forEach(b -> b.status.set(500));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder(Pool.DEFAULT).outlierDetection(OutlierDetection.builder()
            .consecutiveErrors(2).baseEjectionTime(Duration.ofMinutes(10)).maxEjectionPercent(34).build()).build())
        .backend("a", bs.get(0).address()).backend("b", bs.get(1).address()).backend("c", bs.get(2).address())
        .build().start());
    awaitAllUp(lb, scheduler);

    for (int i = 0; i < 30; i++) {
      assertThat(get(lb.address(), "/x").statusCode()).isEqualTo(500);
    }

    // 34% of 3 is one backend: the other two keep serving, errors or not
    assertThat(lb.backends()).filteredOn(b -> b.state() == BackendState.DOWN).hasSize(1);
    assertThat(bs).filteredOn(b -> b.requests() > 10).hasSize(2);
  }

  @Test
  void belowThePanicThresholdEveryBackendGetsTraffic() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c", "d");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .healthCheck(HealthCheck.builder().fall(1).rise(1).timeout(Duration.ofMillis(500)).build())
        .pool(Pool.builder(Pool.DEFAULT).panicThresholdPercent(50).build())
        .backend("a", bs.get(0).address()).backend("b", bs.get(1).address())
        .backend("c", bs.get(2).address()).backend("d", bs.get(3).address())
        .build().start());
    awaitAllUp(lb, scheduler);

    // two of four failing checks: 50% healthy is not below 50%, no panic
    bs.get(1).healthStatus.set(503);
    bs.get(2).healthStatus.set(503);
    checkRound(scheduler, 4);
    Set<String> servedBy = new HashSet<>();
    for (int i = 0; i < 8; i++) {
      servedBy.add(get(lb.address(), "/").body());
    }
    assertThat(servedBy).containsExactlyInAnyOrder("a", "d");
    assertThat(metric(lb, "scalestack_lb_pool_panic", "pool=\"default\"")).isEqualTo(0.0);

    // three of four: 25% < 50%, panic — the checks may be wrong, spread over all four
    bs.get(3).healthStatus.set(503);
    checkRound(scheduler, 4);
    servedBy.clear();
    for (int i = 0; i < 8; i++) {
      servedBy.add(get(lb.address(), "/").body());
    }
    assertThat(servedBy).containsExactlyInAnyOrder("a", "b", "c", "d");
    assertThat(metric(lb, "scalestack_lb_pool_panic", "pool=\"default\"")).isEqualTo(1.0);

    bs.forEach(b -> b.healthStatus.set(200));
    checkRound(scheduler, 4);
    get(lb.address(), "/");
    assertThat(metric(lb, "scalestack_lb_pool_panic", "pool=\"default\"")).isEqualTo(0.0);
  }

  @Test
  void aBackendAddedUnderLoadStartsWithATenthOfItsShare() throws Exception {
    List<NamedBackend> bs = backends("old", "new");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .pool(Pool.builder(Pool.DEFAULT).slowStart(Duration.ofMinutes(30)).build())
        .backend("old", bs.get(0).address())
        .build().start());
    awaitAllUp(lb, scheduler);
    // present from the start: no ramp
    assertThat(AlgorithmTest.load(lb, 2, 50, i -> "/warm/" + i)).containsExactly(Map.entry(200, 50));

    lb.addBackend("new", bs.get(1).address(), 1);
    awaitAllUp(lb, scheduler);
    int oldBefore = bs.get(0).requests();
    Map<Integer, Integer> statuses = AlgorithmTest.load(lb, 4, 1_100, i -> "/ramp/" + i);

    assertThat(statuses).containsExactly(Map.entry(200, 1_100));
    // a 30-minute ramp starts at 10%: weight 0.1 against 1, so 100 of 1,100 (± one round)
    assertThat(bs.get(1).requests()).isBetween(95, 105);
    assertThat(bs.get(0).requests() - oldBefore + bs.get(1).requests()).isEqualTo(1_100);
  }

  @Test
  void outlierAndHealthSettingsAreValidated() {
    assertThatThrownBy(() -> OutlierDetection.builder().consecutiveErrors(0))
        .hasMessage("consecutiveErrors: 0 (expected: 1..1000)");
    assertThatThrownBy(() -> OutlierDetection.builder().maxEjectionPercent(101))
        .hasMessage("maxEjectionPercent: 101 (expected: 0..100)");
    assertThatThrownBy(() -> OutlierDetection.builder().baseEjectionTime(Duration.ofMinutes(10))
        .maxEjectionTime(Duration.ofMinutes(1)).build())
        .hasMessage("maxEjectionTime: PT1M (expected: >= baseEjectionTime PT10M)");
    assertThatThrownBy(() -> Pool.builder("p").panicThresholdPercent(-1))
        .hasMessage("panicThresholdPercent: -1 (expected: 0..100)");
    assertThatThrownBy(() -> Pool.builder("p").slowStart(Duration.ofHours(2)))
        .hasMessage("slowStart: PT2H (expected: PT0S..PT1H)");
    assertThatThrownBy(() -> HealthCheck.builder().jitter(0.9))
        .hasMessage("jitter: 0.9 (expected: 0.0..0.5)");
    assertThat(HealthCheck.defaults().jitter()).isEqualTo(0.1);
    assertThat(HealthCheck.defaults().type()).isEqualTo(HealthCheck.Type.HTTP);
  }
}
