package io.scalestack.balancer;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.awaitility.Awaitility;

/** Shared set-up: balancers on loopback port 0 with hand-paced health checks, and an HTTP client. */
final class Fixtures {

  static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  static {
    // conditions here turn true within milliseconds; poll accordingly
    Awaitility.setDefaultPollDelay(Duration.ZERO);
    Awaitility.setDefaultPollInterval(Duration.ofMillis(10));
  }

  private Fixtures() {}

  static InetSocketAddress anyPort() {
    return new InetSocketAddress(LOOPBACK, 0);
  }

  /** A balancer on free ports whose health checks run only when {@code scheduler} is told. */
  static LoadBalancer.Builder balancer(ManualScheduler scheduler) {
    return LoadBalancer.builder()
        .listen(anyPort())
        .adminListen(anyPort())
        .ioThreads(2)
        .responseTimeout(Duration.ofSeconds(10))
        .healthCheck(HealthCheck.builder().timeout(Duration.ofMillis(500)).build())
        .healthCheckScheduler(scheduler);
  }

  /** Runs one health check of each of the {@code watched} backends and waits until all have ended. */
  static void checkRound(ManualScheduler scheduler, int watched) {
    await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.pending() == watched);
    scheduler.runPending();
    await().atMost(Duration.ofSeconds(5)).until(() -> scheduler.pending() == watched);
  }

  /** Runs health checks until every backend is UP. */
  static void awaitAllUp(LoadBalancer lb, ManualScheduler scheduler) {
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      checkRound(scheduler, lb.backends().size());
      return lb.backends().stream().allMatch(b -> b.state() == BackendState.UP);
    });
  }

  static BackendStatus status(LoadBalancer lb, String name) {
    return lb.backends().stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow();
  }

  static URI uri(InetSocketAddress address, String path) {
    return URI.create("http://" + address.getAddress().getHostAddress() + ":" + address.getPort() + path);
  }

  static HttpResponse<String> get(InetSocketAddress address, String path) {
    return send(HttpRequest.newBuilder(uri(address, path)).GET());
  }

  static HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return CLIENT.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
