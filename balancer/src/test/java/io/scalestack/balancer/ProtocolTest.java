package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ProtocolTest {

  private final List<AutoCloseable> resources = new ArrayList<>();
  private TestBackend backend;
  private LoadBalancer lb;

  @BeforeEach
  void start() throws Exception {
    backend = TestBackend.start("a");
    resources.add(backend);
    ManualScheduler scheduler = new ManualScheduler();
    lb = balancer(scheduler).maxContentLengthBytes(1024).backend("a", backend.address()).build().start();
    resources.add(lb);
    awaitAllUp(lb, scheduler);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  @Test
  void aMalformedRequestLineGets400AndTheBalancerKeepsServingOthers() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("THIS IS NOT HTTP\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.header("connection")).isEqualTo("close");
      assertThat(response.header("content-type")).isEqualTo("application/json");
      assertThat(response.body()).startsWith("{\"error\":\"malformed request: ");
      assertThat(client.closedByPeer()).isTrue();
    }

    assertThat(get(lb.address(), "/still-here").statusCode()).isEqualTo(200);
    assertThat(backend.requests()).isEqualTo(1);
  }

  @Test
  void anOversizedBodyGets413() throws Exception {
    HttpResponse<String> response = send(HttpRequest.newBuilder(uri(lb.address(), "/upload"))
        .POST(HttpRequest.BodyPublishers.ofString("x".repeat(2048))));
    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(response.body()).isEqualTo("{\"error\":\"request content exceeds 1024 bytes\"}");

    HttpResponse<String> fits = send(HttpRequest.newBuilder(uri(lb.address(), "/upload"))
        .POST(HttpRequest.BodyPublishers.ofString("x".repeat(1024))));
    assertThat(fits.statusCode()).isEqualTo(200);
    assertThat(backend.received).extracting(TestBackend.Received::body).containsExactly("x".repeat(1024));
  }

  @Test
  void aChunkedBodyOverTheLimitGets413() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "400\r\n" + "y".repeat(1024) + "\r\n" + "10\r\n" + "y".repeat(16) + "\r\n0\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.header("connection")).isEqualTo("close");
    }
    assertThat(backend.requests()).isZero();
  }

  @Test
  void aChunkedBodyWithinTheLimitStreamsThroughChunked() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
    TestBackend.Received seen = backend.received.getFirst();
    assertThat(seen.body()).isEqualTo("hello world");
    assertThat(seen.header("Transfer-Encoding")).isEqualTo("chunked");
    assertThat(seen.header("Content-Length")).isNull();
  }

  @Test
  void rejectsARequestWithBothContentLengthAndChunked() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /smuggle HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.body()).contains("both Transfer-Encoding and Content-Length are present");
      assertThat(client.closedByPeer()).isTrue();
    }
    assertThat(backend.requests()).isZero();
  }

  @Test
  void writesOneAccessLogLinePerRequest() throws Exception {
    ch.qos.logback.classic.Logger access =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.scalestack.balancer.access");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    access.addAppender(lines);
    ch.qos.logback.classic.Level level = access.getLevel();
    access.setLevel(ch.qos.logback.classic.Level.INFO);
    try {
      assertThat(get(lb.address(), "/logged?x=1").statusCode()).isEqualTo(200);
      try (RawClient client = new RawClient(lb.address())) {
        client.send("GET /bad\u0000 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(client.read().status()).isEqualTo(400);
      }
    } finally {
      access.detachAppender(lines);
      access.setLevel(level);
    }
    assertThat(lines.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .satisfiesExactly(
            line -> assertThat(line).matches("client=127\\.0\\.0\\.1:\\d+ method=GET uri=/logged\\?x=1 status=200 "
                + "backend=a bytes_in=0 bytes_out=1 duration_ms=\\d+\\.\\d\\d protocol=HTTP/1.1"),
            line -> assertThat(line).startsWith("client=127.0.0.1:").contains(" status=400 backend=none "));
  }

  @Test
  void rejectsAnHttp11RequestWithoutHost() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET / HTTP/1.1\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(400);
      assertThat(response.body()).isEqualTo("{\"error\":\"malformed request: 0 Host header fields (expected: exactly 1)\"}");
    }
    assertThat(backend.requests()).isZero();
  }
}
