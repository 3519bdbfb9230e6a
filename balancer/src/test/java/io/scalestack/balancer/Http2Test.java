package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * HTTP/2 from clients over a plaintext listener: h2c with prior knowledge (RFC 9113 §3.3), each
 * stream one request that reaches an HTTP/1.1 backend through the same proxy path as HTTP/1.1.
 */
class Http2Test {

  private static final Duration WAIT = Duration.ofSeconds(10);

  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  private <T extends AutoCloseable> T closeLater(T resource) {
    resources.add(resource);
    return resource;
  }

  private LoadBalancer start(LoadBalancer.Builder builder) {
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = closeLater(builder.healthCheckScheduler(scheduler).build().start());
    awaitAllUp(lb, scheduler);
    return lb;
  }

  private LoadBalancer recording(RecordingBackend backend) {
    return start(balancer(new ManualScheduler()).maxContentLengthBytes(1024).backend("web", backend.address()));
  }

  private H2Client client(LoadBalancer lb) throws InterruptedException {
    return closeLater(new H2Client(lb.address()));
  }

  private static H2Client.Answer answer(CompletableFuture<H2Client.Answer> future) throws Exception {
    return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void forwardsPriorKnowledgeGetAsHttp11WithProxyHeaders() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    H2Client.Answer answer = answer(client.send(H2Client.headers("GET", "/a/b?c=1").add("x-user", "ann"), List.of(), true));

    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.body()).isEqualTo("/a/b?c=1");
    RecordingBackend.Request seen = backend.requests.getFirst();
    assertThat(seen.line()).isEqualTo("GET /a/b?c=1 HTTP/1.1");
    assertThat(seen.header("host")).isEqualTo("lb.test");
    assertThat(seen.count("host")).isEqualTo(1);
    assertThat(seen.header("x-user")).isEqualTo("ann");
    assertThat(seen.header("x-forwarded-for")).isEqualTo("127.0.0.1");
    assertThat(seen.header("x-forwarded-proto")).isEqualTo("http");
    assertThat(seen.header("x-forwarded-host")).isEqualTo("lb.test");
    assertThat(seen.header("forwarded")).isEqualTo("for=127.0.0.1;host=lb.test;proto=http");
    assertThat(seen.header("via")).isEqualTo("2 scalestack-lb");
    assertThat(seen.headerLines()).noneMatch(h -> h.toLowerCase().startsWith("x-http2-") || h.startsWith(":"));
    assertThat(seen.header("content-length")).isNull();
    assertThat(seen.header("transfer-encoding")).isNull();
  }

  @Test
  void forwardsPostBodiesWithAndWithoutContentLength() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    Http2Headers sized = H2Client.headers("POST", "/sized").add("content-length", "11").add("content-type", "text/plain");
    assertThat(answer(client.send(sized, List.of("hello", " world"), true)).status()).isEqualTo(200);
    Http2Headers unsized = H2Client.headers("POST", "/unsized");
    assertThat(answer(client.send(unsized, List.of("abc", "def"), true)).status()).isEqualTo(200);

    RecordingBackend.Request first = backend.requests.get(0);
    assertThat(first.line()).isEqualTo("POST /sized HTTP/1.1");
    assertThat(first.header("content-length")).isEqualTo("11");
    assertThat(first.header("content-type")).isEqualTo("text/plain");
    assertThat(first.body()).isEqualTo("hello world");
    RecordingBackend.Request second = backend.requests.get(1);
    assertThat(second.line()).isEqualTo("POST /unsized HTTP/1.1");
    // no length known when the head goes: the body goes on chunked
    assertThat(second.header("transfer-encoding")).isEqualTo("chunked");
    assertThat(second.body()).isEqualTo("abcdef");
  }

  @Test
  void dropsConnectionSpecificFieldsFromBackendResponses() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    H2Client.Answer hop = answer(client.get("/hop"));
    H2Client.Answer chunked = answer(client.get("/chunked"));

    assertThat(hop.status()).isEqualTo(200);
    assertThat(hop.body()).isEqualTo("hop");
    assertThat(hop.headers().get("x-public")).isEqualTo("yes");
    for (String name : List.of("connection", "keep-alive", "proxy-connection", "upgrade", "transfer-encoding", "x-internal")) {
      assertThat(hop.headers().contains(name)).as(name).isFalse();
    }
    assertThat(chunked.body()).isEqualTo("hello world");
    assertThat(chunked.headers().contains("transfer-encoding")).isFalse();
  }

  @Test
  void balancesConcurrentStreamsOfOneConnectionOverBackends() throws Exception {
    NamedBackend a = closeLater(NamedBackend.start("a"));
    NamedBackend b = closeLater(NamedBackend.start("b"));
    LoadBalancer lb = start(balancer(new ManualScheduler()).backend("a", a.address()).backend("b", b.address()));
    H2Client client = client(lb);

    List<CompletableFuture<H2Client.Answer>> answers = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      answers.add(client.get("/hold/" + i));
    }
    // all 40 are at the backends at once: the streams are concurrent, not queued one by one
    await().atMost(WAIT).until(() -> a.held.get() + b.held.get() == 40);
    assertThat(a.held.get()).isEqualTo(20);
    assertThat(b.held.get()).isEqualTo(20);
    a.release(20);
    b.release(20);

    List<String> bodies = new ArrayList<>();
    for (CompletableFuture<H2Client.Answer> answer : answers) {
      H2Client.Answer done = answer(answer);
      assertThat(done.status()).isEqualTo(200);
      bodies.add(done.body());
    }
    assertThat(bodies).filteredOn(body -> body.contains("a")).hasSize(20);
    assertThat(client.isOpen()).isTrue();
  }

  @Test
  void aStreamThatStopsReadingStopsTheBackendInsteadOfFillingMemory() throws Exception {
    int big = 64 * 1024 * 1024;
    // far below big, far above what socket buffers, the balancer's water marks and one stream
    // window (the client's: 1 MiB) can hold; measured: about 4 MiB
    long bufferedAtMost = 40L * 1024 * 1024;
    ScriptedBackend backend = closeLater(ScriptedBackend.start());
    LoadBalancer lb = start(balancer(new ManualScheduler()).backend("web", backend.address()));
    H2Client client = client(lb);
    AtomicLong received = new AtomicLong();
    CompletableFuture<Boolean> ended = new CompletableFuture<>();
    Http2StreamChannel stream = client.open(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame data) {
          received.addAndGet(data.content().readableBytes());
          if (data.isEndStream()) {
            ended.complete(true);
          }
        }
        ReferenceCountUtil.release(msg);
      }
    }, false);
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(H2Client.headers("GET", "/big"), true));

    ScriptedBackend.Connection connection = backend.next();
    AtomicLong written = new AtomicLong();
    Thread writer = Thread.ofVirtual().start(() -> {
      try {
        connection.write("HTTP/1.1 200 OK\r\nContent-Length: " + big + "\r\n\r\n");
        byte[] block = new byte[64 * 1024];
        while (written.get() < big) {
          int n = (int) Math.min(block.length, big - written.get());
          connection.out().write(block, 0, n);
          written.addAndGet(n);
        }
        connection.out().flush();
      } catch (java.io.IOException e) {
        // the test ends by closing the connections
      }
    });

    awaitStalled(written);
    assertThat(written.get()).as("bytes the backend got rid of while the client read nothing").isLessThan(bufferedAtMost);

    stream.config().setAutoRead(true);
    assertThat(ended.get(30, TimeUnit.SECONDS)).isTrue();
    assertThat(received.get()).isEqualTo(big);
    writer.join();
  }

  @Test
  void anEarlyResponseEndsTheRestOfTheRequestWithNoError() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);
    AtomicLong status = new AtomicLong();
    CompletableFuture<Long> reset = new CompletableFuture<>();
    Http2StreamChannel stream = client.open(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof io.netty.handler.codec.http2.Http2HeadersFrame headers && status.get() == 0) {
          status.set(Long.parseLong(headers.headers().status().toString()));
        }
        ReferenceCountUtil.release(msg);
      }

      @Override
      public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof io.netty.handler.codec.http2.Http2ResetFrame frame) {
          reset.complete(frame.errorCode());
        }
      }
    }, true);
    // a body over the limit (1024 bytes), still being sent: 413 at once, the rest is not wanted
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(H2Client.headers("POST", "/upload").add("content-length", "4096"),
        false));

    // RFC 9113 §8.1: after a complete response, RST_STREAM with NO_ERROR asks the client to stop
    // sending without error; with another code a client may discard the response (curl does)
    assertThat(reset.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(Http2Error.NO_ERROR.code());
    assertThat(status.get()).isEqualTo(413);
  }

  @Test
  void aStreamResetWhileTheResponseStreamsClosesTheBackendConnectionAndEndsTheRequest() throws Exception {
    ScriptedBackend backend = closeLater(ScriptedBackend.start());
    LoadBalancer lb = start(balancer(new ManualScheduler()).backend("web", backend.address()));
    H2Client client = client(lb);
    CompletableFuture<Boolean> firstData = new CompletableFuture<>();
    Http2StreamChannel stream = client.open(new ChannelInboundHandlerAdapter() {
      @Override
      public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2DataFrame) {
          firstData.complete(true);
        }
        ReferenceCountUtil.release(msg);
      }
    }, true);
    stream.writeAndFlush(new DefaultHttp2HeadersFrame(H2Client.headers("GET", "/stream"), true));
    ScriptedBackend.Connection connection = backend.next();
    connection.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + "x".repeat(1000));
    assertThat(firstData.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();

    // RST_STREAM(CANCEL) from the client, mid-response
    stream.close().sync();

    // the half-sent response cannot go on: the backend connection closes, nothing stays in flight
    InputStream in = connection.in();
    connection.socket().setSoTimeout((int) WAIT.toMillis());
    assertThat(in.read()).isEqualTo(-1);
    await().atMost(WAIT).until(() -> Fixtures.status(lb, "web").inFlight() == 0);
    CompletableFuture<H2Client.Answer> after = client.get("/after");
    backend.next().write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    assertThat(answer(after).status()).as("the connection goes on").isEqualTo(200);
  }

  // progress stopped: two polls in a row saw the same count
  private static void awaitStalled(AtomicLong written) {
    long[] last = {-1};
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() -> {
      long now = written.get();
      boolean stalled = now > 0 && now == last[0];
      last[0] = now;
      return stalled;
    });
  }

  @Test
  void closingTheBalancerLetsOpenStreamsFinish() throws Exception {
    NamedBackend a = closeLater(NamedBackend.start("a"));
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancer(scheduler).backend("a", a.address()).build().start();
    awaitAllUp(lb, scheduler);
    H2Client client = client(lb);
    CompletableFuture<H2Client.Answer> held = client.get("/hold");
    await().atMost(WAIT).until(() -> a.held.get() == 1);

    Thread closer = Thread.ofVirtual().start(lb::close);
    // the connection gets GOAWAY but stays open for the stream in flight
    await().atMost(WAIT).until(() -> closer.getState() == Thread.State.WAITING
        || closer.getState() == Thread.State.TIMED_WAITING);
    a.release(1);

    assertThat(answer(held).status()).isEqualTo(200);
    closer.join();
    await().atMost(WAIT).until(() -> !client.isOpen());
  }

  @Test
  void closesAnIdleConnectionWithNoOpenStream() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = start(balancer(new ManualScheduler()).clientIdleTimeout(Duration.ofMillis(300))
        .backend("web", backend.address()));
    H2Client client = client(lb);

    assertThat(answer(client.get("/once")).status()).isEqualTo(200);

    await().atMost(WAIT).until(() -> !client.isOpen());
  }

  @Test
  void resetsStreamWithConnectionSpecificFieldWhileOtherStreamsGoOn() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    // RFC 9113 §8.2.2: a request with a connection-specific field is malformed
    H2Client.Answer bad = answer(client.send(H2Client.headers("GET", "/smuggled").add("connection", "keep-alive"),
        List.of(), true));
    H2Client.Answer te = answer(client.send(H2Client.headers("GET", "/smuggled-te").add("te", "gzip"), List.of(), true));
    H2Client.Answer good = answer(client.get("/after"));

    assertThat(bad.resetCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    assertThat(te.resetCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    assertThat(good.status()).isEqualTo(200);
    assertThat(backend.requestLines).containsExactly("GET /after HTTP/1.1");
  }

  @Test
  void resetsStreamWhoseDataDoesNotMatchContentLength() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    H2Client.Answer shorter = answer(client.send(H2Client.headers("POST", "/short").add("content-length", "10"),
        List.of("abc"), true));
    H2Client.Answer longer = answer(client.send(H2Client.headers("POST", "/long").add("content-length", "2"),
        List.of("abcdef"), true));
    H2Client.Answer good = answer(client.get("/after"));

    assertThat(shorter.resetCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    assertThat(longer.resetCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    assertThat(good.status()).isEqualTo(200);
    // a request may have started towards the backend, but none arrived whole
    assertThat(backend.requests).extracting(RecordingBackend.Request::line).containsExactly("GET /after HTTP/1.1");
  }

  @Test
  void answersMalformedRequestsWith400WhileOtherStreamsGoOn() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    H2Client.Answer hostMismatch = answer(client.send(H2Client.headers("GET", "/x").add("host", "other.test"),
        List.of(), true));
    H2Client.Answer split = answer(client.send(H2Client.headers("GET", "/y")
        .add("x-evil", "a\r\nTransfer-Encoding: chunked"), List.of(), true));
    H2Client.Answer noPath = answer(client.send(H2Client.headers("GET", "/z").path(""), List.of(), true));
    H2Client.Answer noScheme = answer(client.send(new io.netty.handler.codec.http2.DefaultHttp2Headers(false)
        .method("GET").path("/s").authority("lb.test"), List.of(), true));
    H2Client.Answer relative = answer(client.send(H2Client.headers("GET", "z"), List.of(), true));
    H2Client.Answer connect = answer(client.send(new io.netty.handler.codec.http2.DefaultHttp2Headers(false)
        .method("CONNECT").authority("lb.test:443"), List.of(), true));
    H2Client.Answer tooLarge = answer(client.send(H2Client.headers("POST", "/big").add("content-length", "2048"),
        List.of("x"), false));
    H2Client.Answer good = answer(client.get("/after"));

    assertThat(hostMismatch.status()).isEqualTo(400);
    assertThat(hostMismatch.body()).contains("differs from :authority");
    // a CR LF in a value is malformed (RFC 9113 §8.2.1): it would split the HTTP/1.1 request sent on
    assertThat(split.status()).isEqualTo(400);
    assertThat(split.body()).contains("field 'x-evil'");
    // Netty's codec resets a stream with an empty :path itself
    assertThat(noPath.resetCode()).isEqualTo(Http2Error.PROTOCOL_ERROR.code());
    assertThat(noScheme.status()).isEqualTo(400);
    assertThat(noScheme.body()).contains(":scheme");
    assertThat(relative.status()).isEqualTo(400);
    assertThat(connect.status()).isEqualTo(405);
    assertThat(tooLarge.status()).isEqualTo(413);
    assertThat(good.status()).isEqualTo(200);
    assertThat(backend.requestLines).containsExactly("GET /after HTTP/1.1");
  }

  @Test
  void neverForwardsAnAuthorityThatWouldSplitTheRequestSentOn() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    // :authority becomes Host (and X-Forwarded-Host, Forwarded host=) in the HTTP/1.1 request sent on
    H2Client.Answer split = answer(client.send(H2Client.headers("GET", "/x")
        .authority("lb.test\r\nX-Injected: 1"), List.of(), true));
    H2Client.Answer good = answer(client.get("/after"));

    assertThat(split.status()).as("reset or refused, never forwarded").isNotEqualTo(200);
    assertThat(good.status()).isEqualTo(200);
    assertThat(backend.requestLines).containsExactly("GET /after HTTP/1.1");
  }

  @Test
  void refusesHeaderListOverTheLimitWith431() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    H2Client.Answer big = answer(client.send(H2Client.headers("GET", "/big").add("x-big", "v".repeat(17 * 1024)),
        List.of(), true));
    H2Client.Answer good = answer(client.get("/after"));

    assertThat(big.status()).isEqualTo(431);
    assertThat(good.status()).isEqualTo(200);
    assertThat(backend.requestLines).containsExactly("GET /after HTTP/1.1");
  }

  @Test
  void aRequestWithoutAuthorityOrHostGoesOnWithTheListenersAddressAsHost() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    // RFC 9113 §8.3.1 lets a request carry no authority; HTTP/1.1 needs a Host, so the listener's is sent
    assertThat(answer(client.send(new io.netty.handler.codec.http2.DefaultHttp2Headers(false)
        .method("GET").path("/no-authority").scheme("http"), List.of(), true)).status()).isEqualTo(200);

    assertThat(backend.requests.getFirst().header("host"))
        .isEqualTo(lb.address().getAddress().getHostAddress() + ":" + lb.address().getPort());
  }

  @Test
  void sameHostAsAuthorityIsForwardedOnce() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    H2Client client = client(lb);

    assertThat(answer(client.send(H2Client.headers("GET", "/h").add("host", "lb.test"), List.of(), true)).status())
        .isEqualTo(200);

    assertThat(backend.requests.getFirst().count("host")).isEqualTo(1);
  }

  @Test
  void announcesMaxConcurrentStreams() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = start(balancer(new ManualScheduler()).http2MaxConcurrentStreams(7).backend("web", backend.address()));
    H2Client client = client(lb);

    assertThat(answer(client.get("/x")).status()).isEqualTo(200);
    assertThat(client.maxConcurrentStreams()).isEqualTo(7);
  }

  @Test
  void detectsPrefaceArrivingOneByteAtATime() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    try (Socket socket = new Socket(lb.address().getAddress(), lb.address().getPort())) {
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      for (byte b : "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII)) {
        out.write(b);
        out.flush();
      }
      // an empty SETTINGS frame (RFC 9113 §6.5): length 0, type 4, flags 0, stream 0
      out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
      out.flush();
      byte[] frameHead = socket.getInputStream().readNBytes(9);
      // the server's connection preface is a SETTINGS frame (§3.4)
      assertThat(frameHead).hasSize(9);
      assertThat(frameHead[3]).isEqualTo((byte) 4);
    }
  }

  @Test
  void closesAConnectionWhoseHeaderBlockIsNotFinishedWithinTheRequestHeaderTimeout() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = start(balancer(new ManualScheduler()).requestHeaderTimeout(Duration.ofMillis(300))
        .clientIdleTimeout(Duration.ofMinutes(5)).backend("web", backend.address()));
    try (Socket socket = new Socket(lb.address().getAddress(), lb.address().getPort())) {
      socket.setSoTimeout(10_000);
      java.io.OutputStream out = socket.getOutputStream();
      out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // SETTINGS, empty (RFC 9113 §6.5)
      // HEADERS on stream 1 without END_HEADERS: ":method: GET" (HPACK static index 2), more to follow
      out.write(new byte[] {0, 0, 1, 1, 0, 0, 0, 0, 1, (byte) 0x82});
      // a CONTINUATION that does not end the block either: bytes keep coming, slowly
      out.write(new byte[] {0, 0, 1, 9, 0, 0, 0, 0, 1, (byte) 0x84});
      out.flush();
      InputStream in = socket.getInputStream();
      // the server's SETTINGS and its ACK may come first; then the connection closes
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      int read = 0;
      while (read != -1 && System.nanoTime() < deadline) {
        read = in.read();
      }
      assertThat(read).as("closed before the 5 minute idle timeout").isEqualTo(-1);
    }
  }

  @Test
  void closesIncompletePrefaceAfterRequestHeaderTimeout() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = start(balancer(new ManualScheduler()).requestHeaderTimeout(Duration.ofMillis(300))
        .backend("web", backend.address()));
    try (Socket socket = new Socket(lb.address().getAddress(), lb.address().getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write("PRI * HTTP/2.0\r\n".getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      // closed without a byte: neither an HTTP/1.1 answer nor an HTTP/2 preface
      assertThat(in.read()).isEqualTo(-1);
    }
  }

  @Test
  void servesHttp11ClientsAskingForH2cUpgradeOverHttp11() throws Exception {
    RecordingBackend backend = closeLater(RecordingBackend.start());
    LoadBalancer lb = recording(backend);
    // the JDK client asks for h2c by Upgrade (RFC 7540 §3.2), which RFC 9113 deprecates: HTTP/1.1 it stays
    HttpClient http2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();

    HttpResponse<String> response = http2.send(HttpRequest.newBuilder(Fixtures.uri(lb.address(), "/up"))
        .timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(backend.requests.getFirst().header("upgrade")).isNull();
    assertThat(backend.requests.getFirst().header("http2-settings")).isNull();
  }

  @Test
  void logsHttp2InTheAccessLog() throws Exception {
    ch.qos.logback.classic.Logger access =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.scalestack.balancer.access");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    access.addAppender(lines);
    ch.qos.logback.classic.Level level = access.getLevel();
    access.setLevel(ch.qos.logback.classic.Level.INFO);
    try {
      RecordingBackend backend = closeLater(RecordingBackend.start());
      LoadBalancer lb = recording(backend);
      assertThat(answer(client(lb).get("/logged")).status()).isEqualTo(200);
      await().atMost(WAIT).until(() -> !lines.list.isEmpty());
    } finally {
      access.detachAppender(lines);
      access.setLevel(level);
    }
    assertThat(lines.list.getFirst().getFormattedMessage())
        .matches("client=127\\.0\\.0\\.1:\\d+ method=GET uri=/logged status=200 backend=web .* protocol=HTTP/2\\.0");
  }
}
