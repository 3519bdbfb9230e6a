package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.anyPort;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.checkRound;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class HealthCheckTest {

  @Test
  void takesABackendDownAfterFallFailuresAndUpAfterRiseSuccesses() throws Exception {
    try (TestBackend a = TestBackend.start("a")) {
      ManualScheduler scheduler = new ManualScheduler();
      HealthCheck check = HealthCheck.builder().rise(3).fall(2).timeout(Duration.ofSeconds(2)).build();
      try (LoadBalancer lb = balancer(scheduler).healthCheck(check).backend("a", a.address()).build().start()) {
        checkRound(scheduler, 1);
        assertThat(status(lb, "a").state()).isEqualTo(BackendState.UP);

        a.healthStatus.set(503);
        checkRound(scheduler, 1);
        assertThat(status(lb, "a").state()).as("after 1 of fall=2 failures").isEqualTo(BackendState.UP);
        checkRound(scheduler, 1);
        assertThat(status(lb, "a").state()).as("after 2 of fall=2 failures").isEqualTo(BackendState.DOWN);
        assertThat(get(lb.address(), "/").statusCode()).isEqualTo(503);

        a.healthStatus.set(200);
        checkRound(scheduler, 1);
        checkRound(scheduler, 1);
        assertThat(status(lb, "a").state()).as("after 2 of rise=3 successes").isEqualTo(BackendState.DOWN);
        checkRound(scheduler, 1);
        assertThat(status(lb, "a").state()).as("after 3 of rise=3 successes").isEqualTo(BackendState.UP);
        assertThat(get(lb.address(), "/").statusCode()).isEqualTo(200);
        assertThat(a.healthChecks.get()).isEqualTo(6);
      }
    }
  }

  @Test
  void aCheckThatTimesOutCountsAsAFailure() throws Exception {
    try (TestBackend a = TestBackend.start("a")) {
      ManualScheduler scheduler = new ManualScheduler();
      HealthCheck check = HealthCheck.builder().fall(1).timeout(Duration.ofMillis(200)).build();
      try (LoadBalancer lb = balancer(scheduler).healthCheck(check).backend("a", a.address()).build().start()) {
        checkRound(scheduler, 1);
        assertThat(status(lb, "a").state()).isEqualTo(BackendState.UP);

        a.healthDelayMillis = 3_000;
        checkRound(scheduler, 1);

        assertThat(status(lb, "a").state()).isEqualTo(BackendState.DOWN);
      }
    }
  }

  @Test
  void checksRunOnTheirOwnEveryInterval() throws Exception {
    try (TestBackend a = TestBackend.start("a")) {
      HealthCheck check = HealthCheck.builder().interval(Duration.ofMillis(50)).rise(2).fall(2).build();
      try (LoadBalancer lb = LoadBalancer.builder().listen(anyPort()).adminListen(anyPort()).ioThreads(2)
          .healthCheck(check).backend("a", a.address()).build().start()) {
        await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, "a").state() == BackendState.UP);

        a.healthStatus.set(500);
        await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, "a").state() == BackendState.DOWN);

        a.healthStatus.set(200);
        await().atMost(Duration.ofSeconds(5)).until(() -> status(lb, "a").state() == BackendState.UP);
        assertThat(a.healthChecks.get()).isGreaterThanOrEqualTo(5);
      }
    }
  }

  @Test
  void aPoolsOwnCheckReplacesTheBalancersForItsBackendsOnly() throws Exception {
    try (TestBackend web = TestBackend.start("web"); TestBackend raw = TestBackend.start("raw")) {
      // both answer 503 on /health: the HTTP check fails them, a TCP check passes them
      web.healthStatus.set(503);
      raw.healthStatus.set(503);
      ManualScheduler scheduler = new ManualScheduler();
      HealthCheck http = HealthCheck.builder().rise(1).fall(1).build();
      try (LoadBalancer lb = balancer(scheduler).healthCheck(http)
          .pool(Pool.builder("raw").healthCheck(HealthCheck.builder().type(HealthCheck.Type.TCP).rise(1).fall(1).build())
              .build())
          .backend("web", web.address(), 1, Pool.DEFAULT)
          .backend("raw", raw.address(), 1, "raw")
          .build().start()) {
        checkRound(scheduler, 2);

        assertThat(status(lb, "web").state()).isEqualTo(BackendState.DOWN);
        assertThat(status(lb, "raw").state()).isEqualTo(BackendState.UP);
        assertThat(raw.healthChecks.get()).as("a TCP check sends no request").isZero();
        assertThat(web.healthChecks.get()).isEqualTo(1);

        // back to the balancer's check at run time: raw's next check is an HTTP one, and fails
        lb.putPool(Pool.builder("raw").build());
        checkRound(scheduler, 2);
        assertThat(status(lb, "raw").state()).isEqualTo(BackendState.DOWN);
        assertThat(raw.healthChecks.get()).isEqualTo(1);
      }
    }
  }

  @Test
  void healthCheckSettingsAreValidated() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HealthCheck.builder().rise(0))
        .hasMessage("rise: 0 (expected: >= 1)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HealthCheck.builder().fall(-2))
        .hasMessage("fall: -2 (expected: >= 1)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HealthCheck.builder().interval(Duration.ZERO))
        .hasMessage("interval: PT0S (expected: > 0)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HealthCheck.builder().timeout(Duration.ofSeconds(-1)))
        .hasMessage("timeout: PT-1S (expected: > 0)");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HealthCheck.builder().path("health"))
        .hasMessageStartingWith("path: 'health' (expected: an origin-form request target starting with '/'");
    HealthCheck defaults = HealthCheck.defaults();
    assertThat(defaults.path()).isEqualTo("/health");
    assertThat(defaults.interval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(defaults.timeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(defaults.rise()).isEqualTo(2);
    assertThat(defaults.fall()).isEqualTo(2);
  }
}
