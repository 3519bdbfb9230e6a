package io.scalestack.balancer.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.scalestack.balancer.Algorithm;
import io.scalestack.balancer.OutlierDetection;
import io.scalestack.balancer.Pool;
import io.scalestack.balancer.Route;
import io.scalestack.balancer.Sticky;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The current backends by name, in the order they were added, grouped into {@link Pool pools};
 * the routes; and the choice of one backend for a request: route → pool → sticky pin → the
 * pool's algorithm.
 *
 * <p>{@link #select} is the single entry point of the proxy core. On a first attempt it matches
 * the routes against the request head (first match wins, else {@link Pool#DEFAULT}) and applies
 * the route's path rewrite to the head (the core sends that head on); a retry stays in the pool
 * of the backends already tried, without matching or rewriting again. {@link #onResponse} sees
 * each response head from a backend before it goes to the client: it counts it, feeds passive
 * health checking, and sets sticky cookies.
 *
 * <p>Thread-safe: changes are serialized on {@code this} and publish immutable snapshots
 * (backends, per-pool member lists, pools, routes) through volatile fields; {@link #select} and
 * {@link #onResponse} read them without locking.
 */
final class Membership {

  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  private final RoutingMetrics metrics;
  private final LongSupplier ticker;
  private final Map<String, Backend> byName = new LinkedHashMap<>(); // guarded by this
  private volatile List<Backend> snapshot = List.of();
  private volatile Map<String, PoolState> pools = Map.of();
  private volatile List<Route> routes = List.of();
  private volatile StickyIds stickyIds = new StickyIds(null);

  Membership(Algorithm defaultAlgorithm, MeterRegistry registry) {
    this(defaultAlgorithm, registry, System::nanoTime);
  }

  Membership(Algorithm defaultAlgorithm, MeterRegistry registry, LongSupplier ticker) {
    this.metrics = new RoutingMetrics(registry);
    this.ticker = ticker;
    putPool(Pool.builder(Pool.DEFAULT).algorithm(defaultAlgorithm).build());
  }

  // ---- configuration

  /**
   * Sets the pools (the default pool is kept when not among them), the routes and the sticky
   * secret (null for a random one).
   *
   * @throws IllegalArgumentException if a route names a pool that does not exist
   */
  synchronized void configure(List<Pool> newPools, List<Route> newRoutes, byte[] stickySecret) {
    for (Route route : newRoutes) {
      if (!pools.containsKey(route.pool()) && newPools.stream().noneMatch(p -> p.name().equals(route.pool()))) {
        throw new IllegalArgumentException("route: pool '" + route.pool() + "' (expected: one of "
            + poolNames(newPools) + ")");
      }
    }
    newPools.forEach(this::putPool);
    routes = List.copyOf(newRoutes);
    stickyIds = new StickyIds(stickySecret);
    byName.values().forEach(b -> b.stickyId(stickyIds.id(b.name())));
  }

  private String poolNames(List<Pool> extra) {
    List<String> names = new ArrayList<>(pools.keySet());
    extra.stream().map(Pool::name).filter(n -> !names.contains(n)).forEach(names::add);
    return String.join(", ", names);
  }

  /** Adds pool {@code pool} or replaces its settings (its backends stay); returns whether it is new. */
  synchronized boolean putPool(Pool pool) {
    PoolState existing = pools.get(pool.name());
    if (existing != null) {
      existing.configure(pool);
      log.info("pool {} is now {}", pool.name(), pool);
      return false;
    }
    PoolState state = new PoolState(pool, metrics.pool(pool.name()));
    Map<String, PoolState> copy = new LinkedHashMap<>(pools);
    copy.put(pool.name(), state);
    pools = java.util.Collections.unmodifiableMap(copy);
    refresh();
    return true;
  }

  /** Pool {@code name}'s settings, or null. */
  Pool pool(String name) {
    PoolState state = pools.get(name);
    return state == null ? null : state.config;
  }

  /** Every pool's settings, default first. */
  List<Pool> pools() {
    return pools.values().stream().map(p -> p.config).toList();
  }

  List<Route> routes() {
    return routes;
  }

  /** Whether pool {@code name} is panicking (for the admin API). */
  boolean panic(String name) {
    PoolState state = pools.get(name);
    return state != null && state.meters.panic();
  }

  /** The error message when {@code name} is not a pool, else null. */
  String poolError(String name) {
    String error = Pool.nameError(name);
    if (error != null) {
      return error;
    }
    return pools.containsKey(name) ? null
        : "pool: '" + name + "' (expected: one of " + String.join(", ", pools.keySet()) + ")";
  }

  // ---- backends

  synchronized Backend get(String name) {
    return byName.get(name);
  }

  /** Adds {@code backend}, replacing any backend of the same name; returns the replaced one. */
  synchronized Backend put(Backend backend) {
    backend.stickyId(stickyIds.id(backend.name()));
    Backend previous = byName.remove(backend.name());
    byName.put(backend.name(), backend);
    refresh();
    return previous;
  }

  /** Removes and returns the backend called {@code name}, or null. */
  synchronized Backend remove(String name) {
    Backend removed = byName.remove(name);
    if (removed != null) {
      refresh();
    }
    return removed;
  }

  /** Changes a backend's weight in place (its connections and counters stay). */
  synchronized void reweight(Backend backend, int weight) {
    if (byName.get(backend.name()) != backend) {
      return;
    }
    backend.weight(weight);
    refresh();
  }

  /** Every backend, in the order added. */
  List<Backend> all() {
    return snapshot;
  }

  // guarded by this: new lists for every pool, so that hash rings see the change
  private void refresh() {
    snapshot = List.copyOf(byName.values());
    for (PoolState state : pools.values()) {
      List<Backend> members = new ArrayList<>();
      for (Backend b : byName.values()) {
        if (b.poolName().equals(state.name)) {
          members.add(b);
        }
      }
      state.members = List.copyOf(members);
    }
  }

  // ---- the request path

  /**
   * A backend for the next attempt of a request: preferably one not in {@code tried} (a retry
   * goes to another backend when there is one), else any selectable one of the same pool; null
   * if none is selectable.
   */
  Backend select(Set<Backend> tried, RequestContext request) {
    Map<String, PoolState> current = pools;
    PoolState pool = null;
    boolean first = tried.isEmpty();
    if (!first) {
      pool = current.get(tried.iterator().next().poolName());
    } else if (request != null && request.head() != null) {
      pool = route(request.head(), current);
    }
    if (pool == null) {
      pool = current.get(Pool.DEFAULT);
    }
    return pool.select(tried, request, first);
  }

  /**
   * A response head from {@code backend} (null when the balancer answered itself) is about to go
   * to the client: counts it, feeds passive health checking, sets or prefixes sticky cookies.
   */
  void onResponse(RequestContext context, Backend backend, HttpResponse responseHead) {
    RequestContext request = context;
    HttpResponse response = responseHead;
    if (backend == null) {
      return;
    }
    PoolState pool = pools.get(backend.poolName());
    if (pool == null) {
      return;
    }
    int status = response.status().code();
    pool.meters.response(status);
    pool.outcome(backend, status);
    Sticky sticky = pool.config.sticky();
    if (sticky == null || request == null || request.head() == null) {
      return;
    }
    HttpHeaders headers = response.headers();
    String id = backend.stickyId();
    switch (sticky.mode()) {
      case INSERT_COOKIE -> {
        String presented = RequestParts.cookie(request.head().headers(), sticky.cookieName());
        if (presented == null || !StickyIds.matches(presented, id)) {
          // HAProxy's "insert indirect nocache": a shared cache must not hand one client's pin to others
          headers.add(HttpHeaderNames.SET_COOKIE, sticky.cookieName() + "=" + id + "; Path=/; HttpOnly");
          if (!headers.contains(HttpHeaderNames.CACHE_CONTROL)) {
            headers.set(HttpHeaderNames.CACHE_CONTROL, "private");
          }
        }
      }
      case PREFIX_COOKIE -> {
        List<String> setCookies = headers.getAll(HttpHeaderNames.SET_COOKIE);
        String prefix = sticky.cookieName() + "=";
        boolean changed = false;
        List<String> rewritten = new ArrayList<>(setCookies.size());
        for (String value : setCookies) {
          if (value.startsWith(prefix)) {
            rewritten.add(prefix + id + "~" + value.substring(prefix.length()));
            changed = true;
          } else {
            rewritten.add(value);
          }
        }
        if (changed) {
          headers.set(HttpHeaderNames.SET_COOKIE, rewritten);
        }
      }
      case SOURCE_IP -> { }
    }
  }

  /**
   * An attempt on {@code backend} failed without a response — connect failure, connection closed
   * before any response, response timeout: counts as an error for passive health checking.
   */
  void onAttemptFailure(Backend backend) {
    PoolState pool = pools.get(backend.poolName());
    if (pool != null) {
      pool.outcome(backend, Backend.CONNECT_FAILURE);
    }
  }

  private PoolState route(HttpRequest head, Map<String, PoolState> current) {
    List<Route> rs = routes;
    if (rs.isEmpty()) {
      return null;
    }
    String uri = head.uri();
    String path = RequestParts.path(uri);
    String host = RequestParts.host(head);
    for (int i = 0, n = rs.size(); i < n; i++) {
      Route route = rs.get(i);
      if (matches(route, head, path, host)) {
        PoolState pool = current.get(route.pool());
        if (pool == null) {
          continue;
        }
        if (route.rewriteFrom() != null && path.startsWith(route.rewriteFrom())) {
          head.setUri(rewrite(uri, path, route.rewriteFrom(), route.rewriteTo()));
        }
        return pool;
      }
    }
    return null;
  }

  private static boolean matches(Route route, HttpRequest head, String path, String host) {
    if (route.host() != null) {
      if (host == null) {
        return false;
      }
      String h = route.host();
      if (h.startsWith("*.") ? !host.endsWith(h.substring(1)) : !host.equals(h)) {
        return false;
      }
    }
    if (route.pathPrefix() != null && !path.startsWith(route.pathPrefix())) {
      return false;
    }
    if (route.pathRegex() != null && !route.pathRegex().matcher(path).matches()) {
      return false;
    }
    if (!route.methods().isEmpty() && !route.methods().contains(head.method().name())) {
      return false;
    }
    if (route.headerName() != null) {
      List<String> values = head.headers().getAll(route.headerName());
      if (values.isEmpty()) {
        return false;
      }
      if (route.headerValue() != null && values.stream().noneMatch(v -> route.headerValue().matcher(v).matches())) {
        return false;
      }
    }
    if (route.cookieName() != null) {
      String value = RequestParts.cookie(head.headers(), route.cookieName());
      if (value == null || (route.cookieValue() != null && !route.cookieValue().equals(value))) {
        return false;
      }
    }
    return true;
  }

  /** {@code uri} with {@code from} at the start of its path (which is {@code path}) replaced by {@code to}. */
  static String rewrite(String uri, String path, String from, String to) {
    String rest = path.substring(from.length());
    String newPath;
    if (to.endsWith("/") && rest.startsWith("/")) {
      newPath = to + rest.substring(1);
    } else {
      newPath = to + rest;
    }
    if (newPath.isEmpty()) {
      newPath = "/";
    } else if (!newPath.startsWith("/")) {
      newPath = "/" + newPath;
    }
    int pathStart = uri.startsWith("/") ? 0 : uri.indexOf('/', uri.indexOf("://") + 3);
    return uri.substring(0, pathStart) + newPath + uri.substring(pathStart + path.length());
  }

  /** One pool at run time: settings, selector, members, meters. Thread-safe as its owner. */
  private final class PoolState {
    final String name;
    final RoutingMetrics.PoolMeters meters;
    volatile Pool config;
    volatile BackendSelector selector;
    volatile HashSelector sourceSticky;
    volatile List<Backend> members = List.of();

    PoolState(Pool config, RoutingMetrics.PoolMeters meters) {
      this.name = config.name();
      this.meters = meters;
      configure(config);
    }

    void configure(Pool pool) {
      Pool previous = config;
      selector = previous != null && sameSelector(previous, pool) ? selector : BackendSelector.of(pool, meters::repin);
      sourceSticky = HashSelector.sourceIp(0, meters::repin);
      config = pool;
    }

    private static boolean sameSelector(Pool a, Pool b) {
      return a.algorithm() == b.algorithm() && java.util.Objects.equals(a.hashKey(), b.hashKey())
          && a.hashLoadFactor() == b.hashLoadFactor();
    }

    Backend select(Set<Backend> tried, RequestContext request, boolean first) {
      List<Backend> all = members;
      Pool pool = config;
      int n = all.size();
      List<Backend> eligible = new ArrayList<>(n);
      List<Backend> any = new ArrayList<>(n);
      int healthy = 0;
      for (int i = 0; i < n; i++) {
        Backend b = all.get(i);
        if (b.selectable()) {
          healthy++;
          any.add(b);
          if (!tried.contains(b)) {
            eligible.add(b);
          }
        }
      }
      int threshold = pool.panicThresholdPercent();
      boolean panic = threshold > 0 && n > 0 && healthy * 100 < threshold * n;
      meters.panic(panic);
      if (panic) {
        // Envoy: better some requests to servers that may be down than all to the few healthy ones
        eligible.clear();
        any.clear();
        for (int i = 0; i < n; i++) {
          Backend b = all.get(i);
          if (b.usableInPanic()) {
            any.add(b);
            if (!tried.contains(b)) {
              eligible.add(b);
            }
          }
        }
      }
      if (eligible.isEmpty()) {
        if (any.isEmpty()) {
          return null;
        }
        eligible = any;
      }
      Candidates candidates = new Candidates(all, eligible, pool.slowStart().toNanos(), ticker.getAsLong(), first);
      Sticky sticky = pool.sticky();
      // source stickiness needs only the client address (a TCP connection has no request head)
      if (sticky != null && request != null) {
        switch (sticky.mode()) {
          case SOURCE_IP -> {
            return sourceSticky.select(candidates, request);
          }
          case INSERT_COOKIE, PREFIX_COOKIE -> {
            if (first && request.head() != null) {
              Backend pinned = pinned(sticky, request.head(), all);
              if (pinned != null) {
                if (candidates.isEligible(pinned)) {
                  return pinned;
                }
                meters.repin();
                log.debug("pool {}: pinned backend {} is {}, re-pinning", name, pinned.name(), pinned.state());
              }
            }
          }
        }
      }
      return selector.select(candidates, request);
    }

    /** The backend a sticky cookie pins, or null; strips the prefix of a prefixed cookie. */
    private Backend pinned(Sticky sticky, HttpRequest head, List<Backend> all) {
      String value = RequestParts.cookie(head.headers(), sticky.cookieName());
      if (value == null) {
        return null;
      }
      String id = value;
      if (sticky.mode() == Sticky.Mode.PREFIX_COOKIE) {
        int tilde = value.indexOf('~');
        if (tilde < 0) {
          return null;
        }
        id = value.substring(0, tilde);
        stripPrefix(head.headers(), sticky.cookieName(), value, value.substring(tilde + 1));
      }
      String backendName = StickyIds.name(id);
      if (backendName == null) {
        return null;
      }
      for (int i = 0, n = all.size(); i < n; i++) {
        Backend b = all.get(i);
        if (b.name().equals(backendName)) {
          return StickyIds.matches(id, b.stickyId()) ? b : null;
        }
      }
      // pinned to a backend no longer in the pool: the selector picks, the response re-pins
      meters.repin();
      return null;
    }

    // the application must see its own session id, not ours (HAProxy's prefix mode)
    private void stripPrefix(HttpHeaders headers, String cookie, String prefixed, String plain) {
      List<String> fields = headers.getAll(HttpHeaderNames.COOKIE);
      List<String> rewritten = new ArrayList<>(fields.size());
      String from = cookie + "=" + prefixed;
      String to = cookie + "=" + plain;
      for (String field : fields) {
        rewritten.add(field.replace(from, to));
      }
      headers.set(HttpHeaderNames.COOKIE, rewritten);
    }

    /** Passive health checking: an error run long enough ejects the backend, within the pool's cap. */
    void outcome(Backend backend, int status) {
      OutlierDetection detection = config.outlierDetection();
      if (detection == null) {
        return;
      }
      int run = backend.recordOutcome(status);
      if (run < detection.consecutiveErrors()) {
        return;
      }
      long nanos;
      synchronized (this) {
        List<Backend> all = members;
        int ejected = 0;
        for (Backend b : all) {
          if (b.ejected()) {
            ejected++;
          }
        }
        int cap = Math.max(1, all.size() * detection.maxEjectionPercent() / 100);
        if (ejected >= cap) {
          log.debug("pool {}: not ejecting {} after {} errors: {} of {} already ejected", name, backend.name(), run,
              ejected, all.size());
          return;
        }
        nanos = backend.ejectOutlier(detection.baseEjectionTime().toNanos(), detection.maxEjectionTime().toNanos());
      }
      if (nanos > 0) {
        meters.ejection(backend.name());
        log.warn("backend {} ejected for {} ms after {} consecutive errors (ejection {})", backend,
            nanos / 1_000_000, run, backend.outlierEjections());
      }
    }
  }
}
