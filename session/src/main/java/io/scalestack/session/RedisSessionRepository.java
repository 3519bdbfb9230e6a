package io.scalestack.session;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.StatefulRedisConnectionImpl;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import io.scalestack.session.internal.AttributeValues;
import io.scalestack.session.internal.NearCache;
import io.scalestack.session.internal.RedisScript;
import io.scalestack.session.internal.SessionIds;
import java.time.Duration;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shared-store session strategy: every session is one Redis hash, so that web servers keep
 * no user state and any server can answer any request.
 *
 * <p>Layout: key {@code scalestack:session:{<first 11 characters of the id>}<the rest>}, a hash with the fields {@code creationTime}
 * and {@code lastAccessedTime} (epoch milliseconds), {@code maxInactiveInterval} (seconds),
 * {@code version} (one more with every write; see the near cache below) and one field {@code attr:<name>} per attribute, whose value is typed text ({@code s:alice},
 * {@code l:42}, {@code i:7}, {@code b:true}). The key's TTL is the max inactive interval,
 * refreshed by every save, so Redis itself removes abandoned sessions.
 *
 * <p><b>No Java deserialization</b>: values read from Redis are parsed as the four supported
 * types only. Deserializing Java objects from a store that other processes can write is a remote
 * code execution risk.
 *
 * <p>Writes are deltas: {@link #save} sets only the changed attribute fields and the access
 * time, in one Lua script that first checks the session still exists, so two requests changing
 * different attributes of one session never undo each other, and a request finishing after a
 * logout cannot bring the session back. {@link #changeId} renames the key in one script (atomic;
 * the TTL moves with it). The new id keeps the old one's family, which is the key's hash tag (see
 * {@link #key}), so both keys hash to one slot and the rename works on Redis Cluster too.
 *
 * <p>Calls are synchronous (run them on virtual threads) and bounded: every command times out
 * after the {@linkplain Builder#commandTimeout command timeout} (2 s unless configured), and a
 * Redis outage surfaces as a {@link SessionStoreException} naming the server and the command,
 * never as a hang. The connection is opened on first use (a server may start before Redis is
 * up). With a URI (rather than a shared client), a connection that broke is replaced by the next
 * call, which connects anew — through Sentinel, to the current primary, for a {@code
 * redis-sentinel://} URI — and the commands that were in flight when it broke fail rather than
 * being sent again: a write that failed was not acknowledged, and {@code WAIT} below always runs
 * on the connection its write ran on. (Lettuce's own reconnect would re-send them and back off up
 * to 30 s between attempts; the session store wants neither.)
 *
 * <p><b>High availability.</b> With {@code redis-sentinel://host:port[,host:port]#primaryName},
 * the repository asks the Sentinels for the primary whenever it connects, so after a failover it
 * follows the promoted replica. Replication is asynchronous: in the default {@link
 * Durability#ASYNC} mode a write acknowledged by the primary but not yet copied to the replica is
 * lost when the primary dies and the replica is promoted. {@link Durability#REPLICA_ACK} closes
 * that gap (see there) at the cost of a round trip per write and of failing writes while no
 * replica is connected.
 *
 * <p><b>Near cache: one round trip per request.</b> A request's session is needed before the
 * application runs and its changes are written after, so a request that reads and writes its
 * session would cost two round trips. Instead each server keeps a copy of the sessions it used
 * (at most {@link Builder#nearCache} of them), and Redis keeps the copies valid: the connection
 * has {@code CLIENT TRACKING ON NOLOOP} (Redis 6+, RESP3), so Redis pushes an invalidation as soon
 * as another client changes, deletes or expires a session this server read. A request whose
 * server holds a valid copy reads it without a round trip; its write, if any, is the one round
 * trip, and the write's reply (the whole hash after the delta, so including what other servers
 * wrote) becomes the new copy. A request finds the store again when its server has no copy (first
 * use on this server, or another server changed the session since), when its access is due to be
 * recorded, and after {@link Builder#nearCacheMaxAge}. Reads are as fresh as the invalidation's
 * trip over one connection: a change another server made is invisible here only until Redis's
 * push arrives, which on a healthy network is well before the user's next request does. Writes
 * never depend on a copy: they are deltas, conditional on the session still existing. Copies
 * are dropped whenever the connection is replaced, because tracking dies with it. Off for a
 * shared client (its own reconnect would silently end tracking) and against a server without
 * RESP3.
 *
 * <p>Thread-safe: one multiplexed Lettuce connection serves all threads.
 */
public final class RedisSessionRepository implements SessionRepository {

  private static final Logger log = LoggerFactory.getLogger(RedisSessionRepository.class);

  static final String KEY_PREFIX = "scalestack:session:";
  static final String CREATION_TIME = "creationTime";
  static final String LAST_ACCESSED_TIME = "lastAccessedTime";
  static final String MAX_INACTIVE_INTERVAL = "maxInactiveInterval";
  static final String ATTRIBUTE_PREFIX = "attr:";
  static final String VERSION = "version";

  private static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(2);
  /** How many sessions' copies the near cache holds unless {@link Builder#nearCache} says otherwise. */
  public static final int DEFAULT_NEAR_CACHE_SESSIONS = 10_000;
  private static final Duration DEFAULT_NEAR_CACHE_MAX_AGE = Duration.ofSeconds(30);

  /*
   * KEYS[1] session key. ARGV[1] '1' if the session is new, ARGV[2] TTL in milliseconds (<= 0:
   * none), ARGV[3] '1' to return the whole hash afterwards (near cache on), ARGV[4] number n of
   * fields to delete, ARGV[5..4+n] those fields, then field/value pairs to set. Returns an empty
   * array, writing nothing, when an existing session is gone; else the hash as field/value pairs
   * (ARGV[3] '1') or {'1'}. Every write moves the hash's version up by one (see NearCache).
   */
  private static final RedisScript SAVE = new RedisScript("""
      local key = KEYS[1]
      local isNew = ARGV[1] == '1'
      local ttl = tonumber(ARGV[2])
      if not isNew then
        -- PEXPIRE answers 0 for a key that is gone: the existence check and the TTL in one command
        if ttl > 0 then
          if redis.call('PEXPIRE', key, ttl) == 0 then return {} end
        elseif redis.call('EXISTS', key) == 0 then
          return {}
        end
      end
      local deletes = tonumber(ARGV[4])
      -- one HDEL and one HSET for all fields, in slices that stay within Lua's stack for unpack
      for i = 5, 4 + deletes, 1000 do
        redis.call('HDEL', key, unpack(ARGV, i, math.min(i + 999, 4 + deletes)))
      end
      for i = 5 + deletes, #ARGV, 1000 do
        redis.call('HSET', key, unpack(ARGV, i, math.min(i + 999, #ARGV)))
      end
      redis.call('HINCRBY', key, 'version', 1)
      -- HSET keeps an existing key's TTL: only a new key, or one that must not expire, needs more
      if isNew and ttl > 0 then redis.call('PEXPIRE', key, ttl) elseif ttl <= 0 then redis.call('PERSIST', key) end
      -- a read after the writes: our own writes untracked the key (NOLOOP), this tracks it again
      if ARGV[3] == '1' then return redis.call('HGETALL', key) end
      return {'1'}
      """);

  /*
   * KEYS[1] session key. ARGV[1] now (epoch ms), ARGV[2..4] the access recording policy of
   * SessionData.accessRecordingInterval: least interval (ms), share and cap of the max inactive
   * interval (per mille), ARGV[5] '1' when the near cache is on. Returns the hash as field/value
   * pairs, after recording the access when it is due; an empty array when there is no session or it expired at ARGV[1] (then deleted).
   * A hash without readable times is returned as is, for the caller to reject.
   */
  private static final RedisScript FIND_FOR_REQUEST = new RedisScript("""
      local key = KEYS[1]
      local fields = redis.call('HGETALL', key)
      local last, lastIndex, timeout
      for i = 1, #fields, 2 do
        if fields[i] == 'lastAccessedTime' then
          last = tonumber(fields[i + 1]); lastIndex = i + 1
        elseif fields[i] == 'maxInactiveInterval' then
          timeout = tonumber(fields[i + 1])
        end
      end
      if last == nil or timeout == nil then return fields end
      local now = tonumber(ARGV[1])
      local timeoutMillis = timeout * 1000
      if timeoutMillis > 0 and now - last >= timeoutMillis then
        redis.call('DEL', key)
        return {}
      end
      local interval = math.max(tonumber(ARGV[2]), math.floor(timeoutMillis * tonumber(ARGV[3]) / 1000))
      if timeoutMillis > 0 then
        interval = math.min(interval, math.floor(timeoutMillis * tonumber(ARGV[4]) / 1000))
      end
      if now - last >= interval then
        redis.call('HSET', key, 'lastAccessedTime', ARGV[1])
        if timeoutMillis > 0 then redis.call('PEXPIRE', key, timeoutMillis) end
        if ARGV[5] == '1' then
          -- the near cache orders copies by version; and a read after the write tracks the key again
          redis.call('HINCRBY', key, 'version', 1)
          return redis.call('HGETALL', key)
        end
        fields[lastIndex] = ARGV[1]
      end
      return fields
      """);

  /*
   * KEYS[1] old key, KEYS[2] new key (one slot: same family). RENAME keeps the TTL. Returns an
   * empty array when there is no old key, else {1, the stored principal or ''}.
   */
  private static final RedisScript CHANGE_ID = new RedisScript("""
      if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
      redis.call('RENAME', KEYS[1], KEYS[2])
      return {'1', redis.call('HGET', KEYS[2], ARGV[1]) or ''}
      """);

  /* KEYS[1] session key. Deletes it if its principal field is ARGV[2] (field ARGV[1]); returns 1 if so. */
  private static final RedisScript DELETE_IF_PRINCIPAL = new RedisScript("""
      if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('DEL', KEYS[1]) end
      return 0
      """);

  static final String PRINCIPAL_PREFIX = "scalestack:principal:";
  private static final String PRINCIPAL_FIELD = ATTRIBUTE_PREFIX + PRINCIPAL_ATTRIBUTE;

  private final RedisClient client;
  private final RedisURI uri; // ours, for a client we own; null for a shared client
  private final boolean ownsClient;
  private final Duration commandTimeout;
  private final Durability durability;
  private final Duration replicaAckTimeout;
  private final String store;
  private final SessionIds ids = new SessionIds();
  private final NearCache nearCache; // null when off

  private final ReentrantLock lock = new ReentrantLock();
  private volatile StatefulRedisConnection<String, String> connection; // guarded by lock for writes
  // connection, when it has CLIENT TRACKING on (else null); set before connection
  private volatile StatefulRedisConnection<String, String> trackedConnection;
  private CompletableFuture<StatefulRedisConnection<String, String>> connecting; // guarded by lock
  private boolean closed; // guarded by lock

  private RedisSessionRepository(Builder builder) {
    this.commandTimeout = builder.commandTimeout;
    this.durability = builder.durability;
    this.replicaAckTimeout = builder.replicaAckTimeoutInForce();
    if (builder.client != null) {
      this.client = builder.client;
      this.uri = null;
      this.ownsClient = false;
      this.store = "session store redis (shared client)";
    } else {
      // The URI's timeout is what Lettuce's synchronous API waits for each command (and, for the
      // Sentinels of a sentinel URI, each SENTINEL get-master-addr-by-name). A fresh parse: RedisURI
      // is mutable, and RedisURI.builder(RedisURI) drops the Sentinels.
      this.uri = RedisURI.create(builder.uriText);
      uri.setTimeout(commandTimeout);
      uri.getSentinels().forEach(sentinel -> sentinel.setTimeout(commandTimeout));
      this.client = RedisClient.create(uri);
      client.setOptions(ClientOptions.builder()
          .socketOptions(SocketOptions.builder().connectTimeout(commandTimeout).build())
          .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
          // We replace a broken connection ourselves (see connection()): at most once, no backoff.
          .autoReconnect(false)
          .build());
      this.ownsClient = true;
      this.store = "session store " + builder.uriForMessages;
    }
    this.nearCache = ownsClient && builder.nearCacheSessions > 0
        ? new NearCache(builder.nearCacheSessions, builder.nearCacheMaxAge.toNanos(), System::nanoTime)
        : null;
    if (nearCache != null) {
      // the moment the connection drops, nothing tracks the copies any more: drop them then, not
      // when the next request happens to notice the dead connection
      client.addListener(new RedisConnectionStateListener() {
        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> disconnected) {
          if (disconnected == connection) {
            nearCache.clear();
          }
        }
      });
    }
  }

  /**
   * A repository with its own Lettuce client for {@code redisUri} (for example {@code
   * redis://127.0.0.1:16379}), closed by {@link #close()}; commands time out after 2 s.
   *
   * @throws IllegalArgumentException if {@code redisUri} is not a Redis URI
   */
  public static RedisSessionRepository create(String redisUri) {
    return builder(redisUri).build();
  }

  /**
   * A repository on a client the caller owns and closes; the client must have been created with
   * a {@link RedisURI}. Our connection's commands time out after 2 s; connecting follows the
   * client's own options.
   */
  public static RedisSessionRepository create(RedisClient client) {
    return builder(client).build();
  }

  /**
   * A builder for a repository with its own Lettuce client for {@code redisUri}.
   *
   * @throws IllegalArgumentException if {@code redisUri} is not a Redis URI
   */
  public static Builder builder(String redisUri) {
    Objects.requireNonNull(redisUri, "redisUri");
    String forMessages = withoutCredentials(redisUri);
    try {
      RedisURI.create(redisUri);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("redisUri: '" + forMessages
          + "' (expected: redis://host:port, rediss://host:port, redis-socket://path or"
          + " redis-sentinel://host:port[,host:port]#primaryName)", e);
    }
    return new Builder(redisUri, forMessages, null);
  }

  /** A builder for a repository on a client the caller owns and closes. */
  public static Builder builder(RedisClient client) {
    Objects.requireNonNull(client, "client");
    return new Builder(null, null, client);
  }

  @Override
  public SessionData create(Instant now, Duration maxInactiveInterval) {
    return SessionData.newSession(ids.next(), now, maxInactiveInterval);
  }

  @Override
  public Optional<SessionData> find(String cookieValue) {
    Token token = Token.parse(cookieValue);
    if (token == null) {
      return Optional.empty();
    }
    String id = token.id;
    Map<String, String> hash = call("HGETALL", commands -> commands.hgetall(key(id)));
    if (hash.isEmpty()) {
      return Optional.empty();
    }
    return decoded(id, hash);
  }

  private static Optional<SessionData> decoded(String id, Map<String, String> hash) {
    try {
      return Optional.of(decode(id, hash));
    } catch (IllegalArgumentException e) {
      // Data we cannot read is not trusted; the client simply has no session.
      log.warn("session {}: stored data is malformed, treating it as no session: {}",
          SessionIds.redact(id), e.getMessage());
      return Optional.empty();
    }
  }

  @Override
  public Optional<SessionData> findForRequest(String cookieValue, Instant now) {
    Objects.requireNonNull(now, "now");
    Token token = Token.parse(cookieValue);
    if (token == null) {
      return Optional.empty();
    }
    String id = token.id;
    String key = key(id);
    Optional<SessionData> copy = fromNearCache(id, key, token.version, now);
    if (copy != null) {
      return copy;
    }
    boolean caching = connectedForCaching("EVALSHA (find)");
    long generation = caching ? nearCache.begin(key) : 0;
    List<String> pairs = uncachedOnFailure(key, () -> call("EVALSHA (find)", commands -> FIND_FOR_REQUEST.runForStrings(
        commands, new String[] {key}, Long.toString(now.toEpochMilli()),
        Long.toString(SessionData.MIN_ACCESS_RECORDING_MILLIS),
        Long.toString(SessionData.ACCESS_RECORDING_PER_MILLE),
        Long.toString(SessionData.MAX_ACCESS_RECORDING_PER_MILLE), caching ? "1" : "0")));
    if (pairs.isEmpty()) {
      forgetCopy(key); // gone, or expired and deleted by the script: our own DEL is not pushed to us
      return Optional.empty();
    }
    Map<String, String> hash = hashOf(pairs);
    Optional<SessionData> found = decoded(id, hash);
    if (caching && found.isPresent()) {
      nearCache.install(key, generation, hash, version(hash));
    }
    return found;
  }

  /*
   * The near cache's answer: the session, if this server holds a copy it may serve at now (at
   * least as new as the version the client saw written, not expired, access not due to be
   * recorded); null to ask Redis.
   */
  private Optional<SessionData> fromNearCache(String id, String key, long clientVersion, Instant now) {
    if (nearCache == null || !cachingConnection()) {
      return null;
    }
    Map<String, String> hash = nearCache.get(key);
    if (hash == null || version(hash) < clientVersion) {
      return null;
    }
    Optional<SessionData> copy = decoded(id, hash); // decoding makes the request its own copy
    if (copy.isEmpty()) {
      return null;
    }
    SessionData session = copy.get();
    Duration sinceAccess = Duration.between(session.lastAccessedTime(), now);
    if (session.isExpired(now)
        || sinceAccess.compareTo(SessionData.accessRecordingInterval(session.maxInactiveInterval())) >= 0) {
      return null;
    }
    return copy;
  }

  /*
   * Whether a command sent now may fill the near cache: connects first if needed (the first
   * request of a server is no exception), then asks cachingConnection.
   */
  private boolean connectedForCaching(String command) {
    if (nearCache == null) {
      return false;
    }
    connection(command);
    return cachingConnection();
  }

  /** Whether the current connection is open and tracked, so that copies read over it stay valid. */
  private boolean cachingConnection() {
    StatefulRedisConnection<String, String> open = connection;
    return nearCache != null && open != null && open == trackedConnection && open.isOpen();
  }

  private static Map<String, String> hashOf(List<String> pairs) {
    Map<String, String> hash = new HashMap<>(pairs.size());
    for (int i = 0; i + 1 < pairs.size(); i += 2) {
      hash.put(pairs.get(i), pairs.get(i + 1));
    }
    return hash;
  }

  private static long version(Map<String, String> hash) {
    String version = hash.get(VERSION);
    if (version == null) {
      return 0;
    }
    try {
      return Long.parseLong(version);
    } catch (NumberFormatException e) {
      return 0; // not ours to judge here: decode rejects what matters; 0 never beats a real copy
    }
  }

  @Override
  public Optional<String> save(SessionData session, Set<String> changedAttributeNames,
      boolean isNew) {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(changedAttributeNames, "changedAttributeNames");
    requireOwnId(session.id());
    List<String> deletes = new ArrayList<>();
    List<String> sets = new ArrayList<>();
    sets.add(LAST_ACCESSED_TIME);
    sets.add(Long.toString(session.lastAccessedTime().toEpochMilli()));
    sets.add(MAX_INACTIVE_INTERVAL);
    sets.add(Long.toString(session.maxInactiveInterval().toSeconds()));
    if (isNew) {
      sets.add(CREATION_TIME);
      sets.add(Long.toString(session.creationTime().toEpochMilli()));
      session.attributes().forEach((name, value) -> {
        sets.add(ATTRIBUTE_PREFIX + name);
        sets.add(AttributeValues.encode(value));
      });
    } else {
      for (String name : changedAttributeNames) {
        Object value = session.attributes().get(name);
        if (value == null) {
          deletes.add(ATTRIBUTE_PREFIX + name);
        } else {
          sets.add(ATTRIBUTE_PREFIX + name);
          sets.add(AttributeValues.encode(value));
        }
      }
    }
    String key = key(session.id());
    boolean caching = connectedForCaching("EVALSHA (save)");
    long generation = caching ? nearCache.begin(key) : 0;
    List<String> args = new ArrayList<>(4 + deletes.size() + sets.size());
    args.add(isNew ? "1" : "0");
    args.add(Long.toString(session.maxInactiveInterval().toMillis()));
    args.add(caching ? "1" : "0");
    args.add(Integer.toString(deletes.size()));
    args.addAll(deletes);
    args.addAll(sets);
    List<String> written = uncachedOnFailure(key, () -> call("EVALSHA (save)", commands -> acknowledged(
        "EVALSHA (save)", commands, SAVE.runForStrings(commands, new String[] {key}, args.toArray(String[]::new)))));
    String cookieValue = session.id();
    if (caching && written.size() > 1) {
      Map<String, String> hash = hashOf(written);
      nearCache.install(key, generation, hash, version(hash));
      cookieValue = Token.format(session.id(), version(hash));
    }
    if (written.isEmpty()) {
      forgetCopy(key);
      log.debug("session {}: gone before its changes were saved (expired, invalidated or renamed);"
          + " changes dropped", SessionIds.redact(session.id()));
      return Optional.empty();
    }
    if ((isNew || changedAttributeNames.contains(PRINCIPAL_ATTRIBUTE))
        && session.attributes().get(PRINCIPAL_ATTRIBUTE) instanceof String principal) {
      index(principal, session.id());
    }
    return Optional.of(cookieValue);
  }

  /**
   * Adds {@code id} to its principal's index (a set, no TTL) and drops the members whose session
   * is gone, so that the set holds the principal's live sessions plus at most the ones that expired
   * since the last login. Only a login (the principal attribute set) pays for this.
   */
  private void index(String principal, String id) {
    String index = PRINCIPAL_PREFIX + principal;
    call("SADD (principal index)", commands -> {
      commands.sadd(index, id);
      for (String member : commands.smembers(index)) {
        if (!member.equals(id) && (!SessionIds.isWellFormed(member) || commands.exists(key(member)) == 0)) {
          commands.srem(index, member);
        }
      }
      return null;
    });
  }

  @Override
  public int deleteAllOf(String principal) {
    Objects.requireNonNull(principal, "principal");
    String index = PRINCIPAL_PREFIX + principal;
    String stored = AttributeValues.encode(principal);
    return call("EVALSHA (delete all of a principal)", commands -> {
      int deleted = 0;
      for (String member : commands.smembers(index)) {
        // only if the session still names this principal: an id may have been reused by nobody, but
        // a session can change hands (a new login on the same session)
        if (SessionIds.isWellFormed(member)) {
          forgetCopy(key(member));
          if (DELETE_IF_PRINCIPAL.runForLong(commands, new String[] {key(member)}, PRINCIPAL_FIELD, stored) == 1) {
            deleted++;
          }
        }
      }
      commands.del(index);
      return acknowledged("EVALSHA (delete all of a principal)", commands, deleted);
    });
  }

  @Override
  public void delete(String id) {
    if (SessionIds.isWellFormed(id)) {
      forgetCopy(key(id));
      call("DEL", commands -> acknowledged("DEL", commands, commands.del(key(id))));
    }
  }

  @Override
  public Optional<String> changeId(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return Optional.empty();
    }
    String newId = ids.rotate(id);
    forgetCopy(key(id));
    List<String> renamed = call("EVALSHA (change id)", commands -> acknowledged("EVALSHA (change id)", commands,
        CHANGE_ID.runForStrings(commands, new String[] {key(id), key(newId)}, PRINCIPAL_FIELD)));
    if (renamed.isEmpty()) {
      return Optional.empty();
    }
    String principal = renamed.get(1);
    if (!principal.isEmpty()) {
      // the principal's index names the new id now (a separate key: its own slot, its own command)
      String index = PRINCIPAL_PREFIX + AttributeValues.decode(principal);
      call("SREM/SADD (principal index)", commands -> {
        commands.srem(index, id);
        return commands.sadd(index, newId);
      });
    }
    return Optional.of(newId);
  }

  /*
   * A script that failed (timeout, lost reply, WAIT not satisfied) may still have changed the key,
   * and our own changes are not pushed back to us (NOLOOP): the copy goes.
   */
  private <T> T uncachedOnFailure(String key, Supplier<T> command) {
    try {
      return command.get();
    } catch (RuntimeException e) {
      forgetCopy(key);
      throw e;
    }
  }

  /*
   * Our own changes to a key do not come back as invalidations (NOLOOP): before a command that
   * deletes or renames it, the copy goes, and any reply in flight for it is not installed.
   */
  private void forgetCopy(String key) {
    if (nearCache != null) {
      nearCache.invalidate(key);
    }
  }

  /**
   * How many sessions this server's near cache holds a copy of (0 when it is off). Counts them:
   * for a metrics scrape, not for every request.
   */
  public int nearCacheSessions() {
    return nearCache == null ? 0 : nearCache.copies();
  }

  /** How many sessions this server holds copies of (or tracks the absence of); 0 when the near cache is off. */
  int nearCacheSize() {
    return nearCache == null ? 0 : nearCache.size();
  }

  /** The command timeout in force. */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  /** The durability of writes in force. */
  public Durability durability() {
    return durability;
  }

  /*
   * In REPLICA_ACK mode, waits (WAIT 1 <timeout>, on the connection the write ran on) until a
   * replica has the write, and fails the call otherwise. WAIT counts the replicas that processed
   * this connection's last write or any later one, so writes other threads interleave only make
   * it stricter. A WAIT after a write that changed nothing (a session already gone) is cheap and
   * keeps the rule simple: nothing is acknowledged before a replica caught up with this client.
   */
  private <T> T acknowledged(String command, RedisCommands<String, String> commands, T reply) {
    if (durability == Durability.ASYNC) {
      return reply;
    }
    long timeoutMillis = replicaAckTimeout.toMillis();
    long replicas = commands.waitForReplication(1, timeoutMillis);
    if (replicas < 1) {
      throw new SessionStoreException(store + ": " + command + " not acknowledged: " + replicas
          + " replicas acknowledged the write within " + timeoutMillis + " ms (expected: >= 1, durability "
          + durability + "); it is on the primary only and may be lost if the primary fails");
    }
    return reply;
  }

  /** Closes the connection and, if this repository created it, the Lettuce client. Idempotent. */
  @Override
  public void close() {
    StatefulRedisConnection<String, String> open;
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      open = connection;
      connection = null;
    } finally {
      lock.unlock();
    }
    if (open != null) {
      open.close();
    }
    if (ownsClient) {
      client.shutdown(Duration.ZERO, commandTimeout);
    }
  }

  @Override
  public String toString() {
    return "RedisSessionRepository[" + store + "]";
  }

  /**
   * {@code scalestack:session:{family}rest}: the braces make the id's family a Redis Cluster hash
   * tag, so that a session and the key it is renamed to by {@link #changeId} (same family, see
   * {@link SessionIds#rotate}) always hash to one slot — Spring Session's RENAME fails with
   * CROSSSLOT there.
   */
  static String key(String id) {
    return KEY_PREFIX + "{" + id.substring(0, SessionIds.FAMILY_LENGTH) + "}" + id.substring(SessionIds.FAMILY_LENGTH);
  }

  private <T> T call(String command, Function<RedisCommands<String, String>, T> body) {
    RedisCommands<String, String> commands = connection(command).sync();
    try {
      return body.apply(commands);
    } catch (RedisException e) {
      throw new SessionStoreException(store + ": " + command + " failed: " + e.getMessage(), e);
    }
  }

  /*
   * Opens the connection on first use. Concurrent first users share one attempt, and each waits
   * at most the command timeout for it, so an unreachable Redis costs a request a bounded delay,
   * not a queue of connect attempts.
   */
  private StatefulRedisConnection<String, String> connection(String command) {
    StatefulRedisConnection<String, String> open = connection;
    if (open != null && (open.isOpen() || !ownsClient)) {
      return open; // a shared client's own reconnect (if any) owns a broken connection
    }
    if (open != null) {
      forget(open);
    }
    CompletableFuture<StatefulRedisConnection<String, String>> attempt;
    boolean mine;
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException(store + ": " + command + " on a closed repository");
      }
      if (connection != null) {
        return connection;
      }
      mine = connecting == null;
      if (mine) {
        connecting = new CompletableFuture<>();
      }
      attempt = connecting;
    } finally {
      lock.unlock();
    }
    if (mine) {
      connect(attempt);
    }
    try {
      return attempt.get(commandTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IllegalStateException closedOrMisconfigured) {
        throw closedOrMisconfigured;
      }
      throw new SessionStoreException(store + ": " + command + " failed: cannot connect: "
          + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      throw new SessionStoreException(store + ": " + command + " failed: not connected after "
          + commandTimeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SessionStoreException(store + ": " + command
          + " failed: interrupted while connecting", e);
    }
  }

  /** Drops a broken connection, unless another thread already replaced it. */
  private void forget(StatefulRedisConnection<String, String> broken) {
    lock.lock();
    try {
      if (connection == broken) {
        connection = null;
      }
    } finally {
      lock.unlock();
    }
    log.debug("{}: connection lost; connecting anew", store);
    if (nearCache != null) {
      nearCache.clear(); // nothing tracks these copies any more
    }
    broken.closeAsync();
  }

  // Without this, the requests that arrive together right after a start (or a Redis restart, which
  // empties the cache) each get NOSCRIPT and send the script again: two round trips instead of one.
  private void preloadScripts(StatefulRedisConnection<String, String> opened) {
    try {
      for (RedisScript script : List.of(FIND_FOR_REQUEST, SAVE, CHANGE_ID, DELETE_IF_PRINCIPAL)) {
        script.load(opened.sync());
      }
    } catch (RedisException e) {
      // a server that forbids SCRIPT (an ACL) still runs scripts: EVALSHA falls back to EVAL
      log.warn("{}: cannot preload the session scripts ({}); each is sent once on first use instead", store,
          e.getMessage());
    }
  }

  /*
   * CLIENT TRACKING ON NOLOOP: Redis remembers the keys this connection reads and pushes an
   * invalidation when another client changes one; NOLOOP leaves out our own changes, whose result
   * the write script returns. The listener is in place before tracking starts. Needs RESP3 (push
   * messages on the same connection); without it, or if the server refuses, no near cache.
   */
  private boolean startTracking(StatefulRedisConnection<String, String> opened) {
    if (!(opened instanceof StatefulRedisConnectionImpl<String, String> impl)
        || impl.getConnectionState().getNegotiatedProtocolVersion() != ProtocolVersion.RESP3) {
      log.warn("{}: the connection does not speak RESP3 (Redis 6 or newer); near cache off", store);
      return false;
    }
    opened.addListener(this::onPush);
    try {
      opened.sync().clientTracking(TrackingArgs.Builder.enabled().noloop());
      return true;
    } catch (RedisException e) {
      log.warn("{}: CLIENT TRACKING refused ({}); near cache off", store, e.getMessage());
      return false;
    }
  }

  /*
   * On the connection's event loop. RESP3 push ["invalidate", [key, ...]], or ["invalidate", null]
   * when Redis drops everything this client tracked (FLUSHALL, or its tracking table is full).
   */
  private void onPush(PushMessage message) {
    if (!"invalidate".equals(message.getType())) {
      return;
    }
    List<Object> content = message.getContent(StringCodec.UTF8::decodeKey);
    Object keys = content.size() > 1 ? content.get(1) : null;
    if (!(keys instanceof List<?> list)) {
      nearCache.clear();
      return;
    }
    for (Object key : list) {
      if (key instanceof ByteBuffer buffer) {
        nearCache.invalidate(StringCodec.UTF8.decodeKey(buffer));
      } else if (key != null) {
        nearCache.invalidate(key.toString());
      }
    }
  }

  /*
   * The primary, as the Sentinels name it (for a redis-sentinel:// URI; else the URI's server). A
   * failover has a blind spot of up to a second: the leader Sentinel has made a replica primary
   * (SLAVEOF NO ONE), but it announces the new address only once the replica's INFO, which it polls
   * once a second, shows the promotion; until then every Sentinel names the dead primary. So when
   * the named primary cannot be reached, we ask the Sentinels for the replica their leader marked
   * "promoted" and connect to it if ROLE already says master: the primary the Sentinels are about
   * to announce, reached up to a second sooner.
   */
  private StatefulRedisConnection<String, String> connectToPrimary() {
    try {
      return client.connect(StringCodec.UTF8);
    } catch (RedisException e) {
      if (uri == null || uri.getSentinels().isEmpty()) {
        throw e;
      }
      StatefulRedisConnection<String, String> promoted = connectToPromotedReplica();
      if (promoted == null) {
        throw e;
      }
      log.info("{}: the primary the Sentinels name is unreachable ({}); connected to the replica their leader"
          + " promoted", store, e.getMessage());
      return promoted;
    }
  }

  private StatefulRedisConnection<String, String> connectToPromotedReplica() {
    for (RedisURI sentinel : uri.getSentinels()) {
      try (StatefulRedisSentinelConnection<String, String> connection =
          client.connectSentinel(StringCodec.UTF8, sentinel)) {
        for (Map<String, String> replica : connection.sync().replicas(uri.getSentinelMasterId())) {
          if (!Arrays.asList(replica.getOrDefault("flags", "").split(",")).contains("promoted")) {
            continue;
          }
          RedisURI target = RedisURI.builder().withHost(replica.get("ip"))
              .withPort(Integer.parseInt(replica.get("port"))).withAuthentication(uri).withSsl(uri)
              .withDatabase(uri.getDatabase()).withTimeout(commandTimeout).build();
          StatefulRedisConnection<String, String> candidate = client.connect(StringCodec.UTF8, target);
          if ("master".equals(String.valueOf(candidate.sync().role().get(0)))) {
            log.debug("{}: {}:{} is the promoted replica", store, target.getHost(), target.getPort());
            return candidate;
          }
          candidate.close(); // promotion not done yet: wait for the Sentinels
        }
      } catch (RedisException | NumberFormatException e) {
        log.debug("{}: no promoted replica through Sentinel {}: {}", store, sentinel, e.getMessage());
      }
    }
    return null;
  }

  private void connect(CompletableFuture<StatefulRedisConnection<String, String>> attempt) {
    StatefulRedisConnection<String, String> opened;
    boolean tracks;
    try {
      opened = connectToPrimary();
      opened.setTimeout(commandTimeout);
      preloadScripts(opened);
      tracks = nearCache != null && startTracking(opened);
    } catch (RuntimeException e) {
      lock.lock();
      try {
        connecting = null; // the next request tries again
      } finally {
        lock.unlock();
      }
      attempt.completeExceptionally(e);
      return;
    }
    boolean lateForClose;
    lock.lock();
    try {
      connecting = null;
      lateForClose = closed;
      if (!lateForClose) {
        if (nearCache != null) {
          nearCache.clear(); // copies from an earlier connection are not tracked by this one
        }
        trackedConnection = tracks ? opened : null;
        connection = opened;
      }
    } finally {
      lock.unlock();
    }
    if (lateForClose) {
      opened.close();
      attempt.completeExceptionally(
          new IllegalStateException(store + ": closed while connecting"));
    } else {
      log.debug("{}: connected", store);
      attempt.complete(opened);
    }
  }

  private static SessionData decode(String id, Map<String, String> hash) {
    Instant creationTime = Instant.ofEpochMilli(longField(hash, CREATION_TIME));
    Instant lastAccessedTime = Instant.ofEpochMilli(longField(hash, LAST_ACCESSED_TIME));
    Duration maxInactiveInterval = Duration.ofSeconds(longField(hash, MAX_INACTIVE_INTERVAL));
    Map<String, Object> attributes = new HashMap<>();
    hash.forEach((field, value) -> {
      // Other fields are ignored, so that a later version may add some.
      if (field.startsWith(ATTRIBUTE_PREFIX)) {
        attributes.put(field.substring(ATTRIBUTE_PREFIX.length()), AttributeValues.decode(value));
      }
    });
    return new SessionData(id, creationTime, lastAccessedTime, maxInactiveInterval, attributes);
  }

  private static long longField(Map<String, String> hash, String field) {
    String value = hash.get(field);
    if (value == null) {
      throw new IllegalArgumentException("field " + field + ": missing (expected: an integer)");
    }
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("field " + field + ": '" + value
          + "' (expected: an integer)", e);
    }
  }

  private static void requireOwnId(String id) {
    if (!SessionIds.isWellFormed(id)) {
      throw new IllegalArgumentException("session.id: '" + SessionIds.redact(id)
          + "' (expected: an id made by RedisSessionRepository.create)");
    }
  }

  /**
   * A cookie value: the session id, optionally followed by {@code .} and the hash version the
   * client last saw written. With the near cache, {@link #save} answers {@code id.version}, so the
   * client's next request names the version it must see, and a server whose copy is older asks
   * Redis: a user reads their own writes on every server, whatever the invalidation's timing.
   */
  private record Token(String id, long version) {

    private static final int MAX_VERSION_DIGITS = 18; // stays below Long.MAX_VALUE

    /** The token, or null if the value is malformed (then there is no session, as for a bad id). */
    static Token parse(String value) {
      if (value == null) {
        return null;
      }
      if (value.length() == SessionIds.ID_LENGTH) {
        return SessionIds.isWellFormed(value) ? new Token(value, 0) : null;
      }
      int digits = value.length() - SessionIds.ID_LENGTH - 1;
      if (digits < 1 || digits > MAX_VERSION_DIGITS || value.charAt(SessionIds.ID_LENGTH) != '.') {
        return null;
      }
      long version = 0;
      for (int i = SessionIds.ID_LENGTH + 1; i < value.length(); i++) {
        char c = value.charAt(i);
        if (c < '0' || c > '9') {
          return null;
        }
        version = version * 10 + (c - '0');
      }
      String id = value.substring(0, SessionIds.ID_LENGTH);
      return SessionIds.isWellFormed(id) ? new Token(id, version) : null;
    }

    static String format(String id, long version) {
      return id + "." + version;
    }
  }

  private static String withoutCredentials(String uri) {
    // redis://user:password@host:port -> redis://***@host:port, for error messages and logs.
    return uri.replaceFirst("//[^/@]*@", "//***@");
  }

  /**
   * When a session write counts as done: the trade between losing acknowledged writes on a
   * failover and paying for, and depending on, a replica.
   */
  public enum Durability {
    /**
     * A write is acknowledged once the primary applied it (the default). Replication is
     * asynchronous, so the writes of the last moments before a primary crashes — usually a few
     * milliseconds' worth, more when the replica lags — are lost when Sentinel promotes the
     * replica: a user may find a just-changed attribute back at its old value, or a login undone.
     */
    ASYNC,
    /**
     * Every {@code save}, {@code changeId} and {@code delete} is followed by {@code WAIT 1
     * <replicaAckTimeout>} on the same connection, and fails with a {@link SessionStoreException}
     * unless at least one replica acknowledged it; so a write the request acknowledges survives
     * the primary's failure as long as a replica that has it is promoted. With one replica that
     * is certain, but after a failover no replica is left and every write fails until one joins.
     * With two (what {@code session.ha} runs), writes resume once the other replica follows the
     * new primary; Sentinel promotes the replica with the highest replication offset it last saw
     * (INFO, refreshed every second during a failover), so a write that only the other replica
     * had acknowledged within that last second could in principle still be lost — a window the
     * failover test has not hit. Costs a second round trip per write (the {@code WAIT}, which
     * returns once the replica acknowledged: about a replication round trip, sub-millisecond on
     * one host) and, with a replica down, up to {@link Builder#replicaAckTimeout} per write before
     * it fails. A failed write may still have been applied: failing means "not known to be
     * durable", not "rolled back". Reads, and the access time a read records, are not waited for.
     */
    REPLICA_ACK
  }

  /**
   * Configures a {@link RedisSessionRepository}. Not thread-safe; the repository it builds is.
   */
  public static final class Builder {

    private final String uriText;
    private final String uriForMessages;
    private final RedisClient client;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Durability durability = Durability.ASYNC;
    private Duration replicaAckTimeout;
    private int nearCacheSessions = DEFAULT_NEAR_CACHE_SESSIONS;
    private Duration nearCacheMaxAge = DEFAULT_NEAR_CACHE_MAX_AGE;

    private Builder(String uriText, String uriForMessages, RedisClient client) {
      this.uriText = uriText;
      this.uriForMessages = uriForMessages;
      this.client = client;
    }

    /**
     * How long one Redis command (and, with an owned client, connecting) may take before it
     * fails with a {@link SessionStoreException}; 2 s unless set.
     */
    public Builder commandTimeout(Duration commandTimeout) {
      Objects.requireNonNull(commandTimeout, "commandTimeout");
      if (!commandTimeout.isPositive() || commandTimeout.toMillis() == 0) {
        throw new IllegalArgumentException("commandTimeout: " + commandTimeout
            + " (expected: >= 1 ms)");
      }
      this.commandTimeout = commandTimeout;
      return this;
    }

    /**
     * How many sessions' copies a server keeps in its near cache (see the class comment); 10,000
     * unless set; 0 turns the near cache off, so that every session-using request reads Redis.
     * Has no effect on a repository over a shared client, which never has a near cache.
     */
    public Builder nearCache(int maxSessions) {
      if (maxSessions < 0) {
        throw new IllegalArgumentException("nearCache: " + maxSessions + " (expected: >= 0)");
      }
      this.nearCacheSessions = maxSessions;
      return this;
    }

    /**
     * How long a copy is served after Redis last sent it; 30 s unless set. Invalidations keep
     * copies fresh; this bounds how stale one can get should invalidations stop arriving on a
     * connection that still looks open (a network partition TCP has not noticed yet).
     */
    public Builder nearCacheMaxAge(Duration maxAge) {
      Objects.requireNonNull(maxAge, "maxAge");
      if (!maxAge.isPositive()) {
        throw new IllegalArgumentException("nearCacheMaxAge: " + maxAge + " (expected: > 0)");
      }
      this.nearCacheMaxAge = maxAge;
      return this;
    }

    /** When a write counts as done; {@link Durability#ASYNC} unless set. */
    public Builder durability(Durability durability) {
      this.durability = Objects.requireNonNull(durability, "durability");
      return this;
    }

    /**
     * In {@link Durability#REPLICA_ACK} mode, how long a write waits for a replica's
     * acknowledgement before it fails (whole milliseconds); half the command timeout unless set,
     * and it must stay below the command timeout, which bounds the {@code WAIT} command itself.
     */
    public Builder replicaAckTimeout(Duration replicaAckTimeout) {
      Objects.requireNonNull(replicaAckTimeout, "replicaAckTimeout");
      if (!replicaAckTimeout.isPositive() || replicaAckTimeout.toMillis() == 0) {
        throw new IllegalArgumentException("replicaAckTimeout: " + replicaAckTimeout
            + " (expected: >= 1 ms)");
      }
      this.replicaAckTimeout = replicaAckTimeout;
      return this;
    }

    /**
     * The repository; it connects on first use.
     *
     * @throws IllegalStateException if the replica acknowledgement timeout is not below the
     *     command timeout
     */
    public RedisSessionRepository build() {
      if (replicaAckTimeout != null && replicaAckTimeout.compareTo(commandTimeout) >= 0) {
        throw new IllegalStateException("replicaAckTimeout: " + replicaAckTimeout
            + " (expected: < commandTimeout " + commandTimeout + ")");
      }
      return new RedisSessionRepository(this);
    }

    private Duration replicaAckTimeoutInForce() {
      return replicaAckTimeout != null ? replicaAckTimeout
          : Duration.ofMillis(Math.max(1, commandTimeout.toMillis() / 2));
    }
  }
}
