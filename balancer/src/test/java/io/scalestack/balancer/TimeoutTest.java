package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TimeoutTest {

  @RegisterExtension final Resources resources = new Resources();

  private <T extends AutoCloseable> T track(T resource) {
    return resources.track(resource);
  }

  @Test
  void aRequestHeadThatTrickles408sAndCloses() throws Exception {
    RecordingBackend backend = track(RecordingBackend.start());
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).requestHeaderTimeout(Duration.ofMillis(300))
        .backend("web", backend.address()).build().start());
    awaitAllUp(lb, scheduler);

    try (RawClient client = new RawClient(lb.address())) {
      // slowloris: a head that never ends
      client.send("GET /slow HTTP/1.1\r\nHost: x\r\n");
      client.send("X-One: 1\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(408);
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(client.closedByPeer()).isTrue();
    }
    try (RawClient client = new RawClient(lb.address())) {
      // a keep-alive connection between requests is not a slow head
      client.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
      await().pollDelay(Duration.ofMillis(500)).until(() -> true);
      client.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
    assertThat(backend.requests).extracting(RecordingBackend.Request::line)
        .containsExactly("GET /one HTTP/1.1", "GET /two HTTP/1.1");
  }

  @Test
  void aPooledConnectionIsRetiredBeforeTheBackendsKeepAliveTimeout() throws Exception {
    RawBackend backend = track(RawBackend.start("web", RawBackend.Mode.SHORT_KEEP_ALIVE));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = track(balancer(scheduler).backend("web", backend.address()).build().start());
    awaitAllUp(lb, scheduler);

    for (int i = 0; i < 3; i++) {
      HttpResponse<String> response = send(HttpRequest.newBuilder(uri(lb.address(), "/orders"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"order\":" + i + "}")));
      assertThat(response.statusCode()).isEqualTo(200);
      // longer than the backend keeps an idle connection (it said timeout=1, and means less)
      await().pollDelay(Duration.ofMillis(RawBackend.SHORT_KEEP_ALIVE_MILLIS + 200)).until(() -> true);
    }

    // no POST ever landed on a connection the backend had given up on, and none was sent twice
    assertThat(backend.received("POST")).isEqualTo(3);
    assertThat(backend.answered()).isEqualTo(3);
  }
}
