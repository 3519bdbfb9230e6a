package io.scalestack.balancer.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.scalestack.balancer.Algorithm;
import io.scalestack.balancer.BackendStatus;
import io.scalestack.balancer.HealthCheck;
import io.scalestack.balancer.Pool;
import io.scalestack.balancer.ProxyProtocol;
import io.scalestack.balancer.Route;
import io.scalestack.observability.Telemetry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running balancer behind {@link io.scalestack.balancer.LoadBalancer}: event loops, the proxy
 * and admin listeners, the membership, the health checker and the metrics.
 *
 * <p>Thread-safe. Membership changes may come from any thread (the admin API calls them on its
 * event loop; they never block there because addresses reach them resolved). {@link #close()}
 * blocks and must not be called from one of the balancer's event loops.
 */
public final class BalancerCore {

  /** Validated settings (the public builder validates). */
  public record Settings(
      InetSocketAddress listen,
      InetSocketAddress adminListen,
      Algorithm algorithm,
      HealthCheck healthCheck,
      int retries,
      Duration connectTimeout,
      Duration responseTimeout,
      int maxContentLengthBytes,
      int maxConnectionsPerBackend,
      int maxQueuedPerBackend,
      Duration backendIdleTimeout,
      Duration clientIdleTimeout,
      Duration shutdownTimeout,
      int ioThreads,
      Telemetry telemetry,
      TaskScheduler healthCheckScheduler,
      boolean retryIdempotent,
      int retryBudgetPercent,
      Duration requestHeaderTimeout,
      ClientProtocols clientProtocols) {

    public Settings {
      Objects.requireNonNull(listen, "listen");
      Objects.requireNonNull(adminListen, "adminListen");
      Objects.requireNonNull(algorithm, "algorithm");
      Objects.requireNonNull(healthCheck, "healthCheck");
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(responseTimeout, "responseTimeout");
      Objects.requireNonNull(backendIdleTimeout, "backendIdleTimeout");
      Objects.requireNonNull(clientIdleTimeout, "clientIdleTimeout");
      Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
      Objects.requireNonNull(requestHeaderTimeout, "requestHeaderTimeout");
      Objects.requireNonNull(clientProtocols, "clientProtocols");
    }
  }

  /** What {@link #addBackend} did. */
  public enum AddResult {
    /** A new backend. */
    CREATED,
    /** The name was already there with that address: nothing changed. */
    UNCHANGED,
    /** The name was there with another address: the old one was removed, the new one added. */
    REPLACED,
    /** The name was there with that address: its weight or pool changed in place. */
    UPDATED
  }

  private enum Lifecycle { NEW, STARTED, CLOSED }

  private static final Logger log = LoggerFactory.getLogger(BalancerCore.class);
  /** The longest request line (414 beyond) and header section (431 beyond). */
  static final int MAX_REQUEST_LINE_BYTES = 8192;
  static final int MAX_HEADER_BYTES = 16 * 1024;
  // backpressure: a connection stops taking writes above 64 KiB queued, resumes below 32 KiB
  private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  private final Settings settings;
  private final io.netty.handler.ssl.SslContext clientTls; // null: plaintext listener
  private final Telemetry telemetry;
  private final boolean ownsTelemetry;
  private final ProxyMetrics metrics;
  private final Membership membership;
  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup ioGroup;
  private final Bootstrap backendBootstrap;
  private final BackendHandler.Installer installer;
  private final HealthChecker healthChecker;
  private final RetryBudget retryBudget;
  private final TcpMetrics tcpMetrics;
  private final ChannelGroup clientChannels = new DefaultChannelGroup("lb-clients", GlobalEventExecutor.INSTANCE);
  private final AtomicInteger activeExchanges = new AtomicInteger();
  private final Object drained = new Object();

  private Lifecycle lifecycle = Lifecycle.NEW; // guarded by this
  private volatile boolean closing;
  private volatile String adminToken;
  private volatile ListenerOptions listenerOptions = ListenerOptions.HTTP;
  private Channel proxyChannel;
  private Channel adminChannel;
  private final Transport transport = Transport.best();

  public BalancerCore(Settings settings) {
    this.settings = settings;
    // first: a bad certificate or key fails the build before any thread starts
    this.clientTls = ClientInitializer.sslContext(settings.clientProtocols());
    this.ownsTelemetry = settings.telemetry() == null;
    this.telemetry = ownsTelemetry ? Telemetry.forMember("lb") : settings.telemetry();
    this.metrics = new ProxyMetrics(telemetry.registry());
    this.membership = new Membership(settings.algorithm(), telemetry.registry());
    this.acceptGroup = transport.group(1, new DefaultThreadFactory("lb-accept"));
    this.ioGroup = transport.group(settings.ioThreads(), new DefaultThreadFactory("lb-io"));
    this.backendBootstrap = new Bootstrap()
        .group(ioGroup)
        .channel(transport.socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, millis(settings.connectTimeout()));
    this.installer = new BackendHandler.Installer(settings.backendIdleTimeout());
    this.retryBudget = new RetryBudget(settings.retryBudgetPercent(), System::nanoTime);
    this.tcpMetrics = new TcpMetrics(telemetry.registry());
    TaskScheduler scheduler = settings.healthCheckScheduler() != null
        ? settings.healthCheckScheduler()
        : TaskScheduler.of(ioGroup);
    this.healthChecker = new HealthChecker(this::healthCheckOf, this::proxyProtocolOf, ioGroup, backendBootstrap, scheduler, this::checked);
  }

  /**
   * The error message for an invalid backend name, or null when valid: 1 to 64 characters of
   * letters, digits, '.', '_' and '-' (so that it fits in a URL path segment and a metric tag).
   */
  public static String nameError(String name) {
    if (name != null && NAME.matcher(name).matches()) {
      return null;
    }
    return "name: " + (name == null ? "null" : "'" + name + "'") + " (expected: 1 to 64 characters of A-Z a-z 0-9 . _ -)";
  }

  /** Binds both listeners and starts health checks. */
  public void start() {
    synchronized (this) {
      if (lifecycle != Lifecycle.NEW) {
        throw new IllegalStateException("start: the balancer is " + lifecycle.name().toLowerCase(java.util.Locale.ROOT) + " (expected: new)");
      }
      try {
        proxyChannel = bind(proxyBootstrap(), settings.listen(), "listen");
        adminChannel = bind(adminBootstrap(), settings.adminListen(), "adminListen");
      } catch (RuntimeException e) {
        lifecycle = Lifecycle.CLOSED;
        releaseResources();
        throw e;
      }
      lifecycle = Lifecycle.STARTED;
    }
    membership.all().forEach(healthChecker::watch);
    log.info("load balancer listening on {} (admin {}), mode {}{}, {} with {} backends",
        HostPort.format(address()), HostPort.format(adminAddress()), listenerOptions.mode().configName(),
        listenerOptions.acceptProxyProtocol() ? " with PROXY protocol" : "", settings.algorithm().configName(),
        membership.all().size());
  }

  public InetSocketAddress address() {
    return (InetSocketAddress) started(proxyChannel).localAddress();
  }

  public InetSocketAddress adminAddress() {
    return (InetSocketAddress) started(adminChannel).localAddress();
  }

  /**
   * Adds backend {@code name} at {@code address}, or confirms it if already there; a different
   * address replaces the backend (the old one finishes its in-flight requests). Resolves an
   * unresolved address on the calling thread.
   */
  public AddResult addBackend(String name, InetSocketAddress address) {
    return addBackend(name, address, 1, Pool.DEFAULT);
  }

  /**
   * Adds backend {@code name} at {@code address} with {@code weight} (1..256) to pool {@code
   * pool}. A backend already there at that address is re-weighted in place, or moved to the other
   * pool on its same connections and health state (as a new {@link Backend}, so that retries of
   * requests routed before the move stay in the old pool); no connection is dropped.
   */
  public AddResult addBackend(String name, InetSocketAddress address, int weight, String pool) {
    String error = nameError(name);
    if (error != null) {
      throw new IllegalArgumentException(error);
    }
    Objects.requireNonNull(address, "address");
    if (weight < 1 || weight > 256) {
      throw new IllegalArgumentException("weight: " + weight + " (expected: 1..256)");
    }
    String poolError = membership.poolError(pool);
    if (poolError != null) {
      throw new IllegalArgumentException(poolError);
    }
    InetSocketAddress resolved = address.isUnresolved()
        ? new InetSocketAddress(address.getHostString(), address.getPort())
        : address;
    if (resolved.isUnresolved()) {
      throw new IllegalArgumentException("address: '" + HostPort.format(address) + "' (expected: host:port with a resolvable host)");
    }
    Backend added;
    Backend replaced;
    synchronized (this) {
      if (lifecycle == Lifecycle.CLOSED) {
        throw new IllegalStateException("addBackend: the balancer is closed");
      }
      Backend existing = membership.get(name);
      if (existing != null && existing.address().equals(resolved)) {
        if (existing.weight() == weight && existing.poolName().equals(pool)) {
          return AddResult.UNCHANGED;
        }
        if (existing.poolName().equals(pool)) {
          membership.reweight(existing, weight);
        } else {
          // a new object in the new pool, on the same connections; the old one only finishes its requests
          Backend moved = existing.movedTo(pool, weight);
          existing.markRemoved();
          healthChecker.unwatch(existing);
          metrics.unregister(existing);
          membership.put(moved);
          metrics.register(moved);
          if (lifecycle == Lifecycle.STARTED) {
            healthChecker.watch(moved);
          }
        }
        log.info("backend {} now has weight {} in pool {}", name, weight, pool);
        return AddResult.UPDATED;
      }
      ConnectionPool connections = new ConnectionPool(name, resolved, backendBootstrap, installer,
          settings.maxConnectionsPerBackend(), settings.maxQueuedPerBackend(), settings.connectTimeout());
      added = new Backend(name, resolved, connections, weight, pool, System::nanoTime);
      if (lifecycle == Lifecycle.NEW) {
        // present from the start: no slow start on its first coming up
        added.warm();
      }
      if (existing != null) {
        retire(existing);
      }
      replaced = membership.put(added);
      metrics.register(added);
      if (lifecycle == Lifecycle.STARTED) {
        healthChecker.watch(added);
      }
    }
    log.info("backend {} {} at {}; DOWN until its first successful health check", name,
        replaced == null ? "added" : "moved", HostPort.format(resolved));
    return replaced == null ? AddResult.CREATED : AddResult.REPLACED;
  }

  /** Removes backend {@code name}: no new requests; its pool closes once in-flight ones finish. */
  public boolean removeBackend(String name) {
    Backend removed;
    synchronized (this) {
      removed = membership.remove(name);
      if (removed != null) {
        retire(removed);
      }
    }
    if (removed != null) {
      log.info("backend {} removed ({} requests in flight finish)", name, removed.inFlight());
    }
    return removed != null;
  }

  public boolean drain(String name) {
    Backend backend = membership.get(name);
    if (backend == null) {
      return false;
    }
    if (!backend.draining()) {
      backend.drain(true);
      log.info("backend {} draining ({} requests in flight)", name, backend.inFlight());
    }
    return true;
  }

  public boolean ready(String name) {
    Backend backend = membership.get(name);
    if (backend == null) {
      return false;
    }
    if (backend.draining()) {
      backend.drain(false);
      log.info("backend {} ready again ({})", name, backend.state());
    }
    return true;
  }

  /** Every backend's status, in the order added; immutable. */
  public List<BackendStatus> backends() {
    return membership.all().stream().map(Backend::status).toList();
  }

  /** The status of backend {@code name}, or null. */
  public BackendStatus backend(String name) {
    Backend backend = membership.get(name);
    return backend == null ? null : backend.status();
  }

  /**
   * Stops accepting, lets in-flight requests finish (at most the shutdown timeout), then closes
   * every connection and the event loops. Idempotent.
   */
  public void close() {
    boolean wasStarted;
    synchronized (this) {
      if (lifecycle == Lifecycle.CLOSED) {
        return;
      }
      for (EventExecutor executor : ioGroup) {
        if (executor.inEventLoop()) {
          throw new IllegalStateException("close: called on one of the balancer's event loops (expected: any other thread)");
        }
      }
      wasStarted = lifecycle == Lifecycle.STARTED;
      lifecycle = Lifecycle.CLOSED;
      closing = true;
    }
    if (wasStarted) {
      proxyChannel.close().awaitUninterruptibly();
      for (Channel client : clientChannels) {
        client.pipeline().fireUserEventTriggered(FrontendHandler.SHUTDOWN);
      }
      awaitExchanges();
      clientChannels.close().awaitUninterruptibly();
    }
    releaseResources();
    log.info("load balancer stopped");
  }

  // ---- pools, routes, sticky sessions, admin token (issue 3 routing)

  /**
   * Sets the pools, routes, sticky secret (null: random) and admin token (null: none); called
   * once, before any backend is added.
   */
  public void configureRouting(List<Pool> pools, List<Route> routes, byte[] stickySecret, String adminToken) {
    membership.configure(pools, routes, stickySecret);
    this.adminToken = adminToken;
  }

  /** The bearer token the admin API requires, or null. */
  String adminToken() {
    return adminToken;
  }

  /**
   * Sets the listener's mode and whether it takes a PROXY protocol header; called once, before
   * {@link #configureRouting} and {@link #start()}.
   */
  public void configureListener(ListenerOptions options) {
    this.listenerOptions = Objects.requireNonNull(options, "options");
  }

  ListenerOptions listenerOptions() {
    return listenerOptions;
  }

  /** Adds a pool or changes its settings at run time, keeping its backends; returns whether it is new. */
  public boolean putPool(Pool pool) {
    String modeError = ListenerOptions.poolError(listenerOptions.mode(), pool);
    if (modeError != null) {
      throw new IllegalArgumentException(modeError);
    }
    return membership.putPool(pool);
  }

  /** Every pool's settings, default first. */
  public List<Pool> pools() {
    return membership.pools();
  }

  // ---- for the handlers

  Settings settings() {
    return settings;
  }

  Membership membership() {
    return membership;
  }

  ProxyMetrics metrics() {
    return metrics;
  }

  TcpMetrics tcpMetrics() {
    return tcpMetrics;
  }

  Bootstrap backendBootstrap() {
    return backendBootstrap;
  }

  RetryBudget retryBudget() {
    return retryBudget;
  }

  Telemetry telemetry() {
    return telemetry;
  }

  boolean closing() {
    return closing;
  }

  void exchangeStarted() {
    activeExchanges.incrementAndGet();
  }

  void exchangeFinished() {
    if (activeExchanges.decrementAndGet() == 0 && closing) {
      synchronized (drained) {
        drained.notifyAll();
      }
    }
  }

  /** A connect to {@code backend} failed: take it down at once. */
  void eject(Backend backend, Throwable cause) {
    membership.onAttemptFailure(backend);
    if (backend.eject()) {
      metrics.ejection(backend.name());
      log.warn("backend {} is DOWN: connect failed ({}); back after {} successful health checks",
          backend, cause.toString(), healthCheckOf(backend).rise());
    }
  }

  private void checked(Backend backend, HealthChecker.Outcome outcome) {
    metrics.healthCheck(backend.name(), outcome.ok());
    if (membership.get(backend.name()) != backend) {
      return;
    }
    HealthCheck check = healthCheckOf(backend);
    switch (backend.recordCheck(outcome.ok(), check.rise(), check.fall())) {
      case WENT_UP -> log.info("backend {} is UP ({})", backend, outcome.detail());
      case WENT_DOWN -> log.warn("backend {} is DOWN: {} health checks in a row failed ({})", backend, check.fall(),
          outcome.detail());
      case NONE -> log.debug("backend {} health check: {}", backend, outcome.detail());
    }
  }

  // ---- internals

  // the PROXY protocol header the backend's pool sends, or null
  private ProxyProtocol proxyProtocolOf(Backend backend) {
    Pool pool = membership.pool(backend.poolName());
    return pool == null ? null : pool.sendProxyProtocol();
  }

  // the backend's pool's check, else the balancer's; a backend of a pool just removed uses the balancer's
  private HealthCheck healthCheckOf(Backend backend) {
    Pool pool = membership.pool(backend.poolName());
    return pool == null ? settings.healthCheck() : pool.healthCheck().orElse(settings.healthCheck());
  }

  private void retire(Backend backend) {
    backend.markRemoved();
    healthChecker.unwatch(backend);
    metrics.unregister(backend);
    backend.pool().close();
  }

  private void awaitExchanges() {
    long deadline = System.nanoTime() + settings.shutdownTimeout().toNanos();
    synchronized (drained) {
      while (activeExchanges.get() > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          log.warn("closing with {} requests still in flight after {}", activeExchanges.get(), settings.shutdownTimeout());
          return;
        }
        try {
          drained.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private void releaseResources() {
    healthChecker.close();
    for (Backend backend : membership.all()) {
      backend.pool().close();
      metrics.unregister(backend);
    }
    if (proxyChannel != null) {
      proxyChannel.close();
    }
    if (adminChannel != null) {
      adminChannel.close();
    }
    var io = ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    var accept = acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    io.awaitUninterruptibly(5, TimeUnit.SECONDS);
    accept.awaitUninterruptibly(5, TimeUnit.SECONDS);
    if (ownsTelemetry) {
      telemetry.close();
    }
  }

  private ServerBootstrap proxyBootstrap() {
    return new ServerBootstrap()
        .group(acceptGroup, ioGroup)
        .channel(transport.serverChannel())
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        // a client that shuts down its output after its request still gets the response (RFC 9112 §9.6)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .childHandler(new ClientInitializer(this, clientChannels, clientTls));
  }

  private ServerBootstrap adminBootstrap() {
    return new ServerBootstrap()
        .group(acceptGroup, ioGroup)
        .channel(transport.serverChannel())
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline()
                .addLast("codec", new HttpServerCodec())
                .addLast("aggregator", new HttpObjectAggregator(64 * 1024))
                .addLast("admin", new AdminHandler(BalancerCore.this));
          }
        });
  }

  private static Channel bind(ServerBootstrap bootstrap, InetSocketAddress address, String field) {
    ChannelFuture bound = bootstrap.bind(address).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      Throwable cause = bound.cause();
      throw new IllegalStateException(field + ": " + HostPort.format(address)
          + " (expected: a free local address; binding failed: " + (cause == null ? "unknown cause" : cause.getMessage())
          + ")", cause);
    }
    return bound.channel();
  }

  private Channel started(Channel channel) {
    synchronized (this) {
      if (lifecycle != Lifecycle.STARTED || channel == null) {
        throw new IllegalStateException("the balancer is " + lifecycle.name().toLowerCase(java.util.Locale.ROOT) + " (expected: started)");
      }
    }
    return channel;
  }

  private static int millis(Duration duration) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, duration.toMillis()));
  }
}
