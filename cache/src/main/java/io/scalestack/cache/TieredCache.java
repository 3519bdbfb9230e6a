package io.scalestack.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scalestack.cache.internal.CacheMetrics;
import io.scalestack.cache.internal.Envelope;
import io.scalestack.cache.internal.HotKeySketch;
import io.scalestack.cache.internal.InvalidationSequence;
import io.scalestack.cache.internal.RedisTier;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cache-aside tier for one kind of value (a web server's profiles, say): a Caffeine L1 in this
 * server's memory in front of Redis, shared by every server, in front of the database (the
 * {@link Loader}). {@link #get} reads L1, then Redis, then loads; writers call {@link #invalidate}
 * after their database commit.
 *
 * <ul>
 *   <li><b>One load per key.</b> Within this server, concurrent misses of a key wait for one
 *       load (single flight). Across servers, the first miss takes a lease in Redis (like
 *       memcache's leases): only the holder loads; the others wait for its value (polling, bounded)
 *       or, if the key has just expired, are served the previous value, which Redis keeps for
 *       {@code staleGrace}. A lease expires after {@code leaseTimeout}, so a holder that dies only
 *       delays the others that long.
 *   <li><b>No stale set.</b> The holder's fill succeeds only while its lease holds its token, and
 *       an invalidation deletes the value and the lease: a load that started before the write
 *       cannot put its old value back into Redis. L1 puts are refused if the key was invalidated
 *       (by a message) since the reader started.
 *   <li><b>Coherent L1s.</b> Every invalidation is published; each server drops the key from L1.
 *       Pub/sub delivers at most once: a lost message leaves an old value in some L1 for at most
 *       {@code l1Ttl}; after a broken subscription (or a Redis outage), L1 is cleared.
 *   <li><b>Early refresh.</b> A read of a value close to its expiry reloads it in the background
 *       with probability growing as expiry nears (XFetch: when {@code now − delta·β·ln(rand) ≥
 *       expiry}, delta being the last load's duration); the readers keep the current value.
 *   <li><b>Hot keys.</b> A count-min sketch finds this server's hottest keys; they are pinned in
 *       L1 (not evicted by size) and refreshed before their L1 entry expires: from Redis, or from
 *       the database (through the lease) once Redis's value is in the last quarter of its TTL.
 *   <li><b>Redis down.</b> Reads are still served: from L1, else from the loader (one load per
 *       key in this server); invalidations are kept and sent when Redis answers again.
 * </ul>
 *
 * <p>Values are shared by the readers of a server: they should be immutable. TTLs get a random
 * jitter (a TTL is in {@code [ttl·(1 − ttlJitter), ttl]}) so that keys loaded together do not expire
 * together. Expiry times are in the clock of the server that loaded the value (servers' clocks are
 * assumed close, as with NTP).
 *
 * <p>Metrics, tagged {@code cache=<name>} (Prometheus names): {@code
 * scalestack_cache_requests_total{tier=l1|l2,result=hit|miss}}, {@code
 * scalestack_cache_loads_total{result=success|failure}}, {@code scalestack_cache_load_seconds},
 * {@code scalestack_cache_evictions_total} (L1, size or expiry), {@code
 * scalestack_cache_invalidations_total} (calls on this server), {@code
 * scalestack_cache_stale_served_total}, {@code scalestack_cache_lease_waits_total}, {@code
 * scalestack_cache_refreshes_total} (loads ahead of expiry), {@code
 * scalestack_cache_fills_rejected_total} (stale sets prevented), and the gauges {@code
 * scalestack_cache_l1_entries} and {@code scalestack_cache_hot_keys}. One registry should hold
 * one instance of a given name.
 *
 * <p>Thread-safe. {@link #get} blocks (on Redis and on the loader): call it from virtual threads
 * or request threads, never from an event loop.
 *
 * @param <V> the type of the values
 */
public final class TieredCache<V> implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TieredCache.class);
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");
  private static final long POLL_FIRST_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
  private static final Duration DEFAULT_L1_TTL = Duration.ofSeconds(30);

  private final String name;
  private final CacheCodec<V> codec;
  private final long ttlMillis;
  private final double ttlJitter;
  private final long staleGraceMillis;
  private final long l1TtlMillis;
  private final long leaseTimeoutMillis;
  private final double beta;
  private final Clock clock;
  private final Executor executor;
  private final ExecutorService ownExecutor;
  private final Cache<String, L1Entry<V>> l1;
  private final ConcurrentHashMap<String, CompletableFuture<V>> inFlight = new ConcurrentHashMap<>();
  private final Set<String> refreshing = ConcurrentHashMap.newKeySet();
  private final InvalidationSequence sequence = new InvalidationSequence();
  private final HotKeySketch hot;
  private final CacheMetrics metrics;
  private final RedisTier redis;
  private final String tokenPrefix;
  private final AtomicLong tokens = new AtomicLong();
  private final AtomicLong invalidationsReceived = new AtomicLong();
  private volatile boolean closed;

  private TieredCache(Builder<V> b) {
    this.name = b.name;
    this.codec = b.codec;
    this.ttlMillis = b.ttl.toMillis();
    this.ttlJitter = b.ttlJitter;
    this.staleGraceMillis = b.staleGrace.toMillis();
    this.l1TtlMillis = (b.l1Ttl != null ? b.l1Ttl : min(DEFAULT_L1_TTL, b.ttl)).toMillis();
    this.leaseTimeoutMillis = b.leaseTimeout.toMillis();
    this.beta = b.earlyRefresh;
    this.clock = b.clock;
    this.ownExecutor = b.executor == null ? Executors.newThreadPerTaskExecutor(
        Thread.ofVirtual().name("cache-" + b.name + "-", 0).factory()) : null;
    this.executor = b.executor == null ? ownExecutor : b.executor;
    this.hot = b.hotKeys == 0 ? null : new HotKeySketch(4096, b.hotKeys, 32, 10_000, clock);
    this.l1 = Caffeine.newBuilder()
        .maximumWeight(b.l1MaxEntries)
        // weight 0: Caffeine never evicts the entry for size (pinned hot keys); expiry still applies
        .weigher((String key, L1Entry<V> entry) -> entry.pinned ? 0 : 1)
        .expireAfter(new L1Expiry<V>())
        .ticker(() -> TimeUnit.MILLISECONDS.toNanos(clock.millis()))
        // maintenance on the calling thread: no pool of Caffeine's own, deterministic under a test clock
        .executor(Runnable::run)
        .evictionListener((String key, L1Entry<V> entry, RemovalCause cause) -> evicted())
        .build();
    MeterRegistry registry = b.registry == null ? new SimpleMeterRegistry() : b.registry;
    this.metrics = new CacheMetrics(registry, name, () -> l1.estimatedSize(),
        () -> hot == null ? 0 : hot.hottest().size());
    String instance = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
    this.tokenPrefix = instance + ":";
    RedisClient client = b.client;
    ClientResources resources = null;
    if (client == null) {
      // reconnect attempts at most 2 s apart (Lettuce's default grows to 30 s): after an outage the
      // cache is back on Redis within about 2 s of Redis
      resources = DefaultClientResources.builder()
          .reconnectDelay(Delay.exponential(Duration.ofMillis(1), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
          .build();
      client = RedisClient.create(resources, RedisURI.create(b.uri));
      // fail fast while Redis is away instead of queueing commands until they time out
      client.setOptions(ClientOptions.builder()
          .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
          .socketOptions(SocketOptions.builder().connectTimeout(b.redisTimeout).build())
          .timeoutOptions(TimeoutOptions.enabled(b.redisTimeout))
          .build());
    }
    this.redis = new RedisTier(name, instance, client, resources, b.redisTimeout, executor,
        new RedisTier.Listener() {
          @Override
          public void invalidated(String key) {
            invalidationsReceived.incrementAndGet();
            // on the event loop: the count first (fills after it are refused), the dropping on the executor
            sequence.bump(key);
            if (!handOff(() -> dropLocally(key))) {
              dropLocally(key); // short map operations: acceptable here when the executor refuses
            }
          }

          @Override
          public void invalidatedAll() {
            sequence.bumpAll();
            Runnable clear = () -> {
              inFlight.clear();
              l1.invalidateAll();
            };
            if (!handOff(clear)) {
              clear.run();
            }
          }
        });
  }

  /** A builder of caches of values that {@code codec} stores in Redis. */
  public static <V> Builder<V> builder(CacheCodec<V> codec) {
    return new Builder<>(Objects.requireNonNull(codec, "codec"));
  }

  /** The cache's name (its metrics tag and Redis key prefix {@code c:<name>:}). */
  public String name() {
    return name;
  }

  /**
   * The value of {@code key}: from L1, else from Redis, else from {@code loader}, which then runs
   * on this thread unless another caller (here or on another server) is loading the key already;
   * this caller then waits for that load (or, if the key has just expired, gets the previous value).
   * Redis failures are not errors: the value is then loaded here.
   *
   * @return the value, or {@code null} if the loader found none (not cached)
   * @throws CacheLoadException if the loader threw a checked exception (unchecked ones are rethrown)
   */
  public V get(String key, Loader<V> loader) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(loader, "loader");
    if (closed) {
      throw new IllegalStateException("cache " + name + ": closed");
    }
    if (hot != null) {
      hot.record(key);
    }
    L1Entry<V> entry = l1.getIfPresent(key);
    if (entry != null) {
      metrics.l1Hits.increment();
      onL1Hit(key, entry, loader);
      return entry.value;
    }
    metrics.l1Misses.increment();
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> flight = inFlight.putIfAbsent(key, mine);
    if (flight != null) {
      return await(key, flight);
    }
    try {
      V value = fetch(key, loader);
      mine.complete(value);
      return value;
    } catch (RuntimeException | Error e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inFlight.remove(key, mine);
    }
  }

  /**
   * Drops {@code key} everywhere: from Redis (value and any lease, so that no load that started
   * before cannot fill its result) and from every server's L1 (by a message). Call it after the
   * database commit that changed the key's value. If Redis cannot be reached, it is done when Redis
   * answers again; L1 of this server is dropped at once either way. Never throws for Redis failures.
   */
  public void invalidate(String key) {
    Objects.requireNonNull(key, "key");
    if (closed) {
      throw new IllegalStateException("cache " + name + ": closed");
    }
    metrics.invalidations.increment();
    redis.invalidate(key);
    // after Redis: a reader here that starts now reads the new state of Redis, one that started
    // before sees the count change and does not put into L1
    sequence.bump(key);
    dropLocally(key);
  }

  /** The keys this server reads most, hottest first (pinned in L1 while hot). */
  public List<String> hotKeys() {
    return hot == null ? List.of() : hot.hottest();
  }

  /** Stops using Redis and the executor (if the cache made it) and removes the meters. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      redis.close();
    } finally {
      metrics.remove();
      l1.invalidateAll();
      if (ownExecutor != null) {
        ownExecutor.shutdown();
      }
    }
  }

  @Override
  public String toString() {
    return "TieredCache[" + name + "]";
  }

  // --- package-private views for the tests ------------------------------------------------------

  /** The value L1 holds for {@code key} (expired entries excluded), or null. */
  V peekL1(String key) {
    L1Entry<V> entry = l1.getIfPresent(key);
    return entry == null ? null : entry.value;
  }

  /** Whether L1 holds {@code key} pinned. */
  boolean pinnedInL1(String key) {
    L1Entry<V> entry = l1.getIfPresent(key);
    return entry != null && entry.pinned;
  }

  /** The Redis key of {@code key}'s value. */
  String redisValueKey(String key) {
    return redis.valueKey(key);
  }

  /** The Redis key of {@code key}'s lease. */
  String redisLeaseKey(String key) {
    return redis.leaseKey(key);
  }

  /** Invalidation messages received from other instances. */
  long invalidationsReceived() {
    return invalidationsReceived.get();
  }

  /** Invalidations waiting for Redis to answer. */
  int pendingInvalidations() {
    return redis.pendingInvalidations();
  }

  // --- the read path ----------------------------------------------------------------------------

  private void onL1Hit(String key, L1Entry<V> entry, Loader<V> loader) {
    long now = clock.millis();
    L1Entry<V> current = entry;
    if (hot != null) {
      boolean isHot = hot.isHot(key);
      if (isHot != entry.pinned) {
        // re-put to change the weight (pin or unpin); lost races are harmless, the next hit retries
        L1Entry<V> flipped = entry.withPinned(isHot);
        if (l1.asMap().replace(key, entry, flipped)) {
          current = flipped;
        }
      }
    }
    boolean early = xfetchDue(current.expiry, current.delta, now);
    boolean ahead = current.pinned && now >= current.refreshAfter;
    if ((early || ahead) && now >= current.notBefore) {
      // throttle: one attempt per entry per interval, whatever its outcome
      if (l1.asMap().replace(key, current, current.withNotBefore(now + refreshThrottleMillis()))) {
        refreshInBackground(key, loader, early, current.expiry);
      }
    }
  }

  /** The read of the single-flight leader after an L1 miss. */
  private V fetch(String key, Loader<V> loader) {
    long seq = sequence.current(key);
    L1Entry<V> entry = l1.getIfPresent(key);
    if (entry != null) {
      return entry.value; // a flight that just ended put it
    }
    if (redis.available()) {
      try {
        return fetchShared(key, loader, seq);
      } catch (RedisException e) {
        redis.failed(e);
      }
    }
    return loadAlone(key, loader, seq);
  }

  /**
   * One round trip answers a hit (a fresh value) or a miss (the lease, or someone else's lease and
   * perhaps the previous value); a miss without the lease polls until the value or the lease is
   * there, at most twice the lease timeout.
   */
  private V fetchShared(String key, Loader<V> loader, long seq) {
    String token = newToken();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * leaseTimeoutMillis);
    long pause = POLL_FIRST_NANOS;
    boolean first = true;
    while (true) {
      long now = clock.millis();
      RedisTier.Acquired acquired = redis.acquire(key, token, leaseTimeoutMillis, now, false);
      Envelope found = Envelope.decode(acquired.value());
      boolean fresh = !acquired.granted() && found != null && found.freshAt(now);
      if (first) {
        (fresh ? metrics.l2Hits : metrics.l2Misses).increment();
      }
      if (acquired.granted()) {
        return loadAndFill(key, loader, seq, token);
      }
      if (fresh) {
        V value = codec.decode(found.payload());
        putL1(key, value, found, seq, now);
        if (first && xfetchDue(found.expiry(), found.delta(), now)) {
          refreshInBackground(key, loader, true, found.expiry());
        }
        return value;
      }
      if (found != null) {
        // another server is loading it: the previous value now beats waiting (not put into L1)
        metrics.staleServed.increment();
        return codec.decode(found.payload());
      }
      if (first) {
        metrics.leaseWaits.increment();
      }
      first = false;
      if (System.nanoTime() - deadline >= 0) {
        // the holder is alive but slow beyond reason: load here, uncached, rather than fail the read
        log.debug("cache {}: gave up waiting for the lease on {}; loading without it", name, key);
        return load(key, loader);
      }
      sleep(key, pause + ThreadLocalRandom.current().nextLong(pause));
      pause = Math.min(POLL_MAX_NANOS, pause * 2);
    }
  }

  /** Loads as the lease holder, then fills Redis (if the lease still holds) and L1 (if that succeeded). */
  private V loadAndFill(String key, Loader<V> loader, long seq, String token) {
    long started = clock.millis();
    V value;
    try {
      value = load(key, loader);
    } catch (RuntimeException | Error e) {
      releaseQuietly(key, token);
      throw e;
    }
    if (value == null) {
      releaseQuietly(key, token);
      return null;
    }
    long now = clock.millis();
    Envelope envelope = new Envelope(now + jitteredTtl(), Math.max(0, now - started), codec.encode(value));
    boolean filled;
    try {
      filled = redis.fill(key, token, envelope.encode(), Math.max(1, envelope.expiry() - now + staleGraceMillis));
    } catch (RedisException e) {
      redis.failed(e);
      filled = true; // Redis is away: L1 alone, as when it was down from the start
    }
    if (filled) {
      putL1(key, value, envelope, seq, now);
    } else {
      // an invalidation (or the lease's expiry) overtook this load: its value must not be cached
      metrics.fillsRejected.increment();
    }
    return value;
  }

  /** Redis is down: load and keep in L1 only. */
  private V loadAlone(String key, Loader<V> loader, long seq) {
    long started = clock.millis();
    V value = load(key, loader);
    if (value != null) {
      long now = clock.millis();
      putL1(key, value, new Envelope(now + jitteredTtl(), Math.max(0, now - started), new byte[0]), seq, now);
    }
    return value;
  }

  /** Runs the loader, timed and counted; checked exceptions wrapped. */
  private V load(String key, Loader<V> loader) {
    long started = System.nanoTime();
    try {
      V value = loader.load(key);
      metrics.loadSuccesses.increment();
      return value;
    } catch (RuntimeException | Error e) {
      metrics.loadFailures.increment();
      throw e;
    } catch (InterruptedException e) {
      metrics.loadFailures.increment();
      Thread.currentThread().interrupt();
      throw new CacheLoadException("cache " + name + ": loading " + key + " was interrupted", e);
    } catch (Exception e) {
      metrics.loadFailures.increment();
      throw new CacheLoadException("cache " + name + ": loading " + key + " failed", e);
    } finally {
      metrics.loadTime.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Reloads {@code key} off the callers' threads, once per server at a time: with {@code force}
   * (XFetch said so) through the lease at once; else (a hot key's L1 entry, of a value expiring at
   * {@code known}, ages) from Redis if Redis has a newer value or one with at least a quarter of
   * the TTL left, through the lease otherwise. So a hot key costs about one load per three
   * quarters of its TTL, whichever server makes it, and the other servers take it from Redis.
   */
  private void refreshInBackground(String key, Loader<V> loader, boolean force, long known) {
    if (!refreshing.add(key)) {
      return;
    }
    boolean handed = handOff(() -> {
      try {
        refresh(key, loader, force, known);
      } catch (RuntimeException | Error e) {
        log.debug("cache {}: refreshing {} failed", name, key, e);
      } finally {
        refreshing.remove(key);
      }
    });
    if (!handed) {
      refreshing.remove(key);
    }
  }

  private void refresh(String key, Loader<V> loader, boolean force, long known) {
    long seq = sequence.current(key);
    if (!redis.available()) {
      loadAlone(key, loader, seq);
      metrics.refreshes.increment();
      return;
    }
    try {
      long now = clock.millis();
      if (!force) {
        Envelope stored = Envelope.decode(redis.get(key));
        if (stored != null && stored.freshAt(now)
            && (stored.expiry() > known || stored.expiry() - now >= ttlMillis / 4)) {
          putL1(key, codec.decode(stored.payload()), stored, seq, now);
          return;
        }
      }
      String token = newToken();
      RedisTier.Acquired acquired = redis.acquire(key, token, leaseTimeoutMillis, now, true);
      if (acquired.granted()) {
        metrics.refreshes.increment();
        loadAndFill(key, loader, seq, token);
        return;
      }
      Envelope found = Envelope.decode(acquired.value());
      if (found != null && found.freshAt(now)) {
        putL1(key, codec.decode(found.payload()), found, seq, now);
      }
    } catch (RedisException e) {
      redis.failed(e);
    }
  }

  /**
   * Puts into L1 unless {@code key} was invalidated since {@code seq} was read: checked before
   * the put and again after it (then the entry is taken out), so that an invalidation that counts
   * first and drops second either is seen here or sees the entry.
   */
  private void putL1(String key, V value, Envelope envelope, long seq, long now) {
    if (sequence.current(key) != seq) {
      return;
    }
    long l1Expiry = Math.min(now + l1TtlMillis, envelope.expiry());
    if (l1Expiry <= now) {
      return;
    }
    boolean pinned = hot != null && hot.isHot(key);
    L1Entry<V> entry = new L1Entry<>(value, envelope.expiry(), envelope.delta(), l1Expiry,
        now + (l1Expiry - now) * 3 / 4, 0, pinned);
    l1.put(key, entry);
    if (sequence.current(key) != seq) {
      l1.asMap().remove(key, entry);
    }
  }

  private void dropLocally(String key) {
    // a flight that started before the invalidation must not be joined by readers that come after
    inFlight.remove(key);
    l1.invalidate(key);
  }

  /** XFetch (Vattani, Chierichetti and Lowenstein, 2015): refresh when now − delta·β·ln(rand) ≥ expiry. */
  private boolean xfetchDue(long expiry, long delta, long now) {
    if (beta <= 0 || delta <= 0 || expiry - now > delta * beta * 40) {
      return false; // 40 > −ln of the smallest double nextDouble gives: never due, no logarithm taken
    }
    double random = 1.0 - ThreadLocalRandom.current().nextDouble(); // (0, 1]: ln is finite
    return now - delta * beta * Math.log(random) >= expiry;
  }

  private long jitteredTtl() {
    if (ttlJitter == 0) {
      return ttlMillis;
    }
    return Math.max(1, ttlMillis - (long) (ttlMillis * ttlJitter * ThreadLocalRandom.current().nextDouble()));
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private long refreshThrottleMillis() {
    return Math.max(10, Math.min(1_000, l1TtlMillis / 20));
  }

  private String newToken() {
    return tokenPrefix + tokens.incrementAndGet();
  }

  private void releaseQuietly(String key, String token) {
    try {
      redis.release(key, token);
    } catch (RedisException e) {
      // the lease then expires after leaseTimeout: the others wait that long at most
      redis.failed(e);
    }
  }

  private V await(String key, CompletableFuture<V> flight) {
    try {
      return flight.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheLoadException("cache " + name + ": waiting for the load of " + key + " was interrupted", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new CacheLoadException("cache " + name + ": loading " + key + " failed", cause);
    }
  }

  private void sleep(String key, long nanos) {
    try {
      TimeUnit.NANOSECONDS.sleep(nanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CacheLoadException("cache " + name + ": waiting for the load of " + key + " was interrupted", e);
    }
  }

  private boolean handOff(Runnable task) {
    try {
      executor.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      // closing: nothing left to keep coherent
      log.debug("cache {}: executor refused a task", name, e);
      return false;
    }
  }

  private void evicted() {
    metrics.evictions.increment();
  }

  /**
   * An L1 entry: the value, its freshness in Redis (expiry and load time, for XFetch), its own
   * expiry, when a pinned entry is refreshed, when a refresh may next be tried, and whether it is
   * pinned. Identity equality on purpose: {@code replace(key, old, new)} compares entries.
   */
  private static final class L1Entry<V> {
    final V value;
    final long expiry;
    final long delta;
    final long l1Expiry;
    final long refreshAfter;
    final long notBefore;
    final boolean pinned;

    L1Entry(V value, long expiry, long delta, long l1Expiry, long refreshAfter, long notBefore, boolean pinned) {
      this.value = value;
      this.expiry = expiry;
      this.delta = delta;
      this.l1Expiry = l1Expiry;
      this.refreshAfter = refreshAfter;
      this.notBefore = notBefore;
      this.pinned = pinned;
    }

    L1Entry<V> withPinned(boolean pinned) {
      return new L1Entry<>(value, expiry, delta, l1Expiry, refreshAfter, notBefore, pinned);
    }

    L1Entry<V> withNotBefore(long notBefore) {
      return new L1Entry<>(value, expiry, delta, l1Expiry, refreshAfter, notBefore, pinned);
    }
  }

  /** Each entry lives until its own {@code l1Expiry} (absolute, in the clock's milliseconds). */
  private static final class L1Expiry<V> implements Expiry<String, L1Entry<V>> {
    @Override
    public long expireAfterCreate(String key, L1Entry<V> entry, long currentTime) {
      return Math.max(0, TimeUnit.MILLISECONDS.toNanos(entry.l1Expiry) - currentTime);
    }

    @Override
    public long expireAfterUpdate(String key, L1Entry<V> entry, long currentTime, long currentDuration) {
      return expireAfterCreate(key, entry, currentTime);
    }

    @Override
    public long expireAfterRead(String key, L1Entry<V> entry, long currentTime, long currentDuration) {
      return currentDuration;
    }
  }

  /**
   * Settings of a {@link TieredCache}; {@code name} and {@code redis} are required. Each setter
   * checks its argument ({@code name: value (expected: ...)}). Not thread-safe.
   *
   * @param <V> the type of the values
   */
  public static final class Builder<V> {
    private final CacheCodec<V> codec;
    private String name;
    private String uri;
    private RedisClient client;
    private Duration ttl = Duration.ofMinutes(5);
    private double ttlJitter = 0.1;
    private Duration staleGrace = Duration.ofMinutes(1);
    private long l1MaxEntries = 10_000;
    private Duration l1Ttl;
    private Duration leaseTimeout = Duration.ofSeconds(5);
    private double earlyRefresh = 1.0;
    private int hotKeys = 16;
    private Duration redisTimeout = Duration.ofSeconds(1);
    private Clock clock = Clock.systemUTC();
    private Executor executor;
    private MeterRegistry registry;

    private Builder(CacheCodec<V> codec) {
      this.codec = codec;
    }

    /** The cache's name: its metrics tag and Redis key prefix ({@code c:<name>:}). */
    public Builder<V> name(String name) {
      Objects.requireNonNull(name, "name");
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException("name: '" + name
            + "' (expected: a lower-case letter or digit, then up to 62 of them or . _ -)");
      }
      this.name = name;
      return this;
    }

    /** Redis to connect to ({@code redis://host:port}); the cache makes and closes its own client. */
    public Builder<V> redis(String uri) {
      Objects.requireNonNull(uri, "redis");
      try {
        RedisURI.create(uri);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("redis: '" + uri + "' (expected: redis://host:port)", e);
      }
      this.uri = uri;
      this.client = null;
      return this;
    }

    /**
     * A client of the caller's (shared, not closed by the cache): the cache opens two connections
     * with it. Its options are the caller's; prefer {@code DisconnectedBehavior.REJECT_COMMANDS} so
     * that reads do not wait for a timeout while Redis is away.
     */
    public Builder<V> redis(RedisClient client) {
      this.client = Objects.requireNonNull(client, "redis");
      this.uri = null;
      return this;
    }

    /** How long a loaded value is fresh (before jitter; default 5 minutes). */
    public Builder<V> ttl(Duration ttl) {
      this.ttl = positive("ttl", ttl);
      return this;
    }

    /** The fraction of the TTL taken off at random per value, in [0, 1) (default 0.1). */
    public Builder<V> ttlJitter(double ttlJitter) {
      if (!(ttlJitter >= 0 && ttlJitter < 1)) {
        throw new IllegalArgumentException("ttlJitter: " + ttlJitter + " (expected: 0 <= ttlJitter < 1)");
      }
      this.ttlJitter = ttlJitter;
      return this;
    }

    /**
     * How long Redis keeps a value after it expires, to serve it while one server reloads it
     * (default 1 minute; zero: the others wait for the load).
     */
    public Builder<V> staleGrace(Duration staleGrace) {
      Objects.requireNonNull(staleGrace, "staleGrace");
      if (staleGrace.isNegative()) {
        throw new IllegalArgumentException("staleGrace: " + staleGrace + " (expected: >= 0)");
      }
      this.staleGrace = staleGrace;
      return this;
    }

    /** The most L1 entries not pinned (default 10,000). */
    public Builder<V> l1MaxEntries(long l1MaxEntries) {
      if (l1MaxEntries < 1) {
        throw new IllegalArgumentException("l1MaxEntries: " + l1MaxEntries + " (expected: >= 1)");
      }
      this.l1MaxEntries = l1MaxEntries;
      return this;
    }

    /**
     * How long an L1 entry lives at most (default 30 seconds, or {@code ttl} if shorter): the bound
     * on an old value's life in a server that missed an invalidation message. At most {@code ttl}.
     */
    public Builder<V> l1Ttl(Duration l1Ttl) {
      this.l1Ttl = positive("l1Ttl", l1Ttl);
      return this;
    }

    /**
     * How long a load lease lasts if its holder neither fills nor gives it back (default 5
     * seconds): longer than the slowest load, or a second server loads too (and the first one's
     * fill is refused). A reader waits for another server's load at most twice this long, then
     * loads itself without caching.
     */
    public Builder<V> leaseTimeout(Duration leaseTimeout) {
      this.leaseTimeout = positive("leaseTimeout", leaseTimeout);
      return this;
    }

    /** XFetch's β: above 1 refreshes earlier, 0 never early (default 1). */
    public Builder<V> earlyRefresh(double beta) {
      if (!(beta >= 0 && beta <= 100)) {
        throw new IllegalArgumentException("earlyRefresh: " + beta + " (expected: 0..100)");
      }
      this.earlyRefresh = beta;
      return this;
    }

    /** How many of the hottest keys are tracked and pinned in L1 (default 16; 0: none). */
    public Builder<V> hotKeys(int hotKeys) {
      if (hotKeys < 0 || hotKeys > 1_000) {
        throw new IllegalArgumentException("hotKeys: " + hotKeys + " (expected: 0..1000)");
      }
      this.hotKeys = hotKeys;
      return this;
    }

    /** How long a Redis command may take before Redis counts as down (default 1 second). */
    public Builder<V> redisTimeout(Duration redisTimeout) {
      this.redisTimeout = positive("redisTimeout", redisTimeout);
      return this;
    }

    /** The clock of expiries, XFetch and L1 (default the system's; tests move their own). */
    public Builder<V> clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Runs early refreshes and invalidation handling off the callers' and Redis's threads
     * (default: a virtual thread per task, shut down by {@link #close()}; one given is not).
     */
    public Builder<V> executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Where the meters go (default a registry of the cache's own). */
    public Builder<V> meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    /** A connected cache (Redis down is not an error: the cache starts without it). */
    public TieredCache<V> build() {
      if (name == null) {
        throw new IllegalStateException("name: not set (expected: a cache name such as profiles)");
      }
      if (uri == null && client == null) {
        throw new IllegalStateException("redis: not set (expected: redis://host:port or a RedisClient)");
      }
      if (l1Ttl != null && l1Ttl.compareTo(ttl) > 0) {
        throw new IllegalStateException("l1Ttl: " + l1Ttl + " (expected: <= ttl " + ttl + ")");
      }
      return new TieredCache<>(this);
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
      }
      return value;
    }
  }
}
