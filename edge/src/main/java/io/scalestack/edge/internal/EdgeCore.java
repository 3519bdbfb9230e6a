package io.scalestack.edge.internal;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.observability.Telemetry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running edge behind {@link io.scalestack.edge.EdgeServer}: event loops, the client and
 * admin listeners, the cache and the origin client.
 *
 * <p>Thread-safe. {@link #close()} blocks and must not be called from an event loop.
 */
public final class EdgeCore implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EdgeCore.class);

  /** Validated settings (the public builder validates). */
  public record Settings(
      InetSocketAddress listen,
      InetSocketAddress adminListen,
      InetSocketAddress origin,
      String originAuthority,
      long maxMemoryBytes,
      int maxObjectBytes,
      Path diskDirectory,
      long maxDiskBytes,
      String purgeToken,
      Clock clock,
      Telemetry telemetry,
      int ioThreads,
      Duration originTimeout,
      Duration coalesceTimeout,
      Duration clientIdleTimeout,
      int maxRequestBodyBytes) {}

  final Settings settings;
  final Clock clock;
  final EdgeCache cache;
  final EdgeMetrics metrics;
  final String originAuthority;
  final String purgeToken;
  final long coalesceTimeoutMillis;
  final int maxRequestBodyBytes;
  final OriginClient origin;
  private final Telemetry telemetry;
  private final boolean ownTelemetry;
  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup ioGroup;
  private Channel listener;
  private Channel adminListener;

  public EdgeCore(Settings settings, boolean ownTelemetry) {
    this.settings = settings;
    this.clock = settings.clock();
    this.telemetry = settings.telemetry();
    this.ownTelemetry = ownTelemetry;
    MeterRegistry registry = telemetry.registry();
    this.metrics = new EdgeMetrics(registry);
    try {
      this.cache = new EdgeCache(settings.maxMemoryBytes(), settings.diskDirectory(), settings.maxDiskBytes(), metrics);
    } catch (IOException e) {
      throw new UncheckedIOException("edge disk tier: " + settings.diskDirectory() + ": " + e.getMessage(), e);
    }
    metrics.bindCache(registry, cache::objects, cache::memoryBytes);
    this.originAuthority = settings.originAuthority();
    this.purgeToken = settings.purgeToken();
    this.coalesceTimeoutMillis = settings.coalesceTimeout().toMillis();
    this.maxRequestBodyBytes = settings.maxRequestBodyBytes();
    Transport transport = Transport.best();
    this.acceptGroup = transport.group(1, new DefaultThreadFactory("edge-accept"));
    this.ioGroup = transport.group(settings.ioThreads(), new DefaultThreadFactory("edge-io"));
    this.origin = new OriginClient(ioGroup, transport, settings.origin(), Duration.ofSeconds(5), settings.originTimeout(),
        settings.maxObjectBytes(), metrics);
    this.transport = transport;
  }

  private final Transport transport;

  /** Binds the listeners. */
  public void start() {
    int idleSeconds = (int) Math.max(1, settings.clientIdleTimeout().toSeconds());
    ServerBootstrap server = new ServerBootstrap()
        .group(acceptGroup, ioGroup)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline()
                // reader idle only: an all-idle or writer-idle check puts a listener on every write
                .addLast("idle", new IdleStateHandler(idleSeconds, 0, 0, TimeUnit.SECONDS))
                // bounded: request line 8 KiB (414 past it), header section 16 KiB (431)
                .addLast("decoder", new StrictRequestDecoder(8192, 16 * 1024))
                .addLast("edge", new EdgeHandler(EdgeCore.this));
          }
        });
    try {
      listener = server.bind(settings.listen()).syncUninterruptibly().channel();
      if (settings.adminListen() != null) {
        ServerBootstrap admin = new ServerBootstrap()
            .group(acceptGroup, ioGroup)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_REUSEADDR, true)
            .childHandler(new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel ch) {
                ch.pipeline()
                    .addLast("codec", new HttpServerCodec(4096, 8192, 8192))
                    .addLast("aggregator", new HttpObjectAggregator(8192))
                    .addLast("admin", new AdminHandler(EdgeCore.this));
              }
            });
        adminListener = admin.bind(settings.adminListen()).syncUninterruptibly().channel();
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    log.info("edge: serving http://{} from origin {}{}", hostPort(address()), originAuthority,
        adminListener != null ? ", admin http://" + hostPort(adminAddress()) : "");
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) listener.localAddress();
  }

  public InetSocketAddress adminAddress() {
    return adminListener == null ? null : (InetSocketAddress) adminListener.localAddress();
  }

  String scrape() {
    return telemetry.scrape();
  }

  /** Origin requests so far (tests and the CLI's summary). */
  public long originRequests() {
    return (long) metrics.originRequests();
  }

  /** Objects in the memory tier now. */
  public long objects() {
    return cache.objects();
  }

  /** Weighted bytes in the memory tier now. */
  public long memoryBytes() {
    return cache.memoryBytes();
  }

  private static String hostPort(InetSocketAddress a) {
    return a.getHostString() + ":" + a.getPort();
  }

  @Override
  public void close() {
    if (listener != null) {
      listener.close().syncUninterruptibly();
    }
    if (adminListener != null) {
      adminListener.close().syncUninterruptibly();
    }
    acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    cache.close();
    if (ownTelemetry) {
      telemetry.close();
    }
  }
}
