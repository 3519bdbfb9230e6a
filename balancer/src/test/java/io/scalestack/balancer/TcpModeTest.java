package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.anyPort;
import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class TcpModeTest {

  /** A TCP-mode balancer on free ports with TCP health checks run by hand. */
  static LoadBalancer.Builder tcpBalancer(ManualScheduler scheduler) {
    return LoadBalancer.builder()
        .mode(Mode.TCP)
        .listen(anyPort())
        .adminListen(anyPort())
        .ioThreads(2)
        .healthCheck(HealthCheck.builder().type(HealthCheck.Type.TCP).timeout(Duration.ofMillis(500)).build())
        .healthCheckScheduler(scheduler);
  }

  static Socket connect(InetSocketAddress address) throws IOException {
    Socket socket = new Socket(address.getAddress(), address.getPort());
    socket.setSoTimeout(15_000);
    return socket;
  }

  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    for (int b; (b = in.read()) != '\n'; ) {
      if (b < 0) {
        throw new IOException("end of stream after '" + line + "'");
      }
      line.write(b);
    }
    return line.toString(StandardCharsets.US_ASCII);
  }

  static boolean refuses(InetSocketAddress address) {
    try (Socket probe = new Socket(address.getAddress(), address.getPort())) {
      return false;
    } catch (ConnectException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static byte[] readAll(InputStream in) throws IOException {
    return in.readAllBytes();
  }

  @Test
  void relaysALargeTransferBothWaysToASlowReader() throws Exception {
    try (TcpBackend echo = TcpBackend.echo("a")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("a", echo.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        byte[] data = new byte[8 * 1024 * 1024];
        new Random(42).nextBytes(data);
        try (Socket socket = connect(lb.address())) {
          CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try {
              OutputStream out = socket.getOutputStream();
              for (int off = 0; off < data.length; off += 64 * 1024) {
                out.write(data, off, Math.min(64 * 1024, data.length - off));
              }
              // half-close: the echo backend ends its side once it has echoed everything
              socket.shutdownOutput();
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          });
          // a slow reader: small reads, so the echo backs up through the proxy onto the writer
          MessageDigest digest = MessageDigest.getInstance("SHA-256");
          InputStream in = socket.getInputStream();
          byte[] small = new byte[509];
          long total = 0;
          for (int n; (n = in.read(small)) >= 0; ) {
            digest.update(small, 0, n);
            total += n;
          }
          writer.get(30, TimeUnit.SECONDS);
          assertThat(total).isEqualTo(data.length);
          assertThat(digest.digest()).isEqualTo(sha256(data));
        }
      }
    }
  }

  @Test
  void stopsReadingTheClientWhileTheBackendDoesNotRead() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicLong received = new AtomicLong();
    try (TcpBackend stalled = TcpBackend.start("a", (socket, backend) -> {
      InputStream in = socket.getInputStream();
      int first = in.read();
      if (first < 0) {
        return;
      }
      received.incrementAndGet();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) >= 0; ) {
        received.addAndGet(n);
      }
    })) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("a", stalled.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        long budget = 512L * 1024 * 1024;
        long written = 0;
        boolean stalledWrite = false;
        try (SocketChannel client = SocketChannel.open(lb.address()); Selector selector = Selector.open()) {
          client.configureBlocking(false);
          client.register(selector, SelectionKey.OP_WRITE);
          ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
          while (written < budget) {
            if (selector.select(2_000) == 0) {
              // two seconds without room to write: the proxy stopped reading us
              stalledWrite = true;
              break;
            }
            selector.selectedKeys().clear();
            chunk.clear();
            written += client.write(chunk);
          }
          assertThat(stalledWrite).as("the client's writes block instead of the proxy buffering %d bytes", written)
              .isTrue();
          // socket buffers on three hops and the proxy's bounded queue, nowhere near the budget
          assertThat(written).isLessThan(128L * 1024 * 1024);

          release.countDown();
          long sent = written;
          await().atMost(Duration.ofSeconds(20)).until(() -> received.get() == sent);
        }
      }
    }
  }

  @Test
  void passesAHalfCloseOnEitherWayAndKeepsTheOtherDirection() throws Exception {
    AtomicReference<String> afterBanner = new AtomicReference<>();
    try (TcpBackend backend = TcpBackend.start("a", (socket, b) -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      int first = in.read();
      if (first < 0) {
        return;
      }
      if (first == 'C') {
        // client-first: read to the client's FIN, then answer and close
        byte[] rest = in.readAllBytes();
        out.write(("got " + (rest.length + 1) + " bytes\n").getBytes(StandardCharsets.US_ASCII));
        return;
      }
      // backend-first: send a banner and FIN, then keep reading what the client still sends
      out.write("banner\n".getBytes(StandardCharsets.US_ASCII));
      socket.shutdownOutput();
      afterBanner.set(new String(in.readAllBytes(), StandardCharsets.US_ASCII));
    })) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);

        try (Socket socket = connect(lb.address())) {
          socket.getOutputStream().write("Client sends, then FIN".getBytes(StandardCharsets.US_ASCII));
          socket.shutdownOutput();
          assertThat(new String(readAll(socket.getInputStream()), StandardCharsets.US_ASCII))
              .isEqualTo("got 22 bytes\n");
        }

        try (Socket socket = connect(lb.address())) {
          socket.getOutputStream().write('B');
          assertThat(new String(readAll(socket.getInputStream()), StandardCharsets.US_ASCII))
              .as("the backend's FIN reaches the client").isEqualTo("banner\n");
          socket.getOutputStream().write("still talking".getBytes(StandardCharsets.US_ASCII));
          socket.shutdownOutput();
          await().atMost(Duration.ofSeconds(10)).until(() -> afterBanner.get() != null);
          assertThat(afterBanner.get()).isEqualTo("still talking");
        }
      }
    }
  }

  @Test
  void aConnectFailureGoesToAnotherBackend() throws Exception {
    try (TcpBackend live = TcpBackend.named("live")) {
      ServerSocket doomed = new ServerSocket(0, 16, Fixtures.LOOPBACK);
      InetSocketAddress deadAddress = new InetSocketAddress(Fixtures.LOOPBACK, doomed.getLocalPort());
      Thread.ofVirtual().start(() -> {
        // accepts health checks until closed
        while (!doomed.isClosed()) {
          try {
            doomed.accept().close();
          } catch (IOException e) {
            return;
          }
        }
      });
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("dead", deadAddress).backend("live", live.address())
          .build().start()) {
        awaitAllUp(lb, scheduler);
        doomed.close();
        // closing a server socket that a (virtual) thread is blocked accepting on is not immediate:
        // until the port refuses, a connect could still be accepted and then reset
        await().atMost(Duration.ofSeconds(5)).until(() -> refuses(deadAddress));

        for (int i = 0; i < 4; i++) {
          try (Socket socket = connect(lb.address())) {
            assertThat(readLine(socket.getInputStream())).isEqualTo("live");
          }
        }
        assertThat(status(lb, "dead").state()).as("taken down after its connect failed").isEqualTo(BackendState.DOWN);
        String metrics = get(lb.adminAddress(), "/metrics").body();
        assertThat(metrics).contains("scalestack_lb_tcp_connect_failures_total{backend=\"dead\"");
      }
    }
  }

  @Test
  void closesTheClientWhenNoBackendCanBeReached() throws Exception {
    ManualScheduler scheduler = new ManualScheduler();
    try (LoadBalancer lb = tcpBalancer(scheduler).build().start()) {
      try (Socket socket = connect(lb.address())) {
        assertThat(socket.getInputStream().read()).isEqualTo(-1);
      }
    }
  }

  @Test
  void roundRobinSpreadsConnections() throws Exception {
    try (TcpBackend a = TcpBackend.named("a"); TcpBackend b = TcpBackend.named("b"); TcpBackend c = TcpBackend.named("c")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("a", a.address()).backend("b", b.address())
          .backend("c", c.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        Map<String, Integer> counts = new HashMap<>();
        List<Socket> open = new ArrayList<>();
        try {
          for (int i = 0; i < 6; i++) {
            Socket socket = connect(lb.address());
            open.add(socket);
            String name = readLine(socket.getInputStream());
            socket.getOutputStream().write("ping\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(socket.getInputStream())).isEqualTo("ping");
            counts.merge(name, 1, Integer::sum);
          }
        } finally {
          for (Socket s : open) {
            s.close();
          }
        }
        assertThat(counts).containsOnly(Map.entry("a", 2), Map.entry("b", 2), Map.entry("c", 2));
        String metrics = get(lb.adminAddress(), "/metrics").body();
        assertThat(metrics).contains("scalestack_lb_tcp_connections_total{backend=\"a\"")
            .contains("scalestack_lb_tcp_received_bytes_total{backend=\"b\"")
            .contains("scalestack_lb_tcp_sent_bytes_total{backend=\"c\"")
            .contains("scalestack_lb_tcp_connections_active{backend=\"a\"");
        await().atMost(Duration.ofSeconds(10)).until(() -> lb.backends().stream().allMatch(s -> s.inFlight() == 0));
      }
    }
  }

  @Test
  void leastConnectionsCountsOpenConnections() throws Exception {
    try (TcpBackend a = TcpBackend.named("a"); TcpBackend b = TcpBackend.named("b")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).algorithm(Algorithm.LEAST_CONNECTIONS)
          .backend("a", a.address()).backend("b", b.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (Socket first = connect(lb.address())) {
          String busy = readLine(first.getInputStream());
          for (int i = 0; i < 3; i++) {
            try (Socket next = connect(lb.address())) {
              assertThat(readLine(next.getInputStream())).as("the backend without an open connection").isNotEqualTo(busy);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> lb.backends().stream().mapToInt(BackendStatus::inFlight).sum() == 1);
          }
        }
      }
    }
  }

  @Test
  void aDrainedBackendGetsNoNewConnectionsWhileItsOpenOneGoesOn() throws Exception {
    try (TcpBackend a = TcpBackend.named("a"); TcpBackend b = TcpBackend.named("b")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("a", a.address()).backend("b", b.address())
          .build().start()) {
        awaitAllUp(lb, scheduler);
        Socket onA = null;
        List<Socket> others = new ArrayList<>();
        try {
          while (onA == null) {
            Socket s = connect(lb.address());
            if (readLine(s.getInputStream()).equals("a")) {
              onA = s;
            } else {
              others.add(s);
            }
          }
          // through the admin API, as an operator would
          assertThat(Fixtures.send(java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb.adminAddress(), "/backends/a/drain"))
              .POST(java.net.http.HttpRequest.BodyPublishers.noBody())).statusCode()).isEqualTo(200);
          for (int i = 0; i < 4; i++) {
            try (Socket s = connect(lb.address())) {
              assertThat(readLine(s.getInputStream())).isEqualTo("b");
            }
          }
          onA.getOutputStream().write("still here\n".getBytes(StandardCharsets.US_ASCII));
          assertThat(readLine(onA.getInputStream())).isEqualTo("still here");
          assertThat(status(lb, "a").inFlight()).isEqualTo(1);
        } finally {
          if (onA != null) {
            onA.close();
          }
          for (Socket s : others) {
            s.close();
          }
        }
      }
    }
  }

  @Test
  void backendsAddedAndRemovedThroughTheAdminApiGetAndLoseConnections() throws Exception {
    try (TcpBackend a = TcpBackend.named("a"); TcpBackend b = TcpBackend.named("b")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("a", a.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        var added = Fixtures.send(java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb.adminAddress(), "/backends/b"))
            .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(
                "{\"address\":\"127.0.0.1:" + b.address().getPort() + "\"}")));
        assertThat(added.statusCode()).isEqualTo(201);
        awaitAllUp(lb, scheduler);
        Map<String, Integer> counts = new HashMap<>();
        for (int i = 0; i < 4; i++) {
          try (Socket s = connect(lb.address())) {
            counts.merge(readLine(s.getInputStream()), 1, Integer::sum);
          }
        }
        assertThat(counts).containsOnly(Map.entry("a", 2), Map.entry("b", 2));

        var removed = Fixtures.send(java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb.adminAddress(), "/backends/a"))
            .DELETE());
        assertThat(removed.statusCode()).isEqualTo(204);
        for (int i = 0; i < 3; i++) {
          try (Socket s = connect(lb.address())) {
            assertThat(readLine(s.getInputStream())).isEqualTo("b");
          }
        }
      }
    }
  }

  @Test
  void aPoolHealthCheckPutThroughTheAdminApiChecksTcpByDefault() throws Exception {
    // the backend speaks no HTTP: an HTTP check of it fails, a TCP check passes
    try (TcpBackend a = TcpBackend.named("a")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).backend("a", a.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        var put = Fixtures.send(java.net.http.HttpRequest.newBuilder(Fixtures.uri(lb.adminAddress(), "/pools/default"))
            .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(
                "{\"healthCheck\":{\"intervalMillis\":2000,\"timeoutMillis\":500,\"rise\":1,\"fall\":1}}")));
        assertThat(put.statusCode()).isEqualTo(200);
        assertThat(get(lb.adminAddress(), "/pools/default").body()).as("as in lb.yaml: tcp in tcp mode")
            .contains("\"type\":\"tcp\"");
        for (int i = 0; i < 3; i++) {
          Fixtures.checkRound(scheduler, 1);
        }
        assertThat(status(lb, "a").state()).isEqualTo(BackendState.UP);
        try (Socket s = connect(lb.address())) {
          assertThat(readLine(s.getInputStream())).isEqualTo("a");
        }
      }
    }
  }

  @Test
  void sourceHashAndSourceStickinessKeepOneClientOnOneBackend() throws Exception {
    try (TcpBackend a = TcpBackend.named("a"); TcpBackend b = TcpBackend.named("b"); TcpBackend c = TcpBackend.named("c")) {
      for (Pool pool : List.of(Pool.builder(Pool.DEFAULT).algorithm(Algorithm.SOURCE_HASH).build(),
          Pool.builder(Pool.DEFAULT).sticky(Sticky.sourceIp()).build())) {
        ManualScheduler scheduler = new ManualScheduler();
        try (LoadBalancer lb = tcpBalancer(scheduler).pool(pool)
            .backend("a", a.address()).backend("b", b.address()).backend("c", c.address()).build().start()) {
          awaitAllUp(lb, scheduler);
          // every connection comes from 127.0.0.1: one backend for all of them, not one each in turn
          List<String> seen = new ArrayList<>();
          for (int i = 0; i < 7; i++) {
            try (Socket s = connect(lb.address())) {
              seen.add(readLine(s.getInputStream()));
            }
          }
          assertThat(seen).as(pool.toString()).containsOnly(seen.getFirst());
        }
      }
    }
  }

  @Test
  void aClientThatResetsWhileTheBackendDoesNotReadDoesNotLeaveTheTunnelOpen() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    try (TcpBackend stalled = TcpBackend.start("a", (socket, backend) -> {
      if (socket.getInputStream().read() < 0) {
        return;
      }
      try {
        done.await(); // reads nothing more
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    })) {
      ManualScheduler scheduler = new ManualScheduler();
      // longer than the client's wait below for the proxy to stop reading it
      try (LoadBalancer lb = tcpBalancer(scheduler).clientIdleTimeout(Duration.ofSeconds(3))
          .backend("a", stalled.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (SocketChannel client = SocketChannel.open(lb.address()); Selector selector = Selector.open()) {
          client.configureBlocking(false);
          client.register(selector, SelectionKey.OP_WRITE);
          ByteBuffer chunk = ByteBuffer.allocate(64 * 1024);
          // fill every buffer on the way until the proxy stops reading the client
          while (selector.select(1_000) > 0) {
            selector.selectedKeys().clear();
            chunk.clear();
            client.write(chunk);
          }
          assertThat(status(lb, "a").inFlight()).isEqualTo(1);
          // an abort: RST, which the proxy sees although it is not reading
          client.socket().setSoLinger(true, 0);
        }
        // the backend side still holds unflushed bytes it will never take: it must not wait for them forever
        await().atMost(Duration.ofSeconds(15)).until(() -> status(lb, "a").inFlight() == 0);
        assertThat(get(lb.adminAddress(), "/metrics").body())
            .contains("scalestack_lb_tcp_connections_active{backend=\"a\",member=\"lb\"} 0.0");
      } finally {
        done.countDown();
      }
    }
  }

  @Test
  void closesAConnectionIdleForTheClientIdleTimeout() throws Exception {
    try (TcpBackend a = TcpBackend.echo("a")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).clientIdleTimeout(Duration.ofMillis(300))
          .backend("a", a.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (Socket socket = connect(lb.address())) {
          socket.getOutputStream().write("x".getBytes(StandardCharsets.US_ASCII));
          assertThat(socket.getInputStream().read()).isEqualTo('x');
          assertThat(socket.getInputStream().read()).as("closed once idle").isEqualTo(-1);
        }
      }
    }
  }

  @Test
  void closeStopsAcceptingAndLetsOpenConnectionsFinish() throws Exception {
    try (TcpBackend a = TcpBackend.echo("a")) {
      ManualScheduler scheduler = new ManualScheduler();
      LoadBalancer lb = tcpBalancer(scheduler).shutdownTimeout(Duration.ofSeconds(30))
          .backend("a", a.address()).build().start();
      awaitAllUp(lb, scheduler);
      InetSocketAddress address = lb.address();
      CompletableFuture<Void> closed;
      try (Socket socket = connect(address)) {
        socket.getOutputStream().write('1');
        assertThat(socket.getInputStream().read()).isEqualTo('1');
        closed = CompletableFuture.runAsync(lb::close);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThatThrownBy(() -> new Socket(address.getAddress(), address.getPort()).close())
                .isInstanceOf(ConnectException.class));
        assertThat(closed).isNotDone();
        socket.getOutputStream().write('2');
        assertThat(socket.getInputStream().read()).as("the open connection goes on").isEqualTo('2');
      }
      closed.get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void tcpModeRefusesWhatNeedsHttp() {
    assertThatThrownBy(() -> LoadBalancer.builder().mode(Mode.TCP).route(Route.to(Pool.DEFAULT).pathPrefix("/a").build())
        .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("routes: 1 (expected: none in tcp mode");
    assertThatThrownBy(() -> LoadBalancer.builder().mode(Mode.TCP)
        .pool(Pool.builder(Pool.DEFAULT).algorithm(Algorithm.HASH).hashKey(HashKey.parse("header:X-User")).build())
        .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("algorithm: hash with hashKey header:X-User (expected in tcp mode:");
    assertThatThrownBy(() -> LoadBalancer.builder().mode(Mode.TCP)
        .pool(Pool.builder(Pool.DEFAULT).sticky(Sticky.insertCookie("SRV")).build())
        .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("(expected in tcp mode: source or none");
    assertThatThrownBy(() -> LoadBalancer.builder()
        .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(ProxyProtocol.V1).build())
        .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sendProxyProtocol: v1 (expected: only with mode tcp");
  }

  private static byte[] sha256(byte[] data) throws NoSuchAlgorithmException {
    return MessageDigest.getInstance("SHA-256").digest(data);
  }
}
