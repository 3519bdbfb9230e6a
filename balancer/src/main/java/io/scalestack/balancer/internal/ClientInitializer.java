package io.scalestack.balancer.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.scalestack.balancer.Mode;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2SecurityUtil;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.ApplicationProtocolNegotiationHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the pipeline of a client connection, whichever protocol it speaks. Every protocol ends
 * in the same {@link FrontendHandler} and {@link Exchange}s (one per HTTP/1.1 connection, one per
 * HTTP/2 stream), so routing, balancing, retries, timeouts, metrics and the access log are one
 * mechanism:
 *
 * <ul>
 *   <li>plaintext: {@code idle → preface → decoder → encoder → frontend}; {@link PrefaceDetector}
 *       swaps the HTTP/1.1 handlers for HTTP/2 ones when the connection starts with the HTTP/2
 *       preface (h2c with prior knowledge, RFC 9113 §3.3). The h2c Upgrade dance (RFC 7540 §3.2)
 *       is not offered: RFC 9113 deprecates it.
 *   <li>TLS: {@code idle → tls → alpn}, then HTTP/2 when ALPN chose {@code h2}, else HTTP/1.1
 *       (RFC 7301; no ALPN at all is HTTP/1.1).
 *   <li>HTTP/2: {@code idle → h2 (Http2FrameCodec) → h2-streams (Http2MultiplexHandler) →
 *       h2-guard}; each stream is a child channel {@code idle → h2-check → h2-http → frontend}.
 * </ul>
 *
 * <p>Thread-safe (shared by the listener; each call works on its own channel).
 */
final class ClientInitializer extends ChannelInitializer<SocketChannel> {

  private static final Logger log = LoggerFactory.getLogger(ClientInitializer.class);

  private final BalancerCore core;
  private final ChannelGroup clients;
  private final ClientProtocols protocols;
  private final SslContext ssl;

  ClientInitializer(BalancerCore core, ChannelGroup clients, SslContext ssl) {
    this.core = core;
    this.clients = clients;
    this.protocols = core.settings().clientProtocols();
    this.ssl = ssl;
  }

  /**
   * The server TLS context for {@code protocols}, or null for a plaintext listener: the JDK's TLS
   * 1.3 and 1.2, ALPN offering {@code h2} (when on) then {@code http/1.1}, and for h2 only the
   * cipher suites RFC 9113 §9.2.2 allows.
   *
   * @throws IllegalArgumentException naming the file when the certificate or key cannot be used
   */
  static SslContext sslContext(ClientProtocols protocols) {
    if (!protocols.tls()) {
      return null;
    }
    readable("tls.certificate", protocols.tlsCertificate());
    readable("tls.key", protocols.tlsKey());
    String[] alpn = protocols.http2()
        ? new String[] {ApplicationProtocolNames.HTTP_2, ApplicationProtocolNames.HTTP_1_1}
        : new String[] {ApplicationProtocolNames.HTTP_1_1};
    try {
      SslContextBuilder builder = SslContextBuilder.forServer(protocols.tlsCertificate().toFile(), protocols.tlsKey().toFile())
          .sslProvider(SslProvider.JDK)
          .protocols("TLSv1.3", "TLSv1.2")
          .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT, alpn));
      if (protocols.http2()) {
        builder.ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE);
      }
      return builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException("tls: certificate " + protocols.tlsCertificate() + ", key "
          + protocols.tlsKey() + " (expected: a PEM certificate chain and its PEM PKCS#8 private key; "
          + e.getMessage() + ")", e);
    }
  }

  private static void readable(String field, Path file) {
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(field + ": " + file + " (expected: a readable PEM file)");
    }
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    clients.add(ch);
    ListenerOptions options = core.listenerOptions();
    if (options.mode() == Mode.TCP) {
      TcpFrontendHandler.install(ch, core, options.acceptProxyProtocol());
      if (options.acceptProxyProtocol()) {
        ProxyProtocolReceiver.install(ch.pipeline());
      }
      return;
    }
    BalancerCore.Settings settings = core.settings();
    ChannelPipeline pipeline = ch.pipeline();
    if (options.acceptProxyProtocol()) {
      // the PROXY header comes before anything else, TLS handshake and HTTP/2 preface included
      ProxyProtocolReceiver.install(pipeline);
    }
    pipeline.addLast("idle", new IdleTimeoutHandler(settings.clientIdleTimeout()));
    long headerTimeout = settings.requestHeaderTimeout().toNanos();
    if (ssl != null) {
      SslHandler tls = ssl.newHandler(ch.alloc());
      // the handshake counts against the request-header timeout (slowloris)
      tls.setHandshakeTimeout(headerTimeout, TimeUnit.NANOSECONDS);
      pipeline.addLast("tls", tls).addLast("alpn", new Alpn(headerTimeout));
    } else if (protocols.http2()) {
      pipeline.addLast("preface", new PrefaceDetector(headerTimeout,
          () -> {
            pipeline.remove("decoder");
            pipeline.remove("encoder");
            pipeline.remove("frontend");
            http2(pipeline, "preface", false);
          },
          () -> core.metrics().clientConnection(ApplicationProtocolNames.HTTP_1_1, false)));
      http1(pipeline, false);
    } else {
      core.metrics().clientConnection(ApplicationProtocolNames.HTTP_1_1, false);
      http1(pipeline, false);
    }
  }

  private void http1(ChannelPipeline pipeline, boolean tls) {
    StrictRequestDecoder decoder = new StrictRequestDecoder(BalancerCore.MAX_REQUEST_LINE_BYTES,
        BalancerCore.MAX_HEADER_BYTES, core.settings().maxContentLengthBytes());
    FrontendHandler.ResponseEncoder encoder = new FrontendHandler.ResponseEncoder();
    pipeline.addLast("decoder", decoder)
        .addLast("encoder", encoder)
        .addLast("frontend", new FrontendHandler(core, decoder, encoder, tls));
  }

  // after handler `after`: the connection-level HTTP/2 handlers
  private void http2(ChannelPipeline pipeline, String after, boolean tls) {
    core.metrics().clientConnection(tls ? ApplicationProtocolNames.HTTP_2 : "h2c", tls);
    BalancerCore.Settings settings = core.settings();
    Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
        .initialSettings(Http2Settings.defaultSettings()
            .maxConcurrentStreams(protocols.maxConcurrentStreams())
            .maxHeaderListSize(BalancerCore.MAX_HEADER_BYTES))
        .validateHeaders(true)
        // "rapid reset" (CVE-2023-44487): a client that resets streams faster than this gets GOAWAY
        .decoderEnforceMaxRstFramesPerWindow(200, 30)
        .gracefulShutdownTimeoutMillis(settings.shutdownTimeout().toMillis())
        .build();
    pipeline.addAfter(after, "h2-header-timer", new Http2HeaderBlockTimer(settings.requestHeaderTimeout()))
        .addAfter("h2-header-timer", "h2", codec)
        .addAfter("h2", "h2-streams", new Http2MultiplexHandler(new StreamInitializer(tls)))
        .addAfter("h2-streams", "h2-guard", new Http2ConnectionGuard(codec));
  }

  /** One HTTP/2 stream: frames to HTTP/1.1 messages and back, then the same frontend as HTTP/1.1. */
  private final class StreamInitializer extends ChannelInitializer<Http2StreamChannel> {
    private final boolean tls;

    StreamInitializer(boolean tls) {
      this.tls = tls;
    }

    @Override
    protected void initChannel(Http2StreamChannel ch) {
      BalancerCore.Settings settings = core.settings();
      ch.pipeline()
          // a request body that stalls this long ends its stream, as on HTTP/1.1
          .addLast("idle", new IdleTimeoutHandler(settings.clientIdleTimeout()))
          .addLast("h2-check", new Http2RequestCheck(settings.maxContentLengthBytes()))
          // the server side converts HEADERS/DATA to requests and responses to HEADERS/DATA,
          // leaving out the connection-specific fields (RFC 9113 §8.2.2)
          .addLast("h2-http", new Http2StreamFrameToHttpObjectCodec(true, true))
          .addLast("frontend", new FrontendHandler(core, null, null, tls));
    }
  }

  /** After the TLS handshake: h2 or HTTP/1.1 by what ALPN chose. */
  private final class Alpn extends ApplicationProtocolNegotiationHandler {
    private final long headerTimeoutNanos;

    Alpn(long headerTimeoutNanos) {
      super(ApplicationProtocolNames.HTTP_1_1);
      this.headerTimeoutNanos = headerTimeoutNanos;
    }

    @Override
    protected void configurePipeline(ChannelHandlerContext ctx, String protocol) {
      ChannelPipeline pipeline = ctx.pipeline();
      if (ApplicationProtocolNames.HTTP_2.equals(protocol) && protocols.http2()) {
        // the preface must still come, within the request-header timeout
        pipeline.addAfter(ctx.name(), "preface", new PrefaceDetector(headerTimeoutNanos, () -> { }, null));
        http2(pipeline, "preface", true);
      } else {
        core.metrics().clientConnection(ApplicationProtocolNames.HTTP_1_1, true);
        http1(pipeline, true);
      }
    }

    @Override
    protected void handshakeFailure(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }
}
