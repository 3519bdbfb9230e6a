package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.anyPort;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.status;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Acceptance point 4: 1,000 membership changes through the admin API — adds, removes, moves,
 * re-weights, drains, algorithm changes — while clients send requests on keep-alive connections:
 * no failed request and no dropped connection.
 */
class MembershipChurnTest {

  private static final String[] ALGORITHMS =
      {"round-robin", "least-connections", "response-time", "random", "source-hash", "hash", "bandwidth"};

  @Test
  void aThousandChangesUnderLoadDropNoConnectionAndFailNoRequest() throws Exception {
    List<NamedBackend> stable = new ArrayList<>();
    List<NamedBackend> extra = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        stable.add(NamedBackend.start("s" + i));
        extra.add(NamedBackend.start("e" + i));
      }
      HealthCheck fast = HealthCheck.builder().interval(Duration.ofMillis(20)).timeout(Duration.ofMillis(500)).build();
      LoadBalancer.Builder builder = LoadBalancer.builder().listen(anyPort()).adminListen(anyPort()).ioThreads(2)
          .healthCheck(fast)
          .pool(Pool.builder(Pool.DEFAULT).hashKey(HashKey.header("X-User")).build())
          .pool(Pool.builder("spare").build());
      for (NamedBackend b : stable) {
        builder.backend(b.name, b.address());
      }
      try (LoadBalancer lb = builder.build().start()) {
        await().atMost(Duration.ofSeconds(5)).until(() ->
            lb.backends().stream().allMatch(b -> b.state() == BackendState.UP));

        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
        List<Thread> clients = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          int client = t;
          clients.add(Thread.ofPlatform().name("churn-client-" + t).start(() -> {
            // one keep-alive connection per client for the whole run: a drop would break it
            try (RawClient connection = new RawClient(lb.address())) {
              int i = 0;
              while (!stop.get()) {
                connection.send("GET /c" + client + "/" + i++ + " HTTP/1.1\r\nHost: shop.example\r\nX-User: u" + (i % 17)
                    + "\r\n\r\n");
                RawClient.Response response = connection.read();
                if (response.status() != 200 || "close".equals(response.header("connection"))) {
                  failures.add(response.status() + " " + response.body());
                } else {
                  ok.incrementAndGet();
                }
              }
            } catch (IOException | RuntimeException e) {
              failures.add("client " + client + ": " + e);
            }
          }));
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> ok.get() > 100);

        int changes = 0;
        int round = 0;
        while (changes < 1_000) {
          NamedBackend e = extra.get(round % 3);
          NamedBackend s = stable.get(round % 3);
          String[] ops = {
              put("/backends/" + e.name, "{\"address\":\"" + address(e.address()) + "\",\"weight\":" + (1 + round % 5) + "}"),
              put("/backends/" + s.name, "{\"weight\":" + (1 + round % 7) + "}"),
              post("/backends/" + s.name + "/drain"),
              put("/pools/default", "{\"algorithm\":\"" + ALGORITHMS[round % ALGORITHMS.length] + "\"}"),
              post("/backends/" + s.name + "/ready"),
              put("/backends/" + e.name, "{\"pool\":\"" + (round % 2 == 0 ? "spare" : "default") + "\"}"),
              // the same name at another address: replaced, the old one finishes its requests
              put("/backends/" + e.name, "{\"address\":\"" + address(extra.get((round + 1) % 3).address()) + "\"}"),
              delete("/backends/" + e.name),
          };
          for (String op : ops) {
            int statusCode = admin(lb, op);
            assertThat(statusCode).as(op).isBetween(200, 204);
            changes++;
          }
          round++;
        }

        int okAtEnd = ok.get();
        await().atMost(Duration.ofSeconds(5)).until(() -> ok.get() > okAtEnd + 100);
        stop.set(true);
        for (Thread client : clients) {
          client.join(10_000);
        }

        assertThat(failures).isEmpty();
        assertThat(changes).isGreaterThanOrEqualTo(1_000);
        assertThat(ok.get()).isGreaterThan(1_000);
        assertThat(extra.stream().mapToInt(NamedBackend::requests).sum())
            .as("backends added during the run took traffic before they were removed").isPositive();
        for (NamedBackend s : stable) {
          assertThat(status(lb, s.name).inFlight()).isZero();
        }
      }
    } finally {
      for (NamedBackend b : stable) {
        b.close();
      }
      for (NamedBackend b : extra) {
        b.close();
      }
    }
  }

  private static String address(InetSocketAddress address) {
    return address.getAddress().getHostAddress() + ":" + address.getPort();
  }

  private static String put(String path, String body) {
    return "PUT " + path + " " + body;
  }

  private static String post(String path) {
    return "POST " + path + " ";
  }

  private static String delete(String path) {
    return "DELETE " + path + " ";
  }

  private static int admin(LoadBalancer lb, String op) {
    String[] parts = op.split(" ", 3);
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(lb.adminAddress(), parts[1]));
    switch (parts[0]) {
      case "PUT" -> request.header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(parts[2]));
      case "POST" -> request.POST(HttpRequest.BodyPublishers.noBody());
      default -> request.DELETE();
    }
    HttpResponse<String> response = send(request);
    return response.statusCode();
  }
}
