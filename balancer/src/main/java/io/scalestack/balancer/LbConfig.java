package io.scalestack.balancer;

import io.scalestack.balancer.internal.HostPortParser;
import io.scalestack.balancer.internal.ListenerOptions;
import io.scalestack.balancer.internal.YamlMap;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Reads {@code lb.yaml}, the standalone balancer's configuration (the counterpart of {@code
 * haproxy.cfg}), into a {@link LoadBalancer.Builder}. Every key is optional; an unknown key or a
 * bad value is an {@link LbConfigException} naming file, line, field, value and what was expected.
 *
 * <pre>
 * listen: 127.0.0.1:18082
 * mode: http                    # or tcp: relay connections (no routes; see Mode)
 * acceptProxyProtocol: false    # true: every connection starts with a PROXY protocol v1/v2 header
 * admin: {listen: 127.0.0.1:18404, token: change-me-0123456789}
 * tls: {certificate: lb.crt, key: lb.key}   # PEM; relative to the file; ALPN h2 and http/1.1
 * http2: {enabled: true, maxConcurrentStreams: 128}   # h2c with prior knowledge, h2 over TLS
 * ioThreads: 4
 * retries: 3
 * retryIdempotent: true         # also retry GET, PUT, DELETE… whose backend died before answering
 * retryBudgetPercent: 20        # retries at most this share of requests
 * requestHeaderTimeout: 10s     # slowloris: 408 when the request head takes longer
 * connectTimeout: 3s            # durations: 500ms, 30s, 5m, 1h or ISO-8601
 * responseTimeout: 30s
 * stickySecret: a-long-random-secret-string
 * healthCheck: {type: http, path: /health, interval: 1s, jitter: 0.1, timeout: 1s, rise: 2, fall: 2}  # type: tcp by default in tcp mode
 * pools:
 *   default:
 *     algorithm: round-robin    # least-connections, response-time, random, source-hash, hash, bandwidth
 *     backends:
 *       - {name: web-1, address: 127.0.1.11:8080, weight: 2}
 *       - {name: web-2, address: 127.0.1.12:8080}
 *   api:
 *     algorithm: hash
 *     hashKey: header:X-User    # cookie:NAME, query:NAME, path
 *     hashLoadFactor: 1.25
 *     sticky: insert:SRV        # prefix:JSESSIONID, source
 *     slowStart: 30s
 *     panicThresholdPercent: 50
 *     outlierDetection: {consecutiveErrors: 5, baseEjectionTime: 30s, maxEjectionTime: 5m, maxEjectionPercent: 10}
 *     healthCheck: {type: tcp, interval: 2s}   # this pool's own check (default: the top-level one)
 *     sendProxyProtocol: v2     # or v1; tcp mode only: a PROXY header first on each backend connection
 *     backends:
 *       - {name: api-1, address: 127.0.1.21:8080}
 * routes:                       # first match wins; no match: the default pool
 *   - {pool: api, pathPrefix: /api/, stripPrefix: /api}
 *   - {pool: api, host: "*.api.example", methods: [GET, HEAD]}
 *   - {pool: api, header: X-Canary, headerValue: "yes|true"}
 *   - {pool: api, cookie: tier, cookieValue: beta, pathRegex: "/v[0-9]+/.*"}
 *   - {pool: api, pathPrefix: /v1/, rewritePrefix: {from: /v1/, to: /legacy/v1/}}
 * </pre>
 *
 * <p>Stateless; thread-safe.
 */
public final class LbConfig {

  private LbConfig() {}

  /** Reads {@code file}; a missing file is an error. */
  public static LoadBalancer.Builder load(Path file) {
    return load(file, parent(file));
  }

  private static Path parent(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    return parent != null ? parent : Path.of(".");
  }

  private static LoadBalancer.Builder load(Path file, Path directory) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new LbConfigException(file.toString(), 0, "", "no such file (expected: a readable YAML file)");
    } catch (IOException e) {
      throw new LbConfigException(file.toString(), 0, "", "cannot be read: " + e.getMessage()
          + " (expected: a readable YAML file)");
    }
    return parse(file.toString(), text, directory);
  }

  /**
   * Parses YAML {@code text}; {@code source} names it in errors; relative file names (the TLS
   * certificate and key) are relative to the working directory.
   */
  public static LoadBalancer.Builder parse(String source, String text) {
    return parse(source, text, Path.of(""));
  }

  private static LoadBalancer.Builder parse(String source, String text, Path directory) {
    YamlMap top = YamlMap.parse(source, text);
    LoadBalancer.Builder builder = LoadBalancer.builder();
    top.text("listen", v -> builder.listen(listenAddress("listen", v)));
    Mode[] mode = {Mode.HTTP};
    top.text("mode", v -> builder.mode(mode[0] = Mode.parse(v)));
    top.bool("acceptProxyProtocol", builder::acceptProxyProtocol);
    YamlMap admin = top.map("admin");
    admin.text("listen", v -> builder.adminListen(listenAddress("listen", v)));
    admin.text("token", builder::adminToken);
    admin.finish();
    if (top.has("tls")) {
      YamlMap tls = top.map("tls");
      String certificate = tls.string("certificate");
      String key = tls.string("key");
      if (certificate == null || key == null) {
        throw tls.error("certificate and key: missing (expected: {certificate: lb.crt, key: lb.key}, PEM files)");
      }
      tls.text("certificate", v -> readable(directory, v));
      tls.text("key", v -> builder.tls(readable(directory, certificate), readable(directory, v)));
      tls.finish();
    }
    YamlMap http2 = top.map("http2");
    if (mode[0] == Mode.TCP && top.has("http2")) {
      throw http2.error("set in tcp mode (expected: no http2 in tcp mode; it relays bytes as they are, HTTP/2 included)");
    }
    http2.bool("enabled", builder::http2);
    http2.integer("maxConcurrentStreams", v -> {
      if (v < 1 || v > 65535) {
        throw new IllegalArgumentException("maxConcurrentStreams: " + v + " (expected: 1..65535)");
      }
      builder.http2MaxConcurrentStreams(v);
    });
    http2.finish();
    top.integer("ioThreads", builder::ioThreads);
    top.integer("retries", builder::retries);
    top.bool("retryIdempotent", builder::retryIdempotent);
    top.integer("retryBudgetPercent", builder::retryBudgetPercent);
    top.integer("maxConnectionsPerBackend", builder::maxConnectionsPerBackend);
    top.integer("maxQueuedPerBackend", builder::maxQueuedPerBackend);
    top.integer("maxContentLengthBytes", builder::maxContentLengthBytes);
    top.duration("connectTimeout", builder::connectTimeout);
    top.duration("requestHeaderTimeout", builder::requestHeaderTimeout);
    top.duration("responseTimeout", builder::responseTimeout);
    top.duration("backendIdleTimeout", builder::backendIdleTimeout);
    top.duration("clientIdleTimeout", builder::clientIdleTimeout);
    top.duration("shutdownTimeout", builder::shutdownTimeout);
    top.text("stickySecret", v -> builder.stickySecret(v.getBytes(StandardCharsets.UTF_8)));
    if (top.has("healthCheck")) {
      builder.healthCheck(healthCheck(top.map("healthCheck"), mode[0]));
    }
    YamlMap pools = top.map("pools");
    java.util.Set<String> poolNames = new java.util.LinkedHashSet<>();
    poolNames.add(Pool.DEFAULT);
    for (String name : pools.keys()) {
      poolNames.add(name);
      YamlMap p = pools.map(name);
      String nameError = Pool.nameError(name);
      if (nameError != null) {
        throw p.error("'" + name + "' (expected: 1 to 64 characters of A-Z a-z 0-9 . _ -)");
      }
      builder.pool(pool(name, p, mode[0]));
      for (YamlMap b : p.maps("backends")) {
        backend(builder, name, b);
      }
      p.finish();
    }
    List<YamlMap> routes = top.maps("routes");
    if (mode[0] == Mode.TCP && !routes.isEmpty()) {
      throw routes.getFirst().error("routes: " + routes.size()
          + " (expected: none in tcp mode; content switching needs HTTP requests, a TCP connection goes to the default pool)");
    }
    for (YamlMap r : routes) {
      builder.route(route(r, poolNames));
    }
    top.finish();
    return builder;
  }

  private static Path readable(Path directory, String name) {
    Path file = directory.resolve(name.strip());
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException("'" + name + "' (expected: a readable PEM file)");
    }
    return file;
  }

  private static InetSocketAddress address(String field, String value) {
    return HostPortParser.parse(field, value);
  }

  // a listener may ask for port 0 (any free port); a host name is resolved here, not on an event loop
  private static InetSocketAddress listenAddress(String field, String value) {
    String v = value.strip();
    boolean anyPort = v.endsWith(":0");
    InetSocketAddress parsed = HostPortParser.parse(field, anyPort ? v.substring(0, v.length() - 1) + "1" : v);
    InetSocketAddress resolved = parsed.isUnresolved()
        ? new InetSocketAddress(parsed.getHostString(), parsed.getPort())
        : parsed;
    if (resolved.isUnresolved()) {
      throw new IllegalArgumentException(field + ": '" + value + "' (expected: host:port with a resolvable host)");
    }
    return anyPort ? new InetSocketAddress(resolved.getAddress(), 0) : resolved;
  }

  // the type defaults to the mode's: a TCP backend need not speak HTTP
  private static HealthCheck healthCheck(YamlMap hc, Mode mode) {
    HealthCheck.Builder b = HealthCheck.builder();
    if (mode == Mode.TCP) {
      b.type(HealthCheck.Type.TCP);
    }
    hc.text("type", v -> b.type(switch (v.strip().toLowerCase(Locale.ROOT)) {
      case "http" -> HealthCheck.Type.HTTP;
      case "tcp" -> HealthCheck.Type.TCP;
      default -> throw new IllegalArgumentException("type: '" + v + "' (expected: http or tcp)");
    }));
    hc.text("path", b::path);
    hc.duration("interval", b::interval);
    hc.duration("timeout", b::timeout);
    hc.decimal("jitter", b::jitter);
    hc.integer("rise", b::rise);
    hc.integer("fall", b::fall);
    hc.finish();
    return b.build();
  }

  private static Pool pool(String name, YamlMap p, Mode mode) {
    Pool.Builder b = Pool.builder(name);
    p.text("algorithm", v -> b.algorithm(Algorithm.parse(v)));
    p.text("hashKey", v -> b.hashKey(HashKey.parse(v)));
    p.decimal("hashLoadFactor", b::hashLoadFactor);
    p.text("sticky", v -> b.sticky(Sticky.parse(v)));
    p.duration("slowStart", b::slowStart);
    p.integer("panicThresholdPercent", b::panicThresholdPercent);
    p.text("sendProxyProtocol", v -> {
      if (!v.strip().equalsIgnoreCase("off")) {
        b.sendProxyProtocol(ProxyProtocol.parse(v));
      }
    });
    if (p.has("outlierDetection")) {
      YamlMap o = p.map("outlierDetection");
      OutlierDetection.Builder ob = OutlierDetection.builder();
      o.integer("consecutiveErrors", ob::consecutiveErrors);
      o.duration("baseEjectionTime", ob::baseEjectionTime);
      o.duration("maxEjectionTime", ob::maxEjectionTime);
      o.integer("maxEjectionPercent", ob::maxEjectionPercent);
      o.finish();
      try {
        b.outlierDetection(ob.build());
      } catch (IllegalArgumentException e) {
        throw p.rejected("outlierDetection", e);
      }
    }
    if (p.has("healthCheck")) {
      b.healthCheck(healthCheck(p.map("healthCheck"), mode));
    }
    Pool pool;
    try {
      pool = b.build();
    } catch (IllegalArgumentException e) {
      throw p.error(e.getMessage());
    }
    String modeError = ListenerOptions.poolError(mode, pool);
    if (modeError != null) {
      throw p.error(modeError);
    }
    return pool;
  }

  private static void backend(LoadBalancer.Builder builder, String pool, YamlMap b) {
    String name = b.string("name");
    String address = b.string("address");
    if (name == null) {
      throw b.error("name: missing (expected: a backend name such as web-1)");
    }
    if (address == null) {
      throw b.error("address: missing (expected: host:port)");
    }
    int[] weight = {1};
    b.integer("weight", w -> {
      if (w < 1 || w > 256) {
        throw new IllegalArgumentException("weight: " + w + " (expected: 1..256)");
      }
      weight[0] = w;
    });
    InetSocketAddress[] parsed = new InetSocketAddress[1];
    b.text("address", v -> parsed[0] = address("address", v));
    b.text("name", v -> builder.backend(v, parsed[0], weight[0], pool));
    b.finish();
  }

  private static Route route(YamlMap r, java.util.Set<String> poolNames) {
    String pool = r.string("pool");
    if (pool == null) {
      throw r.error("pool: missing (expected: the name of a pool)");
    }
    Route.Builder[] b = new Route.Builder[1];
    r.text("pool", v -> {
      if (!poolNames.contains(v)) {
        throw new IllegalArgumentException("pool: '" + v + "' (expected: one of " + String.join(", ", poolNames) + ")");
      }
      b[0] = Route.to(v);
    });
    r.text("host", v -> b[0].host(v));
    r.text("pathPrefix", v -> b[0].pathPrefix(v));
    r.text("pathRegex", v -> b[0].pathRegex(v));
    String headerValue = r.string("headerValue");
    r.text("header", v -> {
      if (headerValue == null) {
        b[0].header(v);
      } else {
        b[0].header(v, headerValue);
      }
    });
    String cookieValue = r.string("cookieValue");
    r.text("cookie", v -> {
      if (cookieValue == null) {
        b[0].cookie(v);
      } else {
        b[0].cookie(v, cookieValue);
      }
    });
    List<String> methods = r.strings("methods");
    if (!methods.isEmpty()) {
      try {
        b[0].methods(methods.toArray(String[]::new));
      } catch (IllegalArgumentException e) {
        throw r.rejected("methods", e);
      }
    }
    r.text("stripPrefix", v -> b[0].stripPrefix(v));
    if (r.has("rewritePrefix")) {
      YamlMap rw = r.map("rewritePrefix");
      String from = rw.string("from");
      String to = rw.string("to");
      if (from == null || to == null) {
        throw rw.error("from and to: missing (expected: {from: /old/, to: /new/})");
      }
      rw.text("from", v -> b[0].rewritePrefix(from, to));
      rw.finish();
    }
    r.finish();
    return b[0].build();
  }
}
