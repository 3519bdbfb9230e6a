package io.scalestack.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.controlplane.ConfigLoader;
import io.scalestack.controlplane.MemberStatus;
import io.scalestack.controlplane.Supervisor;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code session.ha: true} end to end: the supervisor runs Redis with two replicas and three
 * Sentinels, the web servers reach it through the Sentinels, and a kill -9 of the primary under
 * traffic costs a few seconds of errors and no session (writes wait for a replica).
 */
class SessionHaSystemTest {

  private static final int USERS = 20;

  private final TestTopology topology = new TestTopology(2, true);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Supervisor supervisor;

  @AfterEach
  void stop() {
    if (supervisor != null) {
      supervisor.close();
    }
  }

  @Test
  void killingTheRedisPrimaryUnderTrafficLosesNoSessionAndServiceResumesAfterTheFailover() throws Exception {
    supervisor = Supervisor.builder().config(ConfigLoader.load(topology.configFile)).launcher(new JvmMemberLauncher()).build();
    supervisor.start();
    assertThat(supervisor.members()).extracting(MemberStatus::name).contains("redis", "redis-replica-1",
        "redis-replica-2", "redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3");
    await().atMost(Duration.ofSeconds(30)).until(() -> supervisor.members().stream()
        .filter(m -> m.role().equals("web")).allMatch(m -> m.balancerState().equals("UP")));
    List<String> cookies = new ArrayList<>();
    for (int i = 0; i < USERS; i++) {
      cookies.add(signUpAndLogIn("ha" + i + "_" + System.nanoTime() % 100_000));
    }

    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong lastFailureNanos = new AtomicLong();
    ConcurrentLinkedQueue<Integer> failures = new ConcurrentLinkedQueue<>();
    Thread client = Thread.ofVirtual().start(() -> {
      int i = 0;
      while (running.get()) {
        int status = me(cookies.get(i++ % USERS));
        if (status != 200) {
          failures.add(status);
          lastFailureNanos.set(System.nanoTime());
        }
      }
    });
    Thread.sleep(500);
    long killed = System.nanoTime();
    assertThat(supervisor.kill("redis")).isTrue();
    // service is back once every user answers again, through the promoted replica
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> cookies.stream().allMatch(c -> me(c) == 200));
    running.set(false);
    client.join();

    double outageSeconds = lastFailureNanos.get() == 0 ? 0 : (lastFailureNanos.get() - killed) / 1e9;
    System.out.printf("session ha: redis primary killed with -9; last failed request %.2f s after the kill (%d failed,"
        + " statuses %s); %d of %d users still logged in%n", outageSeconds, failures.size(),
        failures.stream().distinct().sorted().toList(), cookies.stream().filter(c -> me(c) == 200).count(), USERS);
    assertThat(failures).as("requests fail fast with 5xx while there is no primary").allMatch(s -> s >= 500);
    assertThat(cookies).allMatch(c -> me(c) == 200);
  }

  private String signUpAndLogIn(String name) throws Exception {
    HttpResponse<String> signup = post("/api/signup", null,
        "{\"username\":\"" + name + "\",\"password\":\"correct horse battery\",\"displayName\":\"" + name + "\"}");
    assertThat(signup.statusCode()).as(signup.body()).isEqualTo(201);
    HttpResponse<String> login = post("/api/login", null, "{\"username\":\"" + name + "\",\"password\":\"correct horse battery\"}");
    assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
    String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  private HttpResponse<String> post(String path, String cookie, String body) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(topology.balancerUrl() + path))
        .timeout(Duration.ofSeconds(10)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private int me(String cookie) {
    try {
      return http.send(HttpRequest.newBuilder(URI.create(topology.balancerUrl() + "/api/me"))
          .timeout(Duration.ofSeconds(10)).header("Cookie", cookie).GET().build(), HttpResponse.BodyHandlers.ofString())
          .statusCode();
    } catch (java.io.IOException e) {
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 0;
    }
  }
}
