package io.scalestack.balancer;

import io.scalestack.balancer.internal.BalancerCore;
import io.scalestack.balancer.internal.ClientProtocols;
import io.scalestack.balancer.internal.ListenerOptions;
import io.scalestack.balancer.internal.TaskScheduler;
import io.scalestack.observability.Telemetry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A load balancer: an HTTP reverse proxy that spreads requests over a changing set of backends,
 * in the manner of HAProxy; or, in {@link Mode#TCP TCP mode}, a layer-4 proxy that spreads
 * connections and relays their bytes. In HTTP mode clients speak HTTP/1.1 or HTTP/2 (h2c with
 * prior knowledge, or h2 over TLS chosen by ALPN when {@link Builder#tls(Path, Path) a
 * certificate} is configured); backends are spoken to in HTTP/1.1 over pooled keep-alive
 * connections.
 *
 * <ul>
 *   <li><b>Balancing</b> — one of seven {@link Algorithm}s among the backends that are {@link
 *       BackendState#UP}, per pool.
 *   <li><b>Pools and routes</b> — named {@link Pool}s, each with its own {@link Algorithm} (smooth
 *       weighted round robin, weighted least connections, peak-EWMA response time, random, source
 *       hash, consistent hash on a {@link HashKey}, bandwidth), {@link Sticky stickiness}, slow
 *       start, {@link OutlierDetection outlier detection} and panic threshold; {@link Route}s pick
 *       a pool by host, path, header, cookie or method and may rewrite the path prefix. Backends
 *       added without a pool go to {@link Pool#DEFAULT}. {@link LbConfig} reads all this from
 *       {@code lb.yaml}.
 *   <li><b>Health</b> — active {@link HealthCheck}s with rise and fall; a new backend gets traffic
 *       only after its first successful check; a backend that refuses a connection is taken down
 *       at once.
 *   <li><b>Retries</b> — a request that provably never reached a backend (connect failed, or the
 *       connection closed before any byte of the request was written) is retried on another; an
 *       idempotent request (RFC 9110 §9.2.2) whose connection died before any response byte only
 *       when {@link Builder#retryIdempotent(boolean)} is on, within a {@link
 *       Builder#retryBudgetPercent(int) retry budget}; a POST is never sent twice. At most {@link
 *       Builder#retries(int) retries} times.
 *   <li><b>Connections</b> — bounded keep-alive pools per backend; idle ones are evicted, and never
 *       reused past the backend's own {@code Keep-Alive: timeout}; a pooled connection the backend
 *       closed does not fail a request that never reached it.
 *   <li><b>Messages</b> — strict HTTP/1.1 parsing that refuses anything two parsers could read
 *       differently (400, and the connection closes); bodies stream in both directions with
 *       backpressure, never held whole (requests above {@link Builder#maxContentLengthBytes(int)}
 *       get 413); no backend gets 503, a backend timeout 504, a failed backend 502, each with a JSON
 *       body {@code {"error": …}}; {@code X-Forwarded-For}, {@code -Proto}, {@code -Host} and
 *       {@code Forwarded} are added and hop-by-hop fields removed (RFC 9110 §7.6.1); a slow request
 *       head gets 408 after {@link Builder#requestHeaderTimeout(Duration)}.
 *   <li><b>HTTP/2</b> — each stream of an HTTP/2 connection is one request through the same
 *       routing, balancing, retries, timeouts, metrics and access log as an HTTP/1.1 request; a
 *       malformed stream (RFC 9113 §8.1.1) is reset or answered 400 while the connection's other
 *       streams go on; at most {@link Builder#http2MaxConcurrentStreams(int)} streams per
 *       connection, and a slow reader slows its stream's backend (flow control) instead of being
 *       buffered for.
 *   <li><b>Admin API</b> — on its own listener: {@code GET /health}, {@code GET /metrics}, {@code
 *       GET /backends}, {@code PUT|DELETE /backends/{name}}, {@code POST
 *       /backends/{name}/drain|ready}, {@code GET /pools}, {@code GET|PUT /pools/{pool}}; with a
 *       bearer {@link Builder#adminToken(String) token} when one is set.
 *   <li><b>TCP mode</b> — {@link Builder#mode(Mode)}: each client connection goes to one backend
 *       chosen by the pool's algorithm (a connect failure tries another), and its bytes are relayed
 *       both ways with backpressure and half-close, until both sides close or it is idle for
 *       {@link Builder#clientIdleTimeout(Duration)}.
 *   <li><b>PROXY protocol</b> — {@link Builder#acceptProxyProtocol(boolean)} takes a v1 or v2
 *       header off each client connection, whose source address then stands for the client; a
 *       pool's {@link Pool.Builder#sendProxyProtocol(ProxyProtocol)} writes one to its backends
 *       (TCP mode).
 * </ul>
 *
 * <p>Thread-safe. The membership methods may be called from any thread; {@link #close()} blocks
 * and must not be called from a Netty event loop of this balancer.
 */
public final class LoadBalancer implements AutoCloseable {

  private final BalancerCore core;

  private LoadBalancer(BalancerCore core) {
    this.core = core;
  }

  /** A builder with the defaults of a standalone balancer. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the proxy and admin listeners and starts health checks.
   *
   * @throws IllegalStateException if a listener cannot be bound (the message names it and its
   *     address) or if already started or closed; after a failed start the balancer is closed
   */
  public LoadBalancer start() {
    core.start();
    return this;
  }

  /** The address the proxy listens on (the actual port when 0 was asked). */
  public InetSocketAddress address() {
    return core.address();
  }

  /** The address the admin API listens on. */
  public InetSocketAddress adminAddress() {
    return core.adminAddress();
  }

  /**
   * Adds backend {@code name} at {@code address}. Adding a name again with the same address does
   * nothing (a restarted server re-registering); with another address it replaces the backend
   * (in-flight requests to the old address finish). The backend gets traffic after its first
   * successful health check. An unresolved address is resolved on the calling thread.
   *
   * @throws IllegalArgumentException if the name is not 1 to 64 characters of {@code A-Z a-z 0-9
   *     . _ -}, or the host cannot be resolved
   */
  public void addBackend(String name, InetSocketAddress address) {
    core.addBackend(name, address);
  }

  /**
   * Adds backend {@code name} at {@code address} with {@code weight} to the default pool; a
   * backend of that name already at that address gets the new weight in place (no connection is
   * dropped). Otherwise as {@link #addBackend(String, InetSocketAddress)}.
   *
   * @throws IllegalArgumentException for a bad name, a weight outside 1..256, or an unresolvable host
   */
  public void addBackend(String name, InetSocketAddress address, int weight) {
    core.addBackend(name, address, weight, Pool.DEFAULT);
  }

  /**
   * Adds backend {@code name} at {@code address} with {@code weight} to pool {@code pool}; a
   * backend of that name already at that address moves to that pool and weight in place.
   *
   * @throws IllegalArgumentException for a bad name, a weight outside 1..256, an unknown pool, or
   *     an unresolvable host
   */
  public void addBackend(String name, InetSocketAddress address, int weight, String pool) {
    core.addBackend(name, address, weight, pool);
  }

  /**
   * Adds pool {@code pool}, or changes the settings (algorithm, hash key, stickiness, …) of the
   * pool of that name at run time; its backends, connections and requests in flight stay.
   *
   * @return whether the pool is new
   */
  public boolean putPool(Pool pool) {
    return core.putPool(Objects.requireNonNull(pool, "pool"));
  }

  /** Every pool's current settings, the default pool first; immutable. */
  public List<Pool> pools() {
    return core.pools();
  }

  /**
   * Removes backend {@code name}: it gets no new request, and its connections close once its
   * in-flight requests finish.
   *
   * @return false if there is no such backend
   */
  public boolean removeBackend(String name) {
    return core.removeBackend(name);
  }

  /**
   * Drains backend {@code name}: no new requests; in-flight ones finish. Its state becomes
   * {@link BackendState#DRAINING} until {@link #ready(String)}.
   *
   * @return false if there is no such backend
   */
  public boolean drain(String name) {
    return core.drain(name);
  }

  /**
   * Ends a drain of backend {@code name} (HAProxy's {@code set server state ready}); it gets
   * traffic again when its health checks say it is up.
   *
   * @return false if there is no such backend
   */
  public boolean ready(String name) {
    return core.ready(name);
  }

  /** A snapshot of every backend, in the order added; immutable. */
  public List<BackendStatus> backends() {
    return core.backends();
  }

  /**
   * Stops accepting connections, lets in-flight requests finish (up to {@link
   * Builder#shutdownTimeout(Duration)}), then closes every connection, pool and event loop.
   * Idempotent.
   */
  @Override
  public void close() {
    core.close();
  }

  /**
   * Builds a {@link LoadBalancer}. Setters validate at once and throw {@link
   * IllegalArgumentException} naming the field, the value and what was expected. Not thread-safe.
   */
  public static final class Builder {
    private static final InetAddress DEFAULT_HOST = loopback(127, 0, 1, 1);

    private InetSocketAddress listen = new InetSocketAddress(DEFAULT_HOST, 8080);
    private InetSocketAddress adminListen;
    private Algorithm algorithm = Algorithm.ROUND_ROBIN;
    private HealthCheck healthCheck;
    private Mode mode = Mode.HTTP;
    private boolean acceptProxyProtocol;
    private int retries = 3;
    private Duration connectTimeout = Duration.ofSeconds(3);
    private Duration responseTimeout = Duration.ofSeconds(30);
    private int maxContentLengthBytes = 16 * 1024 * 1024;
    private int maxConnectionsPerBackend = 128;
    private int maxQueuedPerBackend = 1024;
    private Duration backendIdleTimeout = Duration.ofSeconds(15);
    private Duration clientIdleTimeout = Duration.ofSeconds(60);
    private Duration shutdownTimeout = Duration.ofSeconds(10);
    private int ioThreads = Runtime.getRuntime().availableProcessors();
    private Telemetry telemetry;
    private TaskScheduler healthCheckScheduler;
    private boolean retryIdempotent;
    private int retryBudgetPercent = 20;
    private Duration requestHeaderTimeout = Duration.ofSeconds(10);
    private boolean http2 = true;
    private int http2MaxConcurrentStreams = 128;
    private Path tlsCertificate;
    private Path tlsKey;
    private final Map<String, InetSocketAddress> backends = new LinkedHashMap<>();
    private final Map<String, Integer> backendWeights = new LinkedHashMap<>();
    private final Map<String, String> backendPools = new LinkedHashMap<>();
    private final Map<String, Pool> pools = new LinkedHashMap<>();
    private final List<Route> routes = new java.util.ArrayList<>();
    private byte[] stickySecret;
    private String adminToken;

    private Builder() {}

    /** Where the proxy listens; default {@code 127.0.1.1:8080}; port 0 picks a free port. */
    public Builder listen(InetSocketAddress listen) {
      this.listen = Objects.requireNonNull(listen, "listen");
      return this;
    }

    /**
     * Where the admin API listens; default port 8404 on the {@link #listen} host; port 0 picks a
     * free port.
     */
    public Builder adminListen(InetSocketAddress adminListen) {
      this.adminListen = Objects.requireNonNull(adminListen, "adminListen");
      return this;
    }

    /** The default pool's balancing algorithm; default round robin. Ignored if {@link #pool(Pool)} defines the default pool. */
    public Builder algorithm(Algorithm algorithm) {
      this.algorithm = Objects.requireNonNull(algorithm, "algorithm");
      return this;
    }

    /**
     * The active health check; default {@link HealthCheck#defaults()} (HTTP {@code GET /health})
     * in HTTP mode, a TCP connect check with the same timing in TCP mode.
     */
    public Builder healthCheck(HealthCheck healthCheck) {
      this.healthCheck = Objects.requireNonNull(healthCheck, "healthCheck");
      return this;
    }

    /**
     * What the main listener speaks: {@link Mode#HTTP} (the default) or {@link Mode#TCP}. In TCP
     * mode there are no routes, a pool's algorithm may not be {@link Algorithm#HASH} (use {@link
     * Algorithm#SOURCE_HASH}) nor its stickiness a cookie, {@link #responseTimeout(Duration)} and
     * {@link #maxContentLengthBytes(int)} do not apply, {@link #retries(int)} counts connect
     * attempts, and {@link #clientIdleTimeout(Duration)} closes a connection idle both ways.
     */
    public Builder mode(Mode mode) {
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Whether every client connection must start with a PROXY protocol header (v1 or v2, HAProxy's
     * {@code proxy-protocol.txt}); default false. Its source address then stands for the client:
     * in {@code X-Forwarded-For} and {@code Forwarded}, for source hashing and source stickiness,
     * in the access log, and in the header sent on to backends. A connection without a valid
     * header is closed. Turn it on only behind a proxy that always sends one: anyone who can reach
     * the listener can claim any address.
     */
    public Builder acceptProxyProtocol(boolean acceptProxyProtocol) {
      this.acceptProxyProtocol = acceptProxyProtocol;
      return this;
    }

    /** How many times a request may be retried (so at most {@code retries + 1} attempts); default 3. */
    public Builder retries(int retries) {
      if (retries < 0 || retries > 100) {
        throw new IllegalArgumentException("retries: " + retries + " (expected: 0..100)");
      }
      this.retries = retries;
      return this;
    }

    /**
     * How long a connect to a backend may take (also how long a request waits for a pooled
     * connection when all are busy); default 3 s. A connect timeout ejects the backend.
     */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = positive("connectTimeout", connectTimeout);
      return this;
    }

    /** How long a backend may take to answer a sent request completely; default 30 s; then 504. */
    public Builder responseTimeout(Duration responseTimeout) {
      this.responseTimeout = positive("responseTimeout", responseTimeout);
      return this;
    }

    /**
     * The largest request body; default 16 MiB; larger requests get 413. Bodies stream through
     * and are never held whole, so responses have no limit.
     */
    public Builder maxContentLengthBytes(int maxContentLengthBytes) {
      if (maxContentLengthBytes < 0) {
        throw new IllegalArgumentException("maxContentLengthBytes: " + maxContentLengthBytes + " (expected: >= 0)");
      }
      this.maxContentLengthBytes = maxContentLengthBytes;
      return this;
    }

    /** The most connections open to one backend at once; default 128. Beyond, requests queue. */
    public Builder maxConnectionsPerBackend(int maxConnectionsPerBackend) {
      if (maxConnectionsPerBackend < 1) {
        throw new IllegalArgumentException("maxConnectionsPerBackend: " + maxConnectionsPerBackend + " (expected: >= 1)");
      }
      this.maxConnectionsPerBackend = maxConnectionsPerBackend;
      return this;
    }

    /** The most requests waiting for a connection to one backend; default 1024. Beyond, 503. */
    public Builder maxQueuedPerBackend(int maxQueuedPerBackend) {
      if (maxQueuedPerBackend < 0) {
        throw new IllegalArgumentException("maxQueuedPerBackend: " + maxQueuedPerBackend + " (expected: >= 0)");
      }
      this.maxQueuedPerBackend = maxQueuedPerBackend;
      return this;
    }

    /**
     * How long a pooled backend connection may stay idle before it is closed; default 15 s
     * (shorter than common server keep-alive timeouts, so that the balancer, not the server,
     * usually closes idle connections).
     */
    public Builder backendIdleTimeout(Duration backendIdleTimeout) {
      this.backendIdleTimeout = positive("backendIdleTimeout", backendIdleTimeout);
      return this;
    }

    /** How long an idle client keep-alive connection stays open; default 60 s. */
    public Builder clientIdleTimeout(Duration clientIdleTimeout) {
      this.clientIdleTimeout = positive("clientIdleTimeout", clientIdleTimeout);
      return this;
    }

    /** How long {@link LoadBalancer#close()} waits for in-flight requests; default 10 s. */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
      if (shutdownTimeout.isNegative()) {
        throw new IllegalArgumentException("shutdownTimeout: " + shutdownTimeout + " (expected: >= 0)");
      }
      this.shutdownTimeout = shutdownTimeout;
      return this;
    }

    /** Event-loop threads for connections; default the number of processors. */
    public Builder ioThreads(int ioThreads) {
      if (ioThreads < 1 || ioThreads > 256) {
        throw new IllegalArgumentException("ioThreads: " + ioThreads + " (expected: 1..256)");
      }
      this.ioThreads = ioThreads;
      return this;
    }

    /** A backend present from the start (repeatable; names are unique). */
    public Builder backend(String name, InetSocketAddress address) {
      String error = BalancerCore.nameError(name);
      if (error != null) {
        throw new IllegalArgumentException(error);
      }
      Objects.requireNonNull(address, "address");
      if (backends.containsKey(name)) {
        throw new IllegalArgumentException("backend: '" + name + "' (expected: a name not given before)");
      }
      backends.put(name, address);
      return this;
    }

    /** A backend of weight {@code weight} (1..256) in the default pool, present from the start. */
    public Builder backend(String name, InetSocketAddress address, int weight) {
      return backend(name, address, weight, Pool.DEFAULT);
    }

    /**
     * A backend of weight {@code weight} (1..256) in pool {@code pool} (defined by {@link
     * #pool(Pool)}, or the default pool), present from the start.
     */
    public Builder backend(String name, InetSocketAddress address, int weight, String pool) {
      if (weight < 1 || weight > 256) {
        throw new IllegalArgumentException("weight: " + weight + " (expected: 1..256)");
      }
      String poolError = Pool.nameError(pool);
      if (poolError != null) {
        throw new IllegalArgumentException(poolError);
      }
      backend(name, address);
      backendWeights.put(name, weight);
      backendPools.put(name, pool);
      return this;
    }

    /**
     * A pool of backends with its own algorithm, stickiness, slow start and outlier detection
     * (repeatable; names unique). A pool named {@value Pool#DEFAULT} replaces the default pool,
     * whose algorithm {@link #algorithm(Algorithm)} otherwise sets.
     */
    public Builder pool(Pool pool) {
      Objects.requireNonNull(pool, "pool");
      if (pools.containsKey(pool.name())) {
        throw new IllegalArgumentException("pool: '" + pool.name() + "' (expected: a name not given before)");
      }
      pools.put(pool.name(), pool);
      return this;
    }

    /**
     * A content-switching route (repeatable): tried in the order added, the first match picks the
     * pool; requests no route matches go to the default pool.
     */
    public Builder route(Route route) {
      routes.add(Objects.requireNonNull(route, "route"));
      return this;
    }

    /**
     * The key that signs sticky-session cookies (at least 16 bytes); default a random key per
     * start, so pins do not survive a restart. Give the same key to every balancer of a fleet.
     */
    public Builder stickySecret(byte[] secret) {
      Objects.requireNonNull(secret, "stickySecret");
      if (secret.length < 16) {
        throw new IllegalArgumentException("stickySecret: " + secret.length + " bytes (expected: >= 16)");
      }
      this.stickySecret = secret.clone();
      return this;
    }

    /**
     * A bearer token the admin API requires ({@code Authorization: Bearer <token>}) on every
     * request but {@code GET /health}; default none (the admin API is open: bind it to loopback).
     */
    public Builder adminToken(String token) {
      Objects.requireNonNull(token, "adminToken");
      if (token.length() < 16 || !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException("adminToken: " + token.length()
            + " characters (expected: at least 16 visible ASCII characters)");
      }
      this.adminToken = token;
      return this;
    }

    /**
     * Where the balancer's metrics go; default a {@code Telemetry.forMember("lb")} of its own,
     * closed with the balancer. A given telemetry is not closed by the balancer.
     */
    public Builder telemetry(Telemetry telemetry) {
      this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
      return this;
    }

    /**
     * Whether an idempotent request (RFC 9110 §9.2.2: GET, HEAD, OPTIONS, TRACE, PUT, DELETE) whose
     * backend connection died after the request went out but before any response byte is retried
     * on another backend, within the {@link #retryBudgetPercent(int) retry budget}; default false.
     * A request that never reached a backend is always retried; a POST is never sent twice.
     */
    public Builder retryIdempotent(boolean retryIdempotent) {
      this.retryIdempotent = retryIdempotent;
      return this;
    }

    /**
     * The retry budget: retries of requests that may have reached a backend stay below this
     * percentage of the requests of the last 10 seconds (with a floor of 10 per 10 seconds);
     * default 20.
     */
    public Builder retryBudgetPercent(int retryBudgetPercent) {
      if (retryBudgetPercent < 0 || retryBudgetPercent > 100) {
        throw new IllegalArgumentException("retryBudgetPercent: " + retryBudgetPercent + " (expected: 0..100)");
      }
      this.retryBudgetPercent = retryBudgetPercent;
      return this;
    }

    /**
     * How long a client may take to send a request head once it started (against slowloris);
     * default 10 s; then 408 and the connection closes.
     */
    public Builder requestHeaderTimeout(Duration requestHeaderTimeout) {
      this.requestHeaderTimeout = positive("requestHeaderTimeout", requestHeaderTimeout);
      return this;
    }

    /**
     * Terminates TLS on the proxy listener with this certificate chain and private key (PEM files;
     * the key in PKCS#8, {@code -----BEGIN PRIVATE KEY-----}); ALPN then offers {@code h2} and
     * {@code http/1.1}. Default none: plaintext. Backends get {@code X-Forwarded-Proto: https}.
     * The files are read by {@link #build()}, which throws {@link IllegalArgumentException} naming
     * them when they are unreadable or do not hold a certificate and its key.
     */
    public Builder tls(Path certificateChain, Path privateKey) {
      this.tlsCertificate = Objects.requireNonNull(certificateChain, "certificateChain");
      this.tlsKey = Objects.requireNonNull(privateKey, "privateKey");
      return this;
    }

    /**
     * Whether clients may speak HTTP/2: h2c with prior knowledge on a plaintext listener (RFC 9113
     * §3.3; the deprecated h2c Upgrade is not offered), h2 by ALPN over TLS; default true.
     */
    public Builder http2(boolean http2) {
      this.http2 = http2;
      return this;
    }

    /**
     * The most concurrent streams (requests) one HTTP/2 client connection may open
     * (SETTINGS_MAX_CONCURRENT_STREAMS, RFC 9113 §6.5.2); default 128; 1..65535.
     */
    public Builder http2MaxConcurrentStreams(int maxConcurrentStreams) {
      if (maxConcurrentStreams < 1 || maxConcurrentStreams > 65535) {
        throw new IllegalArgumentException("http2MaxConcurrentStreams: " + maxConcurrentStreams + " (expected: 1..65535)");
      }
      this.http2MaxConcurrentStreams = maxConcurrentStreams;
      return this;
    }

    // tests pace health checks by hand
    Builder healthCheckScheduler(TaskScheduler scheduler) {
      this.healthCheckScheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** The balancer, not yet started. Resolves unresolved backend addresses. */
    public LoadBalancer build() {
      InetSocketAddress admin = adminListen != null ? adminListen : new InetSocketAddress(listen.getAddress(), 8404);
      if (admin.equals(listen) && listen.getPort() != 0) {
        String host = admin.getAddress() != null ? admin.getAddress().getHostAddress() : admin.getHostString();
        throw new IllegalArgumentException("adminListen: " + host + ":" + admin.getPort()
            + " (expected: an address other than listen)");
      }
      List<Pool> allPools = new java.util.ArrayList<>(pools.values());
      if (!pools.containsKey(Pool.DEFAULT)) {
        allPools.addFirst(Pool.builder(Pool.DEFAULT).algorithm(algorithm).build());
      }
      validateMode(allPools);
      HealthCheck check = healthCheck;
      if (check == null) {
        // a TCP backend need not speak HTTP: TCP mode checks that it accepts connections
        HealthCheck defaults = HealthCheck.defaults();
        check = mode == Mode.TCP
            ? HealthCheck.builder().type(HealthCheck.Type.TCP).interval(defaults.interval()).timeout(defaults.timeout())
                .jitter(defaults.jitter()).rise(defaults.rise()).fall(defaults.fall()).build()
            : defaults;
      }
      BalancerCore core = new BalancerCore(new BalancerCore.Settings(listen, admin, algorithm, check, retries,
          connectTimeout, responseTimeout, maxContentLengthBytes, maxConnectionsPerBackend, maxQueuedPerBackend,
          backendIdleTimeout, clientIdleTimeout, shutdownTimeout, ioThreads, telemetry, healthCheckScheduler,
          retryIdempotent, retryBudgetPercent, requestHeaderTimeout,
          new ClientProtocols(http2, http2MaxConcurrentStreams, tlsCertificate, tlsKey)));
      try {
        core.configureListener(new ListenerOptions(mode, acceptProxyProtocol));
        core.configureRouting(allPools, routes, stickySecret, adminToken);
        backends.forEach((name, address) -> core.addBackend(name, address,
            backendWeights.getOrDefault(name, 1), backendPools.getOrDefault(name, Pool.DEFAULT)));
      } catch (RuntimeException e) {
        core.close();
        throw e;
      }
      return new LoadBalancer(core);
    }

    private void validateMode(List<Pool> allPools) {
      if (mode == Mode.TCP && tlsCertificate != null) {
        throw new IllegalArgumentException("tls: " + tlsCertificate
            + " (expected: none in tcp mode; TCP mode relays bytes as they are, TLS included)");
      }
      if (mode == Mode.TCP && !routes.isEmpty()) {
        throw new IllegalArgumentException("routes: " + routes.size()
            + " (expected: none in tcp mode; content switching needs HTTP requests, a TCP connection goes to the default pool)");
      }
      for (Pool pool : allPools) {
        String error = ListenerOptions.poolError(mode, pool);
        if (error != null) {
          throw new IllegalArgumentException(error);
        }
      }
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
      }
      return value;
    }

    private static InetAddress loopback(int a, int b, int c, int d) {
      try {
        return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
      } catch (UnknownHostException e) {
        // only thrown for an address of illegal length
        throw new IllegalStateException(e);
      }
    }
  }
}
