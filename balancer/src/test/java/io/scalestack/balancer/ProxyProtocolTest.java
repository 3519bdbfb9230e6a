package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.TcpModeTest.connect;
import static io.scalestack.balancer.TcpModeTest.readLine;
import static io.scalestack.balancer.TcpModeTest.tcpBalancer;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ProxyProtocolTest {

  private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

  /**
   * A backend that expects a PROXY protocol header (v1 or v2) first on every connection, records
   * it as received (v1 as text, v2 as hex), answers {@code ok <name>}, then echoes.
   */
  static TcpBackend headerBackend(String name, List<String> headers) throws IOException {
    return TcpBackend.start(name, (socket, backend) -> {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      int first = in.read();
      if (first < 0) {
        return; // a health check
      }
      backend.served.incrementAndGet();
      if (first == 'P') {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        line.write(first);
        for (int b; (b = in.read()) != '\n' && b >= 0; ) {
          line.write(b);
        }
        headers.add(line.toString(StandardCharsets.US_ASCII) + "\n");
      } else {
        byte[] head = new byte[16];
        head[0] = (byte) first;
        in.readFully(head, 1, 15);
        int length = ((head[14] & 0xff) << 8) | (head[15] & 0xff);
        byte[] rest = new byte[length];
        in.readFully(rest);
        headers.add(hex(head) + hex(rest));
      }
      out.write(("ok " + name + "\n").getBytes(StandardCharsets.US_ASCII));
      byte[] buf = new byte[4096];
      for (int n; (n = in.read(buf)) >= 0; ) {
        out.write(buf, 0, n);
      }
    });
  }

  static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02x", b & 0xff));
    }
    return s.toString();
  }

  /** A v2 PROXY header over TCP with the given addresses and raw TLV bytes. */
  static byte[] v2(String source, String destination, int sourcePort, int destinationPort, byte[] tlvs)
      throws IOException {
    byte[] src = InetAddress.getByName(source).getAddress();
    byte[] dst = InetAddress.getByName(destination).getAddress();
    int length = src.length * 2 + 4 + tlvs.length;
    ByteBuffer buf = ByteBuffer.allocate(16 + length);
    buf.put(V2_SIGNATURE).put((byte) 0x21).put((byte) (src.length == 4 ? 0x11 : 0x21)).putShort((short) length);
    buf.put(src).put(dst).putShort((short) sourcePort).putShort((short) destinationPort).put(tlvs);
    return buf.array();
  }

  /** A v2 LOCAL header (the proxy's own connection, such as a health check) with no addresses. */
  static byte[] v2Local() {
    return ByteBuffer.allocate(16).put(V2_SIGNATURE).put((byte) 0x20).put((byte) 0x00).putShort((short) 0).array();
  }

  /** Writes {@code bytes} in pieces of {@code piece} bytes, each flushed on its own. */
  static void writeSplit(Socket socket, byte[] bytes, int piece) throws IOException {
    socket.setTcpNoDelay(true);
    OutputStream out = socket.getOutputStream();
    for (int off = 0; off < bytes.length; off += piece) {
      out.write(bytes, off, Math.min(piece, bytes.length - off));
      out.flush();
    }
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] both = new byte[a.length + b.length];
    System.arraycopy(a, 0, both, 0, a.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** Whether the proxy closed {@code socket}: end of stream or a reset, before any byte. */
  static boolean closedByPeer(Socket socket) throws IOException {
    try {
      return socket.getInputStream().read() == -1;
    } catch (SocketException e) {
      return true; // connection reset: closed with our bytes unread
    }
  }

  /**
   * Sends {@code bytes} in pieces on a new connection, then FIN (a header cut short is malformed
   * once the client says it has nothing more); whether the proxy closed the connection unanswered.
   */
  static boolean closedAfter(LoadBalancer lb, byte[] bytes, int piece) throws IOException {
    try (Socket bad = connect(lb.address())) {
      try {
        writeSplit(bad, bytes, piece);
        bad.shutdownOutput();
      } catch (SocketException e) {
        // the proxy closed while we were still writing
        return true;
      }
      return closedByPeer(bad);
    }
  }

  @Test
  void takesAV1HeaderArrivingByteByByteAndSendsV1On() throws Exception {
    List<String> headers = new CopyOnWriteArrayList<>();
    try (TcpBackend backend = headerBackend("a", headers)) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).acceptProxyProtocol(true)
          .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(ProxyProtocol.V1).build())
          .backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (Socket socket = connect(lb.address())) {
          writeSplit(socket, ascii("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nhello\n"), 1);
          InputStream in = socket.getInputStream();
          assertThat(readLine(in)).isEqualTo("ok a");
          assertThat(readLine(in)).as("the bytes after the header go on").isEqualTo("hello");
        }
        assertThat(headers).containsExactly("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
      }
    }
  }

  @Test
  void takesAV2HeaderWithTlvsInPiecesAndSendsV2On() throws Exception {
    List<String> headers = new CopyOnWriteArrayList<>();
    try (TcpBackend backend = headerBackend("a", headers)) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).acceptProxyProtocol(true)
          .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(ProxyProtocol.V2).build())
          .backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        // a PP2_TYPE_NOOP TLV (0x04) of 5 bytes and a PP2_TYPE_AUTHORITY (0x02): parsed, dropped
        byte[] tlvs = {0x04, 0x00, 0x05, 1, 2, 3, 4, 5, 0x02, 0x00, 0x03, 'a', '.', 'b'};
        byte[] header = v2("192.0.2.1", "198.51.100.2", 56324, 443, tlvs);
        try (Socket socket = connect(lb.address())) {
          writeSplit(socket, concat(header, ascii("hello\n")), 3);
          InputStream in = socket.getInputStream();
          assertThat(readLine(in)).isEqualTo("ok a");
          assertThat(readLine(in)).isEqualTo("hello");
        }
        assertThat(headers).containsExactly(hex(v2("192.0.2.1", "198.51.100.2", 56324, 443, new byte[0])));
      }
    }
  }

  @Test
  void takesIpv6AddressesFromAV2Header() throws Exception {
    List<String> headers = new CopyOnWriteArrayList<>();
    try (TcpBackend backend = headerBackend("a", headers)) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).acceptProxyProtocol(true)
          .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(ProxyProtocol.V1).build())
          .backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (Socket socket = connect(lb.address())) {
          writeSplit(socket, v2("2001:db8::1", "2001:db8::2", 1000, 2000, new byte[0]), 7);
          assertThat(readLine(socket.getInputStream())).isEqualTo("ok a");
        }
        assertThat(headers).containsExactly("PROXY TCP6 2001:db8::1 2001:db8::2 1000 2000\r\n");
      }
    }
  }

  @Test
  void aV2LocalHeaderAndAV1UnknownKeepTheConnectionsOwnAddresses() throws Exception {
    List<String> headers = new CopyOnWriteArrayList<>();
    try (TcpBackend backend = headerBackend("a", headers)) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).acceptProxyProtocol(true)
          .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(ProxyProtocol.V1).build())
          .backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        String real;
        try (Socket socket = connect(lb.address())) {
          real = "PROXY TCP4 127.0.0.1 " + lb.address().getAddress().getHostAddress() + " " + socket.getLocalPort()
              + " " + lb.address().getPort() + "\r\n";
          writeSplit(socket, v2Local(), 16);
          assertThat(readLine(socket.getInputStream())).isEqualTo("ok a");
        }
        assertThat(headers).containsExactly(real);

        headers.clear();
        try (Socket socket = connect(lb.address())) {
          real = "PROXY TCP4 127.0.0.1 " + lb.address().getAddress().getHostAddress() + " " + socket.getLocalPort()
              + " " + lb.address().getPort() + "\r\n";
          writeSplit(socket, ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"), 64);
          assertThat(readLine(socket.getInputStream())).isEqualTo("ok a");
        }
        assertThat(headers).containsExactly(real);
      }
    }
  }

  /** Collects the WARN lines of the PROXY protocol handlers instead of printing them. */
  static ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> captureWarnings(
      List<ch.qos.logback.classic.Logger> loggers) {
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>() {
          @Override
          protected synchronized void append(ch.qos.logback.classic.spi.ILoggingEvent event) {
            super.append(event);
          }
        };
    lines.list = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    lines.start();
    for (ch.qos.logback.classic.Logger logger : loggers) {
      logger.addAppender(lines);
      logger.setAdditive(false);
    }
    return lines;
  }

  @Test
  void closesAConnectionWithAMalformedHeaderAndOnlyThatOne() throws Exception {
    List<ch.qos.logback.classic.Logger> loggers = List.of(
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.scalestack.balancer.internal.ProxyProtocolReceiver"),
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.scalestack.balancer.internal.TcpFrontendHandler"));
    var warnings = captureWarnings(loggers);
    try {
      rejectMalformedHeaders(warnings);
    } finally {
      for (ch.qos.logback.classic.Logger logger : loggers) {
        logger.detachAppender(warnings);
        logger.setAdditive(true);
      }
    }
  }

  private void rejectMalformedHeaders(
      ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> warnings) throws Exception {
    List<String> headers = new CopyOnWriteArrayList<>();
    try (TcpBackend backend = headerBackend("a", headers)) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).acceptProxyProtocol(true)
          .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(ProxyProtocol.V1).build())
          .backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (Socket good = connect(lb.address())) {
          writeSplit(good, ascii("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n"), 64);
          assertThat(readLine(good.getInputStream())).isEqualTo("ok a");

          byte[] goodV2 = v2("192.0.2.1", "198.51.100.2", 1, 2, new byte[0]);
          byte[] badVersion = goodV2.clone();
          badVersion[12] = 0x31; // version 3
          byte[] badCommand = goodV2.clone();
          badCommand[12] = 0x2F; // command 15
          byte[] shortAddresses = goodV2.clone();
          shortAddresses[15] = 4; // TCP over IPv4 needs 12 bytes of addresses
          byte[] hugeTlvs = goodV2.clone();
          hugeTlvs[14] = (byte) 0xff; // 65535 bytes follow: past the TLV bound
          hugeTlvs[15] = (byte) 0xff;
          int rejected = 0;
          List<byte[]> malformed = List.of(
              ascii("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
              ascii("PROXY TCP4 192.0.2.999 198.51.100.2 1 2\r\n"),
              ascii("PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n"),
              ascii("PROXY TCP4 192.0.2.1 198.51.100.2 70000 2\r\n"),
              ascii("PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n"),
              ascii("PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n"),
              ascii("PROXY TCP4 " + "1".repeat(120) + "\r\n"),
              ascii("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\n"),
              ascii("PROXY"),
              badVersion, badCommand, shortAddresses, hugeTlvs);
          for (byte[] bytes : malformed) {
            assertThat(closedAfter(lb, bytes, 5)).as("closed after %s", new String(bytes, StandardCharsets.ISO_8859_1))
                .isTrue();
            int expected = ++rejected;
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> warnings.list.size() >= expected);
            assertThat(warnings.list).as("one line per rejected connection").hasSize(expected);
          }

          Random random = new Random(7);
          for (int i = 0; i < 100; i++) {
            byte[] garbage = new byte[16 + random.nextInt(300)];
            random.nextBytes(garbage);
            if (i % 2 == 0) {
              // half of them start like a real header
              System.arraycopy(i % 4 == 0 ? V2_SIGNATURE : ascii("PROXY TCP4 "), 0, garbage, 0, i % 4 == 0 ? 12 : 11);
            }
            assertThat(closedAfter(lb, garbage, 1 + random.nextInt(40))).as("closed after garbage %d", i).isTrue();
            int expected = ++rejected;
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                .until(() -> warnings.list.size() >= expected);
            assertThat(warnings.list).as("one line per rejected connection").hasSize(expected);
          }

          assertThat(warnings.list.getFirst().getFormattedMessage())
              .matches("closing 127\\.0\\.0\\.1:\\d+: malformed PROXY protocol header: .+");
          // the good connection is unaffected, and nothing malformed reached the backend
          good.getOutputStream().write(ascii("still here\n"));
          assertThat(readLine(good.getInputStream())).isEqualTo("still here");
          assertThat(headers).containsExactly("PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n");
        }
        try (Socket next = connect(lb.address())) {
          writeSplit(next, ascii("PROXY TCP4 192.0.2.3 198.51.100.2 1 2\r\n"), 64);
          assertThat(readLine(next.getInputStream())).isEqualTo("ok a");
        }
      }
    }
  }

  @Test
  void theAccessLogHasOneLinePerConnectionWithTheHeaderSource() throws Exception {
    ch.qos.logback.classic.Logger access =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.scalestack.balancer.access");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    access.addAppender(lines);
    ch.qos.logback.classic.Level level = access.getLevel();
    access.setLevel(ch.qos.logback.classic.Level.INFO);
    List<String> headers = new CopyOnWriteArrayList<>();
    try (TcpBackend backend = headerBackend("a", headers)) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).acceptProxyProtocol(true)
          .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(ProxyProtocol.V2).build())
          .backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (Socket socket = connect(lb.address())) {
          writeSplit(socket, ascii("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nhello\n"), 64);
          InputStream in = socket.getInputStream();
          assertThat(readLine(in)).isEqualTo("ok a");
          assertThat(readLine(in)).isEqualTo("hello");
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> !lines.list.isEmpty());
      }
    } finally {
      access.detachAppender(lines);
      access.setLevel(level);
    }
    // bytes_in: "hello\n" (the PROXY header is the balancer's, not relayed); bytes_out: "ok a\n" + "hello\n"
    assertThat(lines.list).extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
        .satisfiesExactly(line -> assertThat(line).matches(
            "client=192\\.0\\.2\\.1:56324 mode=tcp backend=a bytes_in=6 bytes_out=11 duration_ms=\\d+\\.\\d\\d"));
  }

  @Test
  void sourceHashUsesTheAddressFromTheHeader() throws Exception {
    try (TcpBackend a = TcpBackend.named("a"); TcpBackend b = TcpBackend.named("b"); TcpBackend c = TcpBackend.named("c")) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = tcpBalancer(scheduler).acceptProxyProtocol(true).algorithm(Algorithm.SOURCE_HASH)
          .backend("a", a.address()).backend("b", b.address()).backend("c", c.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        Map<String, String> placed = new HashMap<>();
        Set<String> used = new HashSet<>();
        for (int round = 0; round < 2; round++) {
          // 25 sources, not a multiple of 3: a round robin would put a source elsewhere in round 2
          for (int i = 1; i <= 25; i++) {
            String source = "198.51.100." + i;
            try (Socket socket = connect(lb.address())) {
              writeSplit(socket, ascii("PROXY TCP4 " + source + " 192.0.2.1 4000 443\r\n"), 64);
              String name = readLine(socket.getInputStream());
              used.add(name);
              String before = placed.putIfAbsent(source, name);
              assertThat(before == null ? name : before).as("source %s stays on one backend", source).isEqualTo(name);
            }
          }
        }
        assertThat(used).as("different sources spread").hasSizeGreaterThan(1);
      }
    }
  }

  @Test
  void httpModePutsTheHeaderSourceInForwardedFields() throws Exception {
    try (RecordingBackend backend = RecordingBackend.start()) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = Fixtures.balancer(scheduler).acceptProxyProtocol(true)
          .backend("a", backend.address()).build().start()) {
        awaitAllUp(lb, scheduler);
        try (Socket socket = connect(lb.address())) {
          writeSplit(socket, concat(v2("203.0.113.7", "192.0.2.10", 40000, 80, new byte[0]),
              ascii("GET /x HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n")), 9);
          String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
          assertThat(response).startsWith("HTTP/1.1 200");
        }
        try (Socket socket = connect(lb.address())) {
          writeSplit(socket, ascii("GET /y HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n"), 64);
          assertThat(closedByPeer(socket)).as("no PROXY header: closed").isTrue();
        }
        assertThat(backend.requests).hasSize(1);
        RecordingBackend.Request request = backend.requests.getFirst();
        assertThat(request.header("X-Forwarded-For")).isEqualTo("203.0.113.7");
        assertThat(request.header("Forwarded")).startsWith("for=203.0.113.7;");
      }
    }
  }

  @Test
  void anHttp2ConnectionTakesItsClientFromThePrecedingHeaderForEveryStream() throws Exception {
    try (RecordingBackend backend = RecordingBackend.start()) {
      ManualScheduler scheduler = new ManualScheduler();
      try (LoadBalancer lb = Fixtures.balancer(scheduler).acceptProxyProtocol(true)
          .backend("a", backend.address()).build().start();
          H2Client client = new H2Client(lb.address(), ascii("PROXY TCP4 198.51.100.9 192.0.2.10 40001 80\r\n"))) {
        awaitAllUp(lb, scheduler);
        assertThat(client.get("/one").get(5, java.util.concurrent.TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(client.get("/two").get(5, java.util.concurrent.TimeUnit.SECONDS).status()).isEqualTo(200);
        assertThat(backend.requests).hasSize(2);
        for (RecordingBackend.Request request : backend.requests) {
          assertThat(request.header("X-Forwarded-For")).isEqualTo("198.51.100.9");
        }
      }
    }
  }

  /**
   * A backend that requires a PROXY protocol header first on every connection (as nginx with
   * {@code proxy_protocol} does): it records the header, then answers an HTTP request 200, and
   * closes a connection that starts with anything else.
   */
  static TcpBackend strictHttpBackend(String name, ProxyProtocol version, List<String> headers) throws IOException {
    return TcpBackend.start(name, (socket, backend) -> {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      int first = in.read();
      if (first < 0) {
        return;
      }
      if (version == ProxyProtocol.V1) {
        StringBuilder line = new StringBuilder().append((char) first);
        for (int b; (b = in.read()) != '\n' && b >= 0; ) {
          line.append((char) b);
        }
        if (!line.toString().startsWith("PROXY ")) {
          return; // no header: refused
        }
        headers.add(line.toString().strip());
      } else {
        byte[] head = new byte[16];
        head[0] = (byte) first;
        in.readFully(head, 1, 15);
        if (!java.util.Arrays.equals(java.util.Arrays.copyOf(head, 12), V2_SIGNATURE)) {
          return; // no header: refused
        }
        byte[] rest = new byte[((head[14] & 0xff) << 8) | (head[15] & 0xff)];
        in.readFully(rest);
        headers.add(hex(head) + hex(rest));
      }
      // the request head, up to its empty line
      int matched = 0;
      for (int b; matched < 4 && (b = in.read()) >= 0; ) {
        matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
      }
      socket.getOutputStream().write(
          "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    });
  }

  @Test
  void httpHealthChecksOfAPoolThatSendsTheProxyProtocolStartWithALocalHeader() throws Exception {
    for (ProxyProtocol version : ProxyProtocol.values()) {
      List<String> headers = new CopyOnWriteArrayList<>();
      try (TcpBackend strict = strictHttpBackend("a", version, headers)) {
        ManualScheduler scheduler = new ManualScheduler();
        try (LoadBalancer lb = tcpBalancer(scheduler)
            .healthCheck(HealthCheck.builder().type(HealthCheck.Type.HTTP).path("/health")
                .timeout(java.time.Duration.ofSeconds(2)).rise(1).fall(1).build())
            .pool(Pool.builder(Pool.DEFAULT).sendProxyProtocol(version).build())
            .backend("a", strict.address()).build().start()) {
          for (int i = 0; i < 2; i++) {
            Fixtures.checkRound(scheduler, 1);
          }
          assertThat(Fixtures.status(lb, "a").state()).as(version + ": a backend that requires the header is UP")
              .isEqualTo(BackendState.UP);
          // §2.1: UNKNOWN, §2.2: LOCAL (0x20) with AF_UNSPEC: the backend keeps the connection's addresses
          assertThat(headers.getFirst()).isEqualTo(version == ProxyProtocol.V1 ? "PROXY UNKNOWN"
              : hex(V2_SIGNATURE) + "20000000");
        }
      }
    }
  }
}
