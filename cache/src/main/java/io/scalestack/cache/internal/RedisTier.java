package io.scalestack.cache.internal;

import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Redis side of one cache: its keys ({@code c:<name>:v:<key>} holds the value, {@code
 * c:<name>:l:<key>} a load lease), the Lua scripts of the lease protocol, the invalidation channel
 * ({@code c:<name>:inv}) and the availability of Redis.
 *
 * <p>Availability: the first failed command marks Redis down (logged once per outage); while it is
 * down {@link #available()} answers {@code false} without touching the network, and a task on the
 * executor pings it once a second. When a probe succeeds, the invalidations that could not be
 * sent during the outage are sent (or, if there were too many to keep, every value of the cache is
 * deleted) before Redis is used again, and the listener clears L1 (it missed invalidations).
 *
 * <p>Invalidation messages (at most once, like all Redis pub/sub) reach the {@link Listener} on
 * Lettuce's event loop: it must not block. When the subscription's connection comes back after a
 * break, {@link Listener#invalidatedAll()} is called (the messages of the break are lost).
 *
 * <p>Thread-safe.
 */
public final class RedisTier implements AutoCloseable {

  /** Receives invalidations; its methods run on a Redis event loop and must not block. */
  public interface Listener {
    /** {@code key} was invalidated by another server (this server's own messages are skipped). */
    void invalidated(String key);

    /** Invalidations may have been missed: every key must be considered invalidated. */
    void invalidatedAll();
  }

  /** The answer of the lease script: whether the lease is ours, and the value (or null) at that moment. */
  public record Acquired(boolean granted, byte[] value) {}

  private static final Logger log = LoggerFactory.getLogger(RedisTier.class);
  private static final RedisCodec<String, byte[]> CODEC = RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE);
  private static final long PROBE_INTERVAL_MILLIS = 1_000;
  private static final int MAX_PENDING = 100_000;
  private static final String ALL = "*";

  /**
   * A miss takes the lease (SET NX PX) unless the value is fresh; a fresh value is answered as is
   * (unless ARGV[4] = 1: an early refresh wants the lease even so). KEYS: value, lease. ARGV:
   * token, lease millis, now millis, force. Returns {granted 0|1, value or nil}.
   */
  private static final Script ACQUIRE = new Script("""
      local v = redis.call('GET', KEYS[1])
      if v and ARGV[4] == '0' then
        local e = tonumber(string.match(v, '^(%d+):'))
        if e and e > tonumber(ARGV[3]) then return {0, v} end
      end
      if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, v} end
      return {0, v}
      """);
  /**
   * The fill: the value is set only while the lease still holds the filler's token, so a load
   * that an invalidation (which deletes the lease) overtook cannot put its old value back.
   * KEYS: value, lease. ARGV: token, value, px. Returns 1 if set.
   */
  private static final Script FILL = new Script("""
      if redis.call('GET', KEYS[2]) == ARGV[1] then
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        redis.call('DEL', KEYS[2])
        return 1
      end
      return 0
      """);
  /** Gives a lease back (a failed or empty load). KEYS: lease. ARGV: token. */
  private static final Script RELEASE = new Script("""
      if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
      return 0
      """);
  /** Deletes the value and any lease, then tells every server. KEYS: value, lease. ARGV: channel, message. */
  private static final Script INVALIDATE = new Script("""
      redis.call('DEL', KEYS[1], KEYS[2])
      redis.call('PUBLISH', ARGV[1], ARGV[2])
      return 1
      """);

  /** A Lua script, run by its SHA-1 (EVALSHA), by its text only when Redis does not know it yet. */
  private record Script(String text, String sha) {
    Script(String text) {
      this(text, sha1(text));
    }

    private static String sha1(String text) {
      try {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-1 is required of every Java platform", e);
      }
    }
  }

  private final String name;
  private final String origin;
  private final String prefix;
  private final String channel;
  private final RedisClient client;
  private final ClientResources ownResources;
  private final Duration timeout;
  private final Executor executor;
  private final Listener listener;
  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean pendingOverflow = new AtomicBoolean();
  private final AtomicBoolean up = new AtomicBoolean(true);
  /** A lock, not a monitor: connecting blocks on the network, which must not pin a virtual thread's carrier. */
  private final ReentrantLock connectLock = new ReentrantLock();
  private volatile StatefulRedisConnection<String, byte[]> connection;
  private volatile StatefulRedisPubSubConnection<String, String> pubsub;
  private volatile boolean subscriptionBroken;
  private volatile boolean closed;

  /**
   * Connects at once; if Redis cannot be reached, starts down (and probes). {@code origin} names
   * this server in its invalidation messages (letters and digits), so that it skips its own.
   * {@code ownResources} are the resources of a client made for this cache (then closed with it),
   * or null for a client of the caller's (left open).
   */
  public RedisTier(String name, String origin, RedisClient client, ClientResources ownResources, Duration timeout,
      Executor executor, Listener listener) {
    this.name = name;
    this.origin = origin;
    this.prefix = "c:" + name + ":";
    this.channel = prefix + "inv";
    this.client = client;
    this.ownResources = ownResources;
    this.timeout = timeout;
    this.executor = executor;
    this.listener = listener;
    try {
      connect();
    } catch (RedisException e) {
      markDown(e);
    }
  }

  /** The Redis key of {@code key}'s value. */
  public String valueKey(String key) {
    return prefix + "v:" + key;
  }

  /** The Redis key of {@code key}'s lease. */
  public String leaseKey(String key) {
    return prefix + "l:" + key;
  }

  /** Whether Redis is to be used now (no network: false from a failed command until a probe succeeds). */
  public boolean available() {
    return up.get();
  }

  /** Records a failed command: marks Redis down (logged once per outage). */
  public void failed(RuntimeException e) {
    markDown(e);
  }

  /** The stored value of {@code key}, or null. */
  public byte[] get(String key) {
    return commands().get(valueKey(key));
  }

  /** The lease script: see {@link #ACQUIRE}. */
  public Acquired acquire(String key, String token, long leaseMillis, long now, boolean force) {
    List<Object> reply = run(ACQUIRE, ScriptOutputType.MULTI, new String[] {valueKey(key), leaseKey(key)},
        ascii(token), ascii(Long.toString(leaseMillis)), ascii(Long.toString(now)), ascii(force ? "1" : "0"));
    boolean granted = ((Long) reply.get(0)) == 1L;
    byte[] value = reply.size() > 1 ? (byte[]) reply.get(1) : null;
    return new Acquired(granted, value);
  }

  /** Sets the value if the lease still holds {@code token}; whether it did. */
  public boolean fill(String key, String token, byte[] value, long pxMillis) {
    Long set = run(FILL, ScriptOutputType.INTEGER, new String[] {valueKey(key), leaseKey(key)},
        ascii(token), value, ascii(Long.toString(pxMillis)));
    return set == 1L;
  }

  /** Gives the lease back if it still holds {@code token}. */
  public void release(String key, String token) {
    run(RELEASE, ScriptOutputType.INTEGER, new String[] {leaseKey(key)}, ascii(token));
  }

  /**
   * Deletes {@code key}'s value and lease in Redis and tells every server; if Redis cannot be
   * reached, keeps the key to do it when Redis answers again.
   */
  public void invalidate(String key) {
    if (available()) {
      try {
        send(key);
        return;
      } catch (RedisException e) {
        markDown(e);
      }
    }
    if (pending.size() < MAX_PENDING) {
      pending.add(key);
    } else if (pendingOverflow.compareAndSet(false, true)) {
      log.warn("cache {}: more than {} invalidations while Redis is unreachable; every value of the cache will"
          + " be deleted when it answers again", name, MAX_PENDING);
    }
    if (up.get()) {
      // a probe brought Redis back while this key was being queued: it may have drained already
      sendPending();
    }
  }

  /** Sends the queued invalidations while Redis answers. */
  private void sendPending() {
    for (String key : new ArrayList<>(pending)) {
      try {
        send(key);
        pending.remove(key);
      } catch (RedisException e) {
        markDown(e);
        return;
      }
    }
  }

  /** Invalidations waiting for Redis (for tests and gauges). */
  public int pendingInvalidations() {
    return pending.size();
  }

  private void send(String key) {
    run(INVALIDATE, ScriptOutputType.INTEGER, new String[] {valueKey(key), leaseKey(key)},
        ascii(channel), ("k" + origin + ":" + key).getBytes(StandardCharsets.UTF_8));
  }

  private <T> T run(Script script, ScriptOutputType type, String[] keys, byte[]... args) {
    RedisCommands<String, byte[]> redis = commands();
    try {
      return redis.evalsha(script.sha(), type, keys, args);
    } catch (RedisNoScriptException e) {
      // a Redis that restarted or was flushed: EVAL runs it and caches it again
      return redis.eval(script.text(), type, keys, args);
    }
  }

  private RedisCommands<String, byte[]> commands() {
    StatefulRedisConnection<String, byte[]> c = connection;
    if (c == null) {
      throw new RedisException("cache " + name + ": not connected to Redis");
    }
    return c.sync();
  }

  private void connect() {
    connectLock.lock();
    try {
      if (closed) {
        return;
      }
      if (connection == null) {
        StatefulRedisConnection<String, byte[]> c = client.connect(CODEC);
        c.setTimeout(timeout);
        connection = c;
      }
      if (pubsub == null) {
        StatefulRedisPubSubConnection<String, String> p = client.connectPubSub(StringCodec.UTF8);
        p.setTimeout(timeout);
        p.addListener(new RedisPubSubAdapter<>() {
          @Override
          public void message(String from, String message) {
            if (!from.equals(channel)) {
              return;
            }
            if (message.equals(ALL)) {
              listener.invalidatedAll();
            } else if (message.startsWith("k")) {
              // k<origin>:<key>; the server that invalidated has dropped the key already
              int colon = message.indexOf(':');
              boolean own = colon - 1 == origin.length() && message.startsWith(origin, 1);
              if (colon > 0 && !own) {
                listener.invalidated(message.substring(colon + 1));
              } else if (colon < 0) {
                log.debug("cache {}: ignored a malformed invalidation message", name);
              }
            }
          }
        });
        if (p instanceof RedisChannelHandler<?, ?> handler) {
          handler.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
              subscriptionBroken = true;
            }

            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
              if (subscriptionBroken) {
                // messages sent while we were away are lost: L1 may hold values invalidated since
                subscriptionBroken = false;
                log.info("cache {}: invalidation channel reconnected; clearing L1", name);
                listener.invalidatedAll();
              }
            }
          });
        }
        try {
          p.sync().subscribe(channel);
        } catch (RedisException e) {
          p.close();
          throw e;
        }
        pubsub = p;
      }
    } finally {
      connectLock.unlock();
    }
  }

  private void markDown(RuntimeException e) {
    if (up.compareAndSet(true, false)) {
      log.warn("cache {}: Redis unreachable ({}); serving from L1 and the loader until it answers again", name,
          e.toString());
      try {
        executor.execute(this::probeUntilUp);
      } catch (RejectedExecutionException rejected) {
        log.debug("cache {}: no probe of Redis, the executor refused it (closing?)", name, rejected);
      }
    }
  }

  /** One task per outage: a probe a second until one succeeds or the cache closes. */
  private void probeUntilUp() {
    while (!closed && !up.get()) {
      try {
        Thread.sleep(PROBE_INTERVAL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return; // the executor is shutting down: so is the cache
      }
      try {
        probe();
      } catch (RuntimeException e) {
        log.warn("cache {}: probing Redis failed unexpectedly; trying again", name, e);
      }
    }
  }

  private void probe() {
    try {
      connect();
      commands().ping();
      if (pendingOverflow.get()) {
        // keys queued from now on are sent one by one; if the deletion fails, the next probe redoes it
        pending.clear();
        deleteAll();
        pendingOverflow.set(false);
      }
      for (String key : new ArrayList<>(pending)) {
        send(key);
        pending.remove(key);
      }
      listener.invalidatedAll();
      up.set(true);
      log.info("cache {}: Redis answers again", name);
      sendPending(); // queued while the probe ran
    } catch (RedisException e) {
      log.debug("cache {}: Redis still unreachable", name, e);
    }
  }

  /** Deletes every value of this cache (SCAN, not KEYS: Redis keeps serving) and tells every server. */
  private void deleteAll() {
    RedisCommands<String, byte[]> redis = commands();
    ScanIterator<String> keys = ScanIterator.scan(redis, ScanArgs.Builder.matches(prefix + "v:*").limit(1000));
    List<String> batch = new ArrayList<>();
    while (keys.hasNext()) {
      batch.add(keys.next());
      if (batch.size() == 1000 || !keys.hasNext()) {
        redis.unlink(batch.toArray(String[]::new));
        batch.clear();
      }
    }
    redis.publish(channel, ascii(ALL));
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  /** Closes the connections (and the client if it is ours). */
  @Override
  public void close() {
    connectLock.lock();
    try {
      closed = true;
      if (!pending.isEmpty() || pendingOverflow.get()) {
        log.warn("cache {}: closed with {} invalidations Redis never got; their keys may be stale there until"
            + " their TTL", name, pendingOverflow.get() ? "more than " + MAX_PENDING : pending.size());
      }
      try {
        if (pubsub != null) {
          pubsub.close();
        }
        if (connection != null) {
          connection.close();
        }
      } finally {
        if (ownResources != null) {
          client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
          ownResources.shutdown(0, 2, TimeUnit.SECONDS);
        }
      }
    } finally {
      connectLock.unlock();
    }
  }
}
