package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS on the proxy listener: ALPN picks h2 or http/1.1 (RFC 7301), both reach the same HTTP/1.1
 * backend, which learns that the client used https. The certificate is self-signed, made by the
 * JDK's keytool for 127.0.0.1, and trusted by the test's clients alone.
 */
class Http2TlsTest {

  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  static Path dir;
  private static Path certificate;
  private static Path key;
  private static SSLContext trusting;

  private final List<AutoCloseable> resources = new ArrayList<>();

  @BeforeAll
  static void selfSignedCertificate() throws Exception {
    Path store = dir.resolve("lb.p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process process = new ProcessBuilder(keytool, "-genkeypair", "-alias", "lb", "-keyalg", "EC", "-groupname",
        "secp256r1", "-dname", "CN=127.0.0.1", "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", store.toString(), "-storepass", "changeit", "-keypass", "changeit")
        .redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).as(output).isZero();

    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, "changeit".toCharArray());
    }
    PrivateKey privateKey = (PrivateKey) keys.getKey("lb", "changeit".toCharArray());
    Certificate cert = keys.getCertificate("lb");
    certificate = dir.resolve("lb.crt");
    key = dir.resolve("lb.key");
    Files.writeString(certificate, pem("CERTIFICATE", cert.getEncoded()));
    // getEncoded() of a private key is PKCS#8
    Files.writeString(key, pem("PRIVATE KEY", privateKey.getEncoded()));

    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("lb", cert);
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    trusting = SSLContext.getInstance("TLS");
    trusting.init(null, factory.getTrustManagers(), null);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  private LoadBalancer tlsBalancer(RecordingBackend backend) {
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancer(scheduler).tls(certificate, key).backend("web", backend.address()).build().start();
    resources.add(lb);
    awaitAllUp(lb, scheduler);
    return lb;
  }

  private RecordingBackend backend() throws Exception {
    RecordingBackend backend = RecordingBackend.start();
    resources.add(backend);
    return backend;
  }

  private static URI https(InetSocketAddress address, String path) {
    return URI.create("https://127.0.0.1:" + address.getPort() + path);
  }

  private static HttpClient client(HttpClient.Version version) {
    return HttpClient.newBuilder().version(version).sslContext(trusting).connectTimeout(WAIT).build();
  }

  @Test
  void negotiatesH2ByAlpnAndForwardsAsHttps() throws Exception {
    RecordingBackend backend = backend();
    LoadBalancer lb = tlsBalancer(backend);
    HttpClient client = client(HttpClient.Version.HTTP_2);

    HttpResponse<String> get = client.send(HttpRequest.newBuilder(https(lb.address(), "/secure?x=1")).timeout(WAIT)
        .build(), HttpResponse.BodyHandlers.ofString());
    HttpResponse<String> post = client.send(HttpRequest.newBuilder(https(lb.address(), "/form")).timeout(WAIT)
        .POST(HttpRequest.BodyPublishers.ofString("a=1&b=2")).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(get.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.body()).isEqualTo("/secure?x=1");
    assertThat(post.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(post.statusCode()).isEqualTo(200);
    RecordingBackend.Request first = backend.requests.get(0);
    assertThat(first.line()).isEqualTo("GET /secure?x=1 HTTP/1.1");
    assertThat(first.header("host")).isEqualTo("127.0.0.1:" + lb.address().getPort());
    assertThat(first.header("x-forwarded-proto")).isEqualTo("https");
    assertThat(first.header("forwarded")).endsWith(";proto=https");
    assertThat(first.header("via")).isEqualTo("2 scalestack-lb");
    RecordingBackend.Request second = backend.requests.get(1);
    assertThat(second.line()).isEqualTo("POST /form HTTP/1.1");
    assertThat(second.body()).isEqualTo("a=1&b=2");
  }

  @Test
  void aProxyHeaderInTheSameWriteAsTheTlsClientHelloThenH2CarriesTheClientIntoEveryStream() throws Exception {
    RecordingBackend backend = backend();
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancer(scheduler).tls(certificate, key).acceptProxyProtocol(true)
        .backend("web", backend.address()).build().start();
    resources.add(lb);
    awaitAllUp(lb, scheduler);
    io.netty.handler.ssl.SslContext ssl = io.netty.handler.ssl.SslContextBuilder.forClient()
        .trustManager(certificate.toFile())
        .applicationProtocolConfig(new io.netty.handler.ssl.ApplicationProtocolConfig(
            io.netty.handler.ssl.ApplicationProtocolConfig.Protocol.ALPN,
            io.netty.handler.ssl.ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
            io.netty.handler.ssl.ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, "h2"))
        .build();
    io.netty.channel.nio.NioEventLoopGroup group = new io.netty.channel.nio.NioEventLoopGroup(1);
    try {
      io.netty.channel.Channel channel = new io.netty.bootstrap.Bootstrap().group(group)
          .channel(io.netty.channel.socket.nio.NioSocketChannel.class)
          .handler(new io.netty.channel.ChannelInitializer<io.netty.channel.socket.SocketChannel>() {
            @Override
            protected void initChannel(io.netty.channel.socket.SocketChannel ch) {
              ch.pipeline().addLast(new io.netty.channel.ChannelInboundHandlerAdapter() {
                @Override
                public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
                  // not flushed: it goes out with the ClientHello, in one write
                  ctx.write(io.netty.buffer.Unpooled.copiedBuffer("PROXY TCP4 198.51.100.7 192.0.2.10 40001 443\r\n",
                      StandardCharsets.US_ASCII));
                  ctx.pipeline().remove(this);
                  ctx.fireChannelActive();
                }
              }, ssl.newHandler(ch.alloc(), "127.0.0.1", lb.address().getPort()),
                  io.netty.handler.codec.http2.Http2FrameCodecBuilder.forClient().build(),
                  new io.netty.handler.codec.http2.Http2MultiplexHandler(new io.netty.channel.ChannelInboundHandlerAdapter()));
            }
          })
          .connect(lb.address()).sync().channel();
      for (String path : List.of("/one", "/two")) {
        java.util.concurrent.CompletableFuture<String> status = new java.util.concurrent.CompletableFuture<>();
        io.netty.handler.codec.http2.Http2StreamChannel stream =
            new io.netty.handler.codec.http2.Http2StreamChannelBootstrap(channel)
                .handler(new io.netty.channel.ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                    if (msg instanceof io.netty.handler.codec.http2.Http2HeadersFrame headers) {
                      status.complete(String.valueOf(headers.headers().status()));
                    }
                    io.netty.util.ReferenceCountUtil.release(msg);
                  }
                }).open().get(10, TimeUnit.SECONDS);
        stream.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2HeadersFrame(
            H2Client.headers("GET", path), true));
        assertThat(status.get(10, TimeUnit.SECONDS)).isEqualTo("200");
      }
      assertThat(backend.requests).hasSize(2).allSatisfy(request -> {
        assertThat(request.header("x-forwarded-for")).isEqualTo("198.51.100.7");
        assertThat(request.header("x-forwarded-proto")).isEqualTo("https");
      });
      channel.close().sync();
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  @Test
  void servesHttp11OverTlsWhenAlpnChoosesIt() throws Exception {
    RecordingBackend backend = backend();
    LoadBalancer lb = tlsBalancer(backend);

    HttpResponse<String> response = client(HttpClient.Version.HTTP_1_1).send(
        HttpRequest.newBuilder(https(lb.address(), "/one")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());

    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("/one");
    RecordingBackend.Request seen = backend.requests.getFirst();
    assertThat(seen.header("x-forwarded-proto")).isEqualTo("https");
    assertThat(seen.header("via")).isEqualTo("1.1 scalestack-lb");
  }

  @Test
  void servesHttp11OverTlsWithoutAlpn() throws Exception {
    RecordingBackend backend = backend();
    LoadBalancer lb = tlsBalancer(backend);

    try (SSLSocket socket = (SSLSocket) trusting.getSocketFactory().createSocket("127.0.0.1", lb.address().getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write("GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
          .getBytes(StandardCharsets.US_ASCII));
      socket.getOutputStream().flush();
      String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
      assertThat(socket.getApplicationProtocol()).isEmpty();
      assertThat(response).startsWith("HTTP/1.1 200 ").endsWith("/plain");
    }
  }

  @Test
  void readsTlsAndHttp2FromLbYaml() throws Exception {
    RecordingBackend backend = backend();
    Path file = dir.resolve("lb.yaml");
    Files.writeString(file, """
        listen: 127.0.0.1:0
        admin: {listen: 127.0.0.1:0}
        tls: {certificate: lb.crt, key: lb.key}
        http2: {enabled: true, maxConcurrentStreams: 5}
        healthCheck: {type: tcp, interval: 100ms}
        pools:
          default:
            backends:
              - {name: web, address: %s}
        """.formatted("127.0.0.1:" + backend.address().getPort()));

    try (LoadBalancer lb = LbConfig.load(file).build().start()) {
      org.awaitility.Awaitility.await().atMost(WAIT).until(() ->
          lb.backends().stream().allMatch(s -> s.state() == BackendState.UP));
      HttpResponse<String> response = client(HttpClient.Version.HTTP_2).send(
          HttpRequest.newBuilder(https(lb.address(), "/yaml")).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_2);
      assertThat(response.body()).isEqualTo("/yaml");
    }
  }

  @Test
  void lbYamlMistakesInTlsAndHttp2NameLineAndField() {
    assertThatThrownBy(() -> LbConfig.parse("lb.yaml", "tls: {certificate: nope.crt, key: nope.key}\n"))
        .isInstanceOf(LbConfigException.class)
        .hasMessage("lb.yaml:1: tls.certificate: 'nope.crt' (expected: a readable PEM file)");
    assertThatThrownBy(() -> LbConfig.parse("lb.yaml", "tls: {certificate: lb.crt}\n"))
        .isInstanceOf(LbConfigException.class)
        .hasMessageContaining("tls: certificate and key: missing");
    assertThatThrownBy(() -> LbConfig.parse("lb.yaml", "http2:\n  maxConcurrentStreams: 0\n"))
        .isInstanceOf(LbConfigException.class)
        .hasMessage("lb.yaml:2: http2.maxConcurrentStreams: 0 (expected: 1..65535)");
    assertThatThrownBy(() -> LbConfig.parse("lb.yaml", "http2: {enabled: maybe}\n"))
        .isInstanceOf(LbConfigException.class)
        .hasMessage("lb.yaml:1: http2.enabled: 'maybe' (expected: true or false)");
  }

  @Test
  void refusesAnUnreadableCertificateAtBuild() {
    assertThatThrownBy(() -> LoadBalancer.builder().listen(Fixtures.anyPort()).adminListen(Fixtures.anyPort())
        .tls(dir.resolve("missing.crt"), key).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tls.certificate")
        .hasMessageContaining("missing.crt");
    assertThatThrownBy(() -> LoadBalancer.builder().listen(Fixtures.anyPort()).adminListen(Fixtures.anyPort())
        .tls(key, key).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("tls: certificate");
  }
}
