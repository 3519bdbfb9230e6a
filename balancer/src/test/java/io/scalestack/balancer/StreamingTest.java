package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bodies stream through the balancer in both directions, and a side that does not read slows the
 * other down instead of filling the balancer's memory.
 */
class StreamingTest {

  private static final int BIG = 128 * 1024 * 1024;
  // far below BIG, far above what socket buffers and the balancer's water marks can hold
  private static final long BUFFERED_AT_MOST = 40L * 1024 * 1024;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private ScriptedBackend backend;
  private LoadBalancer lb;

  @BeforeEach
  void start() throws Exception {
    backend = ScriptedBackend.start();
    resources.add(backend);
    ManualScheduler scheduler = new ManualScheduler();
    lb = balancer(scheduler).maxContentLengthBytes(256 * 1024 * 1024).backend("web", backend.address()).build().start();
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
  void aRequestBodyReachesTheBackendBeforeTheClientFinishedSendingIt() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello");
      ScriptedBackend.Connection connection = backend.next();
      assertThat(connection.requestLine()).isEqualTo("POST /up HTTP/1.1");
      // the first half arrives while the client still holds the second
      assertThat(new String(connection.in().readNBytes(5))).isEqualTo("hello");
      client.send("world");
      assertThat(new String(connection.in().readNBytes(5))).isEqualTo("world");
      connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      assertThat(client.read().body()).isEqualTo("ok");
    }
  }

  @Test
  void aChunkedRequestBodyStreamsChunkByChunk() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      ScriptedBackend.Connection connection = backend.next();
      assertThat(connection.headers()).contains("transfer-encoding: chunked");
      assertThat(ScriptedBackend.readLine(connection.in())).isEqualTo("5");
      assertThat(new String(connection.in().readNBytes(7))).isEqualTo("hello\r\n");
      client.send("0\r\n\r\n");
      assertThat(ScriptedBackend.readLine(connection.in())).isEqualTo("0");
      assertThat(ScriptedBackend.readLine(connection.in())).isEmpty();
      connection.write("HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(201);
    }
  }

  @Test
  void aResponseBodyReachesTheClientBeforeTheBackendFinishedSendingIt() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /down HTTP/1.1\r\nHost: x\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      connection.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
      RawClient.Response head = client.readHeadOnly();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.header("content-length")).isEqualTo("10");
      assertThat(client.readBytes(5)).isEqualTo("hello");
      connection.write("world");
      assertThat(client.readBytes(5)).isEqualTo("world");
    }
  }

  @Test
  void aClientThatStopsReadingStopsTheBackendInsteadOfFillingMemory() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      AtomicLong written = new AtomicLong();
      Thread writer = Thread.ofVirtual().start(() -> {
        try {
          connection.write("HTTP/1.1 200 OK\r\nContent-Length: " + BIG + "\r\n\r\n");
          pump(connection.out(), BIG, written);
        } catch (IOException e) {
          // the test ends by closing the connections
        }
      });

      awaitStalled(written);
      assertThat(written.get()).as("bytes the backend got rid of while the client read nothing").isLessThan(BUFFERED_AT_MOST);

      RawClient.Response head = client.readHeadOnly();
      assertThat(head.status()).isEqualTo(200);
      assertThat(drain(client.input(), BIG)).isEqualTo(BIG);
      writer.join();
    }
  }

  @Test
  void aBackendThatStopsReadingStopsTheClientInsteadOfFillingMemory() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: " + BIG + "\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      AtomicLong written = new AtomicLong();
      Thread writer = Thread.ofVirtual().start(() -> {
        try {
          pump(client.output(), BIG, written);
        } catch (IOException e) {
          // the test ends by closing the connections
        }
      });

      awaitStalled(written);
      assertThat(written.get()).as("bytes the client got rid of while the backend read nothing").isLessThan(BUFFERED_AT_MOST);

      assertThat(drain(connection.in(), BIG)).isEqualTo(BIG);
      writer.join();
      connection.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
      assertThat(client.read().status()).isEqualTo(200);
    }
  }

  @Test
  void aResponseThatBreaksOffAfterItsHeadClosesTheClientConnection() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /partial HTTP/1.1\r\nHost: x\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      connection.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello");
      RawClient.Response head = client.readHeadOnly();
      assertThat(head.status()).isEqualTo(200);
      assertThat(client.readBytes(5)).isEqualTo("hello");
      connection.socket().close();
      // the only honest way to say "the rest is not coming": the client sees the connection end early
      assertThat(client.closedByPeer()).isTrue();
    }
  }

  @Test
  void aResponseWithAControlCharacterInAFieldValueIsRefused() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /split HTTP/1.1\r\nHost: x\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      connection.write("HTTP/1.1 200 OK\r\nX-Split: a\rSet-Cookie: evil=1\r\nContent-Length: 2\r\n\r\nok");
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(502);
      assertThat(response.header("set-cookie")).isNull();
    }
  }

  @Test
  void anEarlyResponseEndsTheRequestAndTheConnection() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("POST /too-much HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(100));
      ScriptedBackend.Connection connection = backend.next();
      // RFC 9112 §9.6: a server may answer before the body is complete, then close
      connection.write("HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      connection.socket().close();
      RawClient.Response response = client.read();
      assertThat(response.status()).isEqualTo(413);
      assertThat(response.header("connection")).isEqualTo("close");
      client.send("x".repeat(900));
      assertThat(client.closedByPeer()).isTrue();
    }
  }

  @Test
  void aWebSocketUpgradeBecomesATunnelOfRawBytes() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /chat HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n"
          + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      assertThat(connection.requestLine()).isEqualTo("GET /chat HTTP/1.1");
      assertThat(connection.headers()).contains("upgrade: websocket", "connection: upgrade",
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==");
      connection.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\nfirst-from-backend");

      RawClient.Response head = client.readHeadOnly();
      assertThat(head.status()).isEqualTo(101);
      assertThat(head.header("upgrade")).isEqualTo("websocket");
      assertThat(head.header("connection")).isEqualToIgnoringCase("upgrade");
      assertThat(client.readBytes(18)).isEqualTo("first-from-backend");

      // not HTTP any more: bytes go through untouched, both ways
      client.send("\u0081\u0004ping\r\n\r\n");
      assertThat(new String(connection.in().readNBytes(10), java.nio.charset.StandardCharsets.ISO_8859_1))
          .isEqualTo("\u0081\u0004ping\r\n\r\n");
      connection.write("\u0081\u0004pong");
      assertThat(client.readBytes(6)).isEqualTo("\u0081\u0004pong");

      connection.socket().close();
      assertThat(client.closedByPeer()).isTrue();
    }
  }

  @Test
  void aTunnelWhoseClientResetsIsClosedEvenIfTheBackendNeverReadsAgain() throws Exception {
    ManualScheduler scheduler = new ManualScheduler();
    try (LoadBalancer tunnels = balancer(scheduler).clientIdleTimeout(java.time.Duration.ofMillis(500))
        .backend("web", backend.address()).build().start()) {
      awaitAllUp(tunnels, scheduler);
      RawClient client = new RawClient(tunnels.address());
      client.send("GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      connection.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      assertThat(client.readHeadOnly().status()).isEqualTo(101);
      assertThat(status(tunnels, "web").activeConnections()).isEqualTo(1);

      // the backend reads nothing more: fill its socket and the balancer's buffer towards it
      byte[] chunk = new byte[64 * 1024];
      java.util.concurrent.ExecutorService writer = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
      java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.Future<?> filling = writer.submit(() -> {
        for (int i = 0; i < 1024; i++) {
          client.socket().getOutputStream().write(chunk); // blocks once every buffer on the way is full
          written.addAndGet(chunk.length);
        }
        return null;
      });
      long[] last = {-1};
      await().atMost(java.time.Duration.ofSeconds(10)).pollInterval(java.time.Duration.ofMillis(300)).until(() -> {
        long now = written.get();
        boolean stalled = now > 0 && now == last[0];
        last[0] = now;
        return stalled;
      });
      assertThat(filling).isNotDone();
      // then the client resets: what is queued for the backend can never be delivered
      client.socket().setSoLinger(true, 0);
      client.socket().close();
      writer.shutdownNow();

      // the backend connection closes after the fin timeout (the client idle timeout), not never
      await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> status(tunnels, "web").activeConnections() == 0);
    }
  }

  @Test
  void aRefusedUpgradeLeavesAnOrdinaryKeptAliveConnection() throws Exception {
    try (RawClient client = new RawClient(lb.address())) {
      client.send("GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
      ScriptedBackend.Connection connection = backend.next();
      connection.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno");
      RawClient.Response refused = client.read();
      assertThat(refused.status()).isEqualTo(403);
      assertThat(refused.body()).isEqualTo("no");

      client.send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(connection.readHead()).contains("host: x").first().isEqualTo("GET /after HTTP/1.1");
      connection.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      assertThat(client.read().body()).isEqualTo("ok");
    }
  }

  private static void pump(OutputStream out, long total, AtomicLong written) throws IOException {
    byte[] block = new byte[64 * 1024];
    Arrays.fill(block, (byte) 'x');
    while (written.get() < total) {
      int n = (int) Math.min(block.length, total - written.get());
      out.write(block, 0, n);
      written.addAndGet(n);
    }
    out.flush();
  }

  private static long drain(InputStream in, long total) throws IOException {
    byte[] buffer = new byte[256 * 1024];
    long read = 0;
    while (read < total) {
      int n = in.read(buffer, 0, (int) Math.min(buffer.length, total - read));
      if (n < 0) {
        break;
      }
      read += n;
    }
    return read;
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
}
