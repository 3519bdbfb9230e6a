package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/1.1 conformance of the balancer, on raw sockets against a backend that records the bytes it
 * receives. Every smuggling case checks that the backend saw no request it should not have: after
 * the rejection, a sentinel request on a fresh connection is answered, and the backend's record
 * then holds nothing but the sentinel (and never a line of the smuggled request).
 *
 * <p>Choices where the RFCs allow several: identical duplicate Content-Length values are folded
 * into one (RFC 9110 §8.6); bare LF line endings are rejected (RFC 9112 §2.2 allows either, a
 * proxy must not differ from its backend); obsolete line folding is rejected (RFC 9112 §5.2);
 * transfer codings other than chunked get 501; chunk extensions and trailers are dropped.
 */
class ConformanceTest {

  private final List<AutoCloseable> resources = new ArrayList<>();
  private RecordingBackend backend;
  private LoadBalancer lb;

  @BeforeEach
  void start() throws Exception {
    backend = RecordingBackend.start();
    resources.add(backend);
    ManualScheduler scheduler = new ManualScheduler();
    lb = balancer(scheduler).maxContentLengthBytes(1024 * 1024).backend("web", backend.address()).build().start();
    resources.add(lb);
    awaitAllUp(lb, scheduler);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  // ---- framing and smuggling

  @Test
  void rejectsContentLengthWithTransferEncoding() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "both Transfer-Encoding and Content-Length");
  }

  @Test
  void rejectsTransferEncodingWithContentLengthInEitherOrder() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "both Transfer-Encoding and Content-Length");
  }

  @Test
  void rejectsDifferingDuplicateContentLengths() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 37\r\n\r\n"
        + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "differing Content-Length");
  }

  @Test
  void rejectsDifferingContentLengthsInOneField() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 37\r\n\r\n"
        + "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "differing Content-Length");
  }

  @Test
  void foldsIdenticalDuplicateContentLengthsIntoOne() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /folded HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello");
      assertThat(client.read().status()).isEqualTo(200);
    }
    RecordingBackend.Request seen = backend.requests.getFirst();
    assertThat(seen.count("content-length")).isEqualTo(1);
    assertThat(seen.header("content-length")).isEqualTo("5");
    assertThat(seen.body()).isEqualTo("hello");
  }

  @Test
  void rejectsAContentLengthThatIsNotDigits() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400, "Content-Length");
  }

  @Test
  void rejectsObsoleteLineFolding() throws Exception {
    assertRejected("GET /a HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n two\r\n\r\n", 400, "obsolete line folding");
  }

  @Test
  void rejectsAFoldedTransferEncoding() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 37\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "obsolete line folding");
  }

  @Test
  void rejectsBareLfLineEndings() throws Exception {
    assertRejected("GET /a HTTP/1.1\nHost: x\n\nGET /smuggled HTTP/1.1\nHost: x\n\n", 400, "bare LF");
  }

  @Test
  void rejectsABareLfInsideTheHeaderSection() throws Exception {
    assertRejected("GET /a HTTP/1.1\r\nHost: x\nX-Smuggled: GET /smuggled\r\n\r\n", 400, "bare LF");
  }

  @Test
  void rejectsABareLfAfterAChunkSize() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bare LF");
  }

  @Test
  void rejectsABareCrInAFieldValue() throws Exception {
    assertRejected("GET /a HTTP/1.1\r\nHost: x\r\nX-Evil: a\rGET /smuggled HTTP/1.1\r\n\r\n", 400, "control character");
  }

  @Test
  void rejectsNulInAFieldValue() throws Exception {
    assertRejected("GET /a HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0000b\r\n\r\n", 400, "control character");
  }

  @Test
  void rejectsAControlCharacterInAFieldName() throws Exception {
    assertRejected("GET /a HTTP/1.1\r\nHost: x\r\nX-E\u0001vil: a\r\n\r\n", 400, "not a token");
  }

  @Test
  void rejectsWhitespaceBeforeTheColon() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 37\r\nTransfer-Encoding : chunked\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "before the colon");
  }

  @Test
  void rejectsChunkedFollowedByIdentity() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Transfer-Encoding");
  }

  @Test
  void rejectsAnUnknownCodingNamedLikeChunked() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Transfer-Encoding");
  }

  @Test
  void rejectsChunkedTwice() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "0\r\n\r\n", 400, "Transfer-Encoding");
  }

  @Test
  void rejectsTransferEncodingInAnHttp10Request() throws Exception {
    assertRejected("POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", 400, "HTTP/1.0");
  }

  @Test
  void refusesCodingsOtherThanChunkedWith501() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, "not supported");
  }

  @Test
  void rejectsAChunkSizeThatIsNotHex() throws Exception {
    assertRejectedInBody("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "zz\r\nhello\r\n0\r\n\r\n", "not hexadecimal");
  }

  @Test
  void rejectsAnOverflowingChunkSize() throws Exception {
    assertRejectedInBody("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "10000000000000005\r\nhello\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", "size too large");
  }

  @Test
  void rejectsChunkDataLongerThanItsSize() throws Exception {
    assertRejectedInBody("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "3\r\nabcGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n0\r\n\r\n", "not followed by CRLF");
  }

  @Test
  void rejectsAMissingCrlfAfterTheLastChunk() throws Exception {
    assertRejectedInBody("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "0\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n", "trailer");
  }

  @Test
  void rejectsAMalformedChunkExtension() throws Exception {
    assertRejectedInBody("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5;=x\r\nhello\r\n0\r\n\r\n", "chunk extension");
  }

  @Test
  void rejectsAFloodOfChunkExtensions() throws Exception {
    StringBuilder body = new StringBuilder();
    String extension = ";x=" + "a".repeat(1000);
    for (int i = 0; i < 20; i++) {
      body.append("1").append(extension).append("\r\nz\r\n");
    }
    assertRejectedInBody("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body + "0\r\n\r\n",
        "chunk extensions");
  }

  @Test
  void dropsValidChunkExtensionsAndTrailersAndForwardsTheBody() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /ext HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5 ; name=\"q\\\"v\" ; flag\r\nhello\r\n6;a=b\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
    RecordingBackend.Request seen = backend.requests.getFirst();
    assertThat(seen.body()).isEqualTo("hello world");
  }

  // ---- request line and limits

  @Test
  void rejectsAMalformedRequestLine() throws Exception {
    assertRejected("GET  /a HTTP/1.1\r\nHost: x\r\n\r\n", 400, "request line");
  }

  @Test
  void rejectsAControlCharacterInTheTarget() throws Exception {
    assertRejected("GET /a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "target");
  }

  @Test
  void answersAnUnsupportedVersionWith505() throws Exception {
    assertRejected("GET /a HTTP/2.0\r\nHost: x\r\n\r\n", 505, "version");
  }

  @Test
  void rejectsTwoHostFields() throws Exception {
    assertRejected("GET /a HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400, "Host");
  }

  @Test
  void answersAnOverlongUriWith414() throws Exception {
    assertRejected("GET /" + "u".repeat(9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414, "request line");
  }

  @Test
  void answersAnOversizedHeaderSectionWith431() throws Exception {
    StringBuilder head = new StringBuilder("GET /a HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 40; i++) {
      head.append("X-Filler-").append(i).append(": ").append("f".repeat(500)).append("\r\n");
    }
    assertRejected(head + "\r\n", 431, "header section");
  }

  @Test
  void answersAnOversizedContentLengthWith413BeforeTheBody() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413, "exceeds");
  }

  @Test
  void forwardsAnAbsoluteFormTargetInOriginFormWithItsAuthorityAsHost() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET http://example.com:8080/path?q=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("/path?q=1");
    }
    RecordingBackend.Request seen = backend.requests.getFirst();
    assertThat(seen.line()).isEqualTo("GET /path?q=1 HTTP/1.1");
    assertThat(seen.header("host")).isEqualTo("example.com:8080");
  }

  @Test
  void refusesConnect() throws Exception {
    assertRejected("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405, "CONNECT");
  }

  // ---- headers added and removed

  @Test
  void stripsHopByHopRequestFields() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /hop-request HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Internal\r\nX-Internal: secret\r\n"
          + "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-Public: yes\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
    RecordingBackend.Request seen = backend.requests.getFirst();
    for (String name : List.of("x-internal", "keep-alive", "te", "proxy-connection", "upgrade")) {
      assertThat(seen.header(name)).as(name).isNull();
    }
    assertThat(seen.header("connection")).isNull();
    assertThat(seen.header("x-public")).isEqualTo("yes");
  }

  @Test
  void stripsHopByHopResponseFields() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /hop HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hop");
      for (String name : List.of("x-internal", "keep-alive", "proxy-connection", "upgrade")) {
        assertThat(response.header(name)).as(name).isNull();
      }
      assertThat(response.header("connection")).isNull();
      assertThat(response.header("x-public")).isEqualTo("yes");
    }
  }

  @Test
  void appendsForwardedFieldsToThoseOfEarlierProxies() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /fwd HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 203.0.113.7\r\n"
          + "Forwarded: for=203.0.113.7;proto=https\r\nX-Forwarded-Proto: https\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
    RecordingBackend.Request seen = backend.requests.getFirst();
    assertThat(seen.header("x-forwarded-for")).isEqualTo("203.0.113.7, 127.0.0.1");
    assertThat(seen.header("x-forwarded-proto")).isEqualTo("http");
    assertThat(seen.header("x-forwarded-host")).isEqualTo("shop.example");
    assertThat(seen.header("forwarded"))
        .isEqualTo("for=203.0.113.7;proto=https, for=127.0.0.1;host=shop.example;proto=http");
    assertThat(seen.header("host")).isEqualTo("shop.example");
  }

  // ---- message flow

  @Test
  void sendsOneHundredContinueThenForwardsTheBody() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(100);
      client.send("hello");
      assertThat(client.read().status()).isEqualTo(200);
    }
    RecordingBackend.Request seen = backend.requests.getFirst();
    assertThat(seen.body()).isEqualTo("hello");
    assertThat(seen.header("expect")).isNull();
  }

  @Test
  void answersAnUnknownExpectationWith417() throws Exception {
    assertRejected("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\nhello", 417, null);
  }

  @Test
  void answersAClientThatHalfClosedAfterItsRequest() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /half HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
      client.shutdownOutput();
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("/half");
      assertThat(client.closedByPeer()).isTrue();
    }
    assertThat(backend.requests).extracting(RecordingBackend.Request::body).containsExactly("hello");
  }

  @Test
  void relaysHead204And304WithoutBodiesOnAKeptAliveConnection() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("HEAD /page HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response head = client.readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length")).isEqualTo("5");

      client.send("GET /status/204 HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response noContent = client.read();
      assertThat(noContent.status()).isEqualTo(204);
      assertThat(noContent.header("content-length")).isNull();
      assertThat(noContent.header("transfer-encoding")).isNull();

      client.send("GET /status/304 HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response notModified = client.read();
      assertThat(notModified.status()).isEqualTo(304);
      assertThat(notModified.header("etag")).isEqualTo("\"v1\"");

      // had any body bytes followed those responses, this one would not parse
      client.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response after = client.read();
      assertThat(after.status()).isEqualTo(200);
      assertThat(after.body()).isEqualTo("/after");
    }
  }

  @Test
  void relaysAChunkedResponse() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(200);
      assertThat(response.body()).isEqualTo("hello world");
    }
  }

  @Test
  void relaysAChunkedResponseToAnHttp10ClientUnchunkedAndCloses() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /chunked HTTP/1.0\r\n\r\n");
      RawClient.Response head = client.readHeadOnly();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("transfer-encoding")).isNull();
      assertThat(head.header("connection")).isEqualTo("close");
      // RFC 9112 §6.3: without a length, the body ends where the connection does
      assertThat(new String(client.input().readAllBytes())).isEqualTo("hello world");
    }
  }

  @Test
  void anErrorAnsweringHeadHasNoBody() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("HEAD /close HTTP/1.1\r\nHost: x\r\n\r\n");
      RawClient.Response response = client.readHead();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.header("content-length")).isNotNull();
      client.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.read().body()).isEqualTo("/next");
    }
  }

  @Test
  void answersPipelinedRequestsInOrder() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
          + "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
          + "GET /three HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.read().body()).isEqualTo("/one");
      assertThat(client.read().body()).isEqualTo("/two");
      assertThat(client.read().body()).isEqualTo("/three");
    }
    assertThat(backend.requests).extracting(RecordingBackend.Request::line)
        .containsExactly("GET /one HTTP/1.1", "POST /two HTTP/1.1", "GET /three HTTP/1.1");
  }

  @Test
  void ignoresAnEmptyLineBeforeTheRequestLine() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("\r\nGET /after-empty-line HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.read().body()).isEqualTo("/after-empty-line");
    }
  }

  // ---- helpers

  /** Sends {@code raw}; expects {@code status}, then the connection closing; then nothing else reached the backend. */
  private void assertRejected(String raw, int status, String messagePart) throws IOException {
    sendRejected(raw, status, messagePart);
    assertThat(sentinel()).as("complete requests the backend received").containsExactly("GET /sentinel HTTP/1.1");
    assertThat(backend.requestLines).as("request lines the backend saw").containsExactly("GET /sentinel HTTP/1.1");
  }

  /**
   * For an error inside a streamed body: the head may have reached the backend, but the request
   * never completed there, and no smuggled request followed.
   */
  private void assertRejectedInBody(String raw, String messagePart) throws IOException {
    sendRejected(raw, 400, messagePart);
    assertThat(sentinel()).as("complete requests the backend received").containsExactly("GET /sentinel HTTP/1.1");
    assertThat(backend.requestLines).as("request lines the backend saw").noneMatch(line -> line.contains("smuggled"));
  }

  private void sendRejected(String raw, int status, String messagePart) throws IOException {
    try (RawClient client = new RawClient(lb.address())) {
      client.send(raw);
      RawClient.Response response = client.read();
      assertThat(response.status()).as(response.body()).isEqualTo(status);
      assertThat(response.header("connection")).isEqualTo("close");
      if (messagePart != null) {
        assertThat(response.body()).contains(messagePart);
      }
      assertThat(client.closedByPeer()).isTrue();
    }
  }

  // a request on a fresh connection: once answered, whatever the balancer forwarded before has arrived
  private List<String> sentinel() throws IOException {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /sentinel HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
    return backend.requests.stream().map(RecordingBackend.Request::line).toList();
  }
}
