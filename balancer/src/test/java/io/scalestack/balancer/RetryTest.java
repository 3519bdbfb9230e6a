package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.status;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RetryTest {

  @RegisterExtension final Resources resources = new Resources();

  private <T extends AutoCloseable> T track(T resource) {
    return resources.track(resource);
  }

  @Test
  void ejectsAStoppedBackendAndRetriesOnAnotherWithoutClientErrors() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).backend("b", b.address()).build().start());
    awaitAllUp(lb, scheduler);
    for (int i = 0; i < 4; i++) {
      assertThat(get(lb.address(), "/warm").statusCode()).isEqualTo(200);
    }

    a.close(); // connect refused from now on; health checks are not run, so only ejection can notice

    for (int i = 0; i < 10; i++) {
      HttpResponse<String> response = get(lb.address(), "/after/" + i);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("b");
    }
    assertThat(status(lb, "a").state()).isEqualTo(BackendState.DOWN);
    assertThat(status(lb, "b").state()).isEqualTo(BackendState.UP);
    String metrics = get(lb.adminAddress(), "/metrics").body();
    assertThat(metrics).contains("scalestack_lb_ejections_total{backend=\"a\"");
  }

  @Test
  void retriesAPostThatNeverReachedABackendExactlyOnceElsewhere() throws Exception {
    TestBackend a = track(TestBackend.start("a"));
    TestBackend b = track(TestBackend.start("b"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("a", a.address()).backend("b", b.address()).build().start());
    awaitAllUp(lb, scheduler);

    a.close(); // connects are refused: whatever was sent there never arrived

    for (int i = 0; i < 4; i++) {
      HttpResponse<String> response = send(HttpRequest.newBuilder(uri(lb.address(), "/orders"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"order\":" + i + "}")));
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("b");
    }
    assertThat(b.received).extracting(TestBackend.Received::body)
        .containsExactly("{\"order\":0}", "{\"order\":1}", "{\"order\":2}", "{\"order\":3}");
  }

  @Test
  void steadyGetTrafficSeesNoErrorWhenABackendIsKilled() throws Exception {
    RawBackend a = track(RawBackend.start("a", RawBackend.Mode.ANSWER));
    RawBackend b = track(RawBackend.start("b", RawBackend.Mode.ANSWER));
    RawBackend c = track(RawBackend.start("c", RawBackend.Mode.ANSWER));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).retryIdempotent(true)
        .backend("a", a.address()).backend("b", b.address()).backend("c", c.address()).build().start());
    awaitAllUp(lb, scheduler);

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicInteger ok = new AtomicInteger();
    Queue<String> failures = new ConcurrentLinkedQueue<>();
    List<Thread> clients = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      clients.add(Thread.ofVirtual().start(() -> {
        while (running.get()) {
          try {
            HttpResponse<String> response = get(lb.address(), "/steady");
            if (response.statusCode() == 200) {
              ok.incrementAndGet();
            } else {
              failures.add(response.statusCode() + " " + response.body());
            }
          } catch (RuntimeException e) {
            failures.add(e.toString());
          }
        }
      }));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() >= 200);
    b.kill();
    int atKill = ok.get();
    await().atMost(Duration.ofSeconds(10)).until(() -> ok.get() >= atKill + 400);
    running.set(false);
    for (Thread client : clients) {
      client.join();
    }

    assertThat(failures).isEmpty();
    assertThat(status(lb, "b").state()).isEqualTo(BackendState.DOWN);
    assertThat(a.answered() + c.answered()).isGreaterThan(atKill);
  }

  @Test
  void retriesAGetWhenTheBackendClosesWithoutAnsweringIfIdempotentRetriesAreOn() throws Exception {
    RawBackend crashing = track(RawBackend.start("crashing", RawBackend.Mode.CLOSE_WITHOUT_ANSWER));
    TestBackend healthy = track(TestBackend.start("healthy"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).retryIdempotent(true)
        .backend("crashing", crashing.address()).backend("healthy", healthy.address()).build().start());
    awaitAllUp(lb, scheduler);

    for (int i = 0; i < 6; i++) {
      HttpResponse<String> response = get(lb.address(), "/page/" + i);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("healthy");
    }

    assertThat(crashing.received("GET")).isPositive();
    assertThat(healthy.requests()).isEqualTo(6);
    // closing without an answer is not a connect failure: the backend stays in rotation
    assertThat(status(lb, "crashing").state()).isEqualTo(BackendState.UP);
    assertThat(get(lb.adminAddress(), "/metrics").body())
        .containsPattern("scalestack_lb_retries_total\\{.*reason=\"empty-response\".*} [1-9]");
  }

  @Test
  void doesNotRetryAGetThatReachedABackendUnlessIdempotentRetriesAreOn() throws Exception {
    RawBackend crashing = track(RawBackend.start("crashing", RawBackend.Mode.CLOSE_WITHOUT_ANSWER));
    TestBackend healthy = track(TestBackend.start("healthy"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler)
        .backend("crashing", crashing.address()).backend("healthy", healthy.address()).build().start());
    awaitAllUp(lb, scheduler);

    int badGateway = 0;
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> response = get(lb.address(), "/page/" + i);
      if (response.statusCode() == 502) {
        badGateway++;
      } else {
        assertThat(response.statusCode()).isEqualTo(200);
      }
    }

    assertThat(crashing.received("GET")).isEqualTo(2).isEqualTo(badGateway);
    assertThat(healthy.requests()).isEqualTo(2);
  }

  @Test
  void theRetryBudgetCapsRetriesOfRequestsThatMayHaveReachedABackend() throws Exception {
    RawBackend a = track(RawBackend.start("a", RawBackend.Mode.CLOSE_WITHOUT_ANSWER));
    RawBackend b = track(RawBackend.start("b", RawBackend.Mode.CLOSE_WITHOUT_ANSWER));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).retryIdempotent(true).retries(1).retryBudgetPercent(0)
        .backend("a", a.address()).backend("b", b.address()).build().start());
    awaitAllUp(lb, scheduler);

    for (int i = 0; i < 20; i++) {
      assertThat(get(lb.address(), "/doomed/" + i).statusCode()).isEqualTo(502);
    }

    // 20 first attempts, and retries only up to the budget's floor of 10 per window
    assertThat(a.received("GET") + b.received("GET")).isEqualTo(30);
    String metrics = get(lb.adminAddress(), "/metrics").body();
    assertThat(metrics).containsPattern("scalestack_lb_retry_budget_exhausted_total\\{.*} 10.0");
    assertThat(metrics).containsPattern("scalestack_lb_retries_total\\{.*reason=\"empty-response\".*} 10.0");
  }

  @Test
  void neverSendsAPostTwiceEvenWithIdempotentRetriesOn() throws Exception {
    RawBackend crashing = track(RawBackend.start("crashing", RawBackend.Mode.CLOSE_WITHOUT_ANSWER));
    TestBackend healthy = track(TestBackend.start("healthy"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).retryIdempotent(true)
        .backend("crashing", crashing.address()).backend("healthy", healthy.address()).build().start());
    awaitAllUp(lb, scheduler);

    int ok = 0;
    int badGateway = 0;
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> response = send(HttpRequest.newBuilder(uri(lb.address(), "/orders"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"order\":" + i + "}")));
      if (response.statusCode() == 200) {
        ok++;
      } else {
        assertThat(response.statusCode()).isEqualTo(502);
        assertThat(response.body()).isEqualTo("{\"error\":\"the backend closed the connection before answering\"}");
        badGateway++;
      }
    }

    // round robin sent half of them to the crashing backend, and none of those went anywhere else
    assertThat(crashing.received("POST")).isEqualTo(2).isEqualTo(badGateway);
    assertThat(healthy.requests()).isEqualTo(2).isEqualTo(ok);
  }

  @Test
  void aStalePooledConnectionDoesNotFailAnIdempotentRequestWhenRetriesAreOn() throws Exception {
    RawBackend flaky = track(RawBackend.start("flaky", RawBackend.Mode.ANSWER_FIRST_THEN_CLOSE));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).retryIdempotent(true).backend("flaky", flaky.address()).build().start());
    awaitAllUp(lb, scheduler);

    for (int i = 0; i < 5; i++) {
      HttpResponse<String> response = get(lb.address(), "/p/" + i);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("flaky");
    }

    // every request after the first hit a pooled connection the server had given up on
    assertThat(flaky.answered()).isEqualTo(5);
    assertThat(status(lb, "flaky").state()).isEqualTo(BackendState.UP);
  }

  @Test
  void aBackendThatDoesNotAnswerInTimeGets504() throws Exception {
    TestBackend slow = track(TestBackend.start("slow"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).responseTimeout(Duration.ofMillis(300))
        .backend("slow", slow.address()).build().start());
    awaitAllUp(lb, scheduler);

    HttpResponse<String> response = get(lb.address(), "/slow");

    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(response.body()).isEqualTo("{\"error\":\"the backend did not answer within 300 ms\"}");
    assertThat(slow.slowArrived.get()).as("a timed-out request is not retried").isEqualTo(1);
    slow.slowGate.countDown();
    assertThat(get(lb.address(), "/").statusCode()).isEqualTo(200);
  }
}
