package io.scalestack.edge;

import io.scalestack.edge.internal.EdgeCore;
import io.scalestack.observability.Telemetry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * A CDN edge: a caching HTTP/1.1 reverse proxy in front of one origin, as a shared cache per RFC
 * 9111 with the stale extensions of RFC 5861.
 *
 * <ul>
 *   <li>GET and HEAD are answered from the cache by the origin's {@code Cache-Control}
 *       ({@code s-maxage}, {@code max-age}, {@code no-store}, {@code private}, {@code no-cache},
 *       {@code must-revalidate}, {@code proxy-revalidate}) and {@code Expires}; explicit freshness
 *       only, no heuristics. {@code Vary} selects among stored variants; {@code Vary: *} is never
 *       stored. Stale entries are revalidated with {@code If-None-Match}/{@code If-Modified-Since};
 *       a 304 refreshes the stored headers. Clients' own conditionals are answered from the cache.
 *   <li>Client request directives ({@code Cache-Control: no-cache}, {@code max-age=0}, {@code
 *       Pragma}) are ignored, as Varnish and nginx do by default: a client cannot force origin
 *       traffic through the edge. Requests with {@code Authorization} or {@code Range} pass
 *       through unstored.
 *   <li>Concurrent misses (and revalidations) of one key make one origin request; the others wait
 *       up to the coalescing timeout (default 5 s, nginx's {@code proxy_cache_lock_timeout}) and
 *       get the stored result, or go to the origin themselves when it was not storable.
 *   <li>{@code stale-while-revalidate}: served stale at once, one background revalidation.
 *       {@code stale-if-error}: served stale when the origin is unreachable or answers 5xx.
 *   <li>Other methods pass through uncached; a non-error answer invalidates the URL (§4.4).
 *   <li>Purge by URL (every variant) and by surrogate key ({@code Surrogate-Key}) on the admin
 *       listener with {@code Authorization: Bearer <purgeToken>}; disabled without a token.
 *   <li>Memory bounded by {@code maxMemoryBytes} (W-TinyLFU eviction); evicted objects go to the
 *       optional disk tier, itself bounded. Objects over {@code maxObjectBytes} stream through.
 * </ul>
 *
 * <p>Thread-safe. {@link #close()} blocks and must not be called from an event loop.
 */
public final class EdgeServer implements AutoCloseable {

  private final EdgeCore core;
  private boolean started;

  private EdgeServer(EdgeCore core) {
    this.core = core;
  }

  /** A builder with the defaults: 256 MiB memory, 8 MiB max object, no disk tier, no purge API. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the client listener (and the admin listener, if configured).
   *
   * @throws RuntimeException if an address cannot be bound (then the server is closed)
   */
  public synchronized EdgeServer start() {
    if (started) {
      throw new IllegalStateException("edge: already started");
    }
    started = true;
    core.start();
    return this;
  }

  /** The bound client address (after {@link #start()}). */
  public InetSocketAddress address() {
    return core.address();
  }

  /** The bound admin address, or null without an admin listener. */
  public InetSocketAddress adminAddress() {
    return core.adminAddress();
  }

  /** Requests sent to the origin since start. */
  public long originRequests() {
    return core.originRequests();
  }

  /** Objects in the memory tier now. */
  public long objects() {
    return core.objects();
  }

  /** Weighted bytes (heads, bodies, bookkeeping) in the memory tier now. */
  public long memoryBytes() {
    return core.memoryBytes();
  }

  @Override
  public void close() {
    core.close();
  }

  /** Validating builder of an {@link EdgeServer}. Not thread-safe; build once. */
  public static final class Builder {
    private InetSocketAddress listen = new InetSocketAddress("127.0.0.1", 18083);
    private InetSocketAddress adminListen;
    private URI origin;
    private long maxMemoryBytes = 256L << 20;
    private int maxObjectBytes = 8 << 20;
    private Path diskDirectory;
    private long maxDiskBytes;
    private String purgeToken;
    private Clock clock = Clock.systemUTC();
    private Telemetry telemetry;
    private int ioThreads = Runtime.getRuntime().availableProcessors();
    private Duration originTimeout = Duration.ofSeconds(30);
    private Duration coalesceTimeout = Duration.ofSeconds(5);
    private Duration clientIdleTimeout = Duration.ofSeconds(60);
    private int maxRequestBodyBytes = 1 << 20;

    private Builder() {}

    /** The client listener (default 127.0.0.1:18083; port 0 for any free port). */
    public Builder listen(InetSocketAddress address) {
      this.listen = Objects.requireNonNull(address, "listen");
      return this;
    }

    /** The admin listener: {@code /health}, {@code /metrics}, {@code /purge} (default none). */
    public Builder adminListen(InetSocketAddress address) {
      this.adminListen = address;
      return this;
    }

    /** The origin, {@code http://host:port} (required; no path, no TLS). */
    public Builder origin(URI uri) {
      Objects.requireNonNull(uri, "origin");
      if (!"http".equalsIgnoreCase(uri.getScheme()) || uri.getHost() == null
          || (uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
          || uri.getRawQuery() != null || uri.getRawUserInfo() != null) {
        throw new IllegalArgumentException("origin: '" + uri + "' (expected: http://host[:port])");
      }
      this.origin = uri;
      return this;
    }

    /** The origin as text, {@code http://host:port}. */
    public Builder origin(String uri) {
      Objects.requireNonNull(uri, "origin");
      try {
        return origin(new URI(uri.strip()));
      } catch (java.net.URISyntaxException e) {
        throw new IllegalArgumentException("origin: '" + uri + "' (expected: http://host[:port])", e);
      }
    }

    /** The memory tier's bound on stored bytes (default 256 MiB; at least 1 MiB). */
    public Builder maxMemoryBytes(long bytes) {
      if (bytes < (1 << 20)) {
        throw new IllegalArgumentException("maxMemoryBytes: " + bytes + " (expected: at least 1048576)");
      }
      this.maxMemoryBytes = bytes;
      return this;
    }

    /** The largest body stored; larger responses stream through unstored (default 8 MiB). */
    public Builder maxObjectBytes(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxObjectBytes: " + bytes + " (expected: at least 1024)");
      }
      this.maxObjectBytes = bytes;
      return this;
    }

    /** The disk tier: a directory of its own (its {@code *.edge} files are deleted at start) and its bound. */
    public Builder disk(Path directory, long maxBytes) {
      Objects.requireNonNull(directory, "disk directory");
      if (maxBytes < (1 << 20)) {
        throw new IllegalArgumentException("maxDiskBytes: " + maxBytes + " (expected: at least 1048576)");
      }
      this.diskDirectory = directory;
      this.maxDiskBytes = maxBytes;
      return this;
    }

    /** The bearer token of the purge API (without one, purging is disabled). */
    public Builder purgeToken(String token) {
      if (token != null && (token.isBlank() || token.length() < 8 || !token.strip().equals(token))) {
        throw new IllegalArgumentException("purgeToken: (expected: at least 8 characters, no surrounding spaces)");
      }
      this.purgeToken = token;
      return this;
    }

    /** The clock that ages stored responses (default the system UTC clock; tests inject one). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where the metrics go (default a {@code Telemetry.forMember("edge")} of its own, closed with the server). */
    public Builder telemetry(Telemetry telemetry) {
      this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
      return this;
    }

    /** Event-loop threads (default the number of cores). */
    public Builder ioThreads(int threads) {
      if (threads < 1 || threads > 256) {
        throw new IllegalArgumentException("ioThreads: " + threads + " (expected: 1..256)");
      }
      this.ioThreads = threads;
      return this;
    }

    /** How long the origin may stay silent during an exchange (default 30 s). */
    public Builder originTimeout(Duration timeout) {
      this.originTimeout = positive("originTimeout", timeout);
      return this;
    }

    /** How long a coalesced request waits for the one origin request (default 5 s). */
    public Builder coalesceTimeout(Duration timeout) {
      this.coalesceTimeout = positive("coalesceTimeout", timeout);
      return this;
    }

    /** Idle keep-alive client connections are closed after this (default 60 s). */
    public Builder clientIdleTimeout(Duration timeout) {
      this.clientIdleTimeout = positive("clientIdleTimeout", timeout);
      return this;
    }

    private static Duration positive(String name, Duration d) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + ": " + d + " (expected: positive)");
      }
      return d;
    }

    /** The edge, not yet started. */
    public EdgeServer build() {
      if (origin == null) {
        throw new IllegalArgumentException("origin: missing (expected: http://host[:port])");
      }
      int port = origin.getPort() < 0 ? 80 : origin.getPort();
      String host = origin.getHost();
      String authority = origin.getPort() < 0 ? host : host + ":" + port;
      boolean own = telemetry == null;
      Telemetry t = own ? Telemetry.forMember("edge") : telemetry;
      String unbracketed = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
      return new EdgeServer(new EdgeCore(new EdgeCore.Settings(listen, adminListen,
          new InetSocketAddress(unbracketed.toLowerCase(Locale.ROOT), port), authority, maxMemoryBytes, maxObjectBytes,
          diskDirectory, maxDiskBytes, purgeToken, clock, t, ioThreads, originTimeout, coalesceTimeout,
          clientIdleTimeout, maxRequestBodyBytes), own));
    }
  }
}
