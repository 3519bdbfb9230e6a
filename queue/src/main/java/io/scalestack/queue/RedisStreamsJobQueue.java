package io.scalestack.queue;

import io.scalestack.queue.internal.RetryPolicy;
import io.lettuce.core.Consumer;
import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.models.stream.ClaimedMessages;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link JobQueue} on Redis Streams, the default backend (on the topology's Redis).
 *
 * <p>Keys, all with the hash tag {@code {name}} so that one Lua script may touch them together:
 * the stream {@code q:{name}:stream} (an entry per delivery: job id and attempt) read by the
 * consumer group {@code workers}; a hash per job {@code q:{name}:job:ID} (type, payload, state,
 * attempts, result, error); the sorted set {@code q:{name}:delayed} of retries waiting for their
 * back-off (score: when due); the dead-letter stream {@code q:{name}:dead}.
 *
 * <p>A delivery is a pending entry of the group. {@link #renew} re-claims it for its owner
 * ({@code XCLAIM … JUSTID}, which resets its idle time), only if the owner still holds it; a
 * worker's {@link #take} first claims entries idle longer than the lease timeout
 * ({@code XAUTOCLAIM}: a dead worker's job is taken again within the lease timeout plus one take),
 * then moves due retries into the stream, then reads new entries. Completion, failure and
 * re-delivery are Lua scripts, so each is atomic: a result is written only if the job is not
 * done yet (the first completion wins), a failure either schedules the next attempt with
 * exponential back-off and jitter or, after {@code maxAttempts}, moves the job to the dead letters
 * with its error; a job delivered more than {@code maxAttempts} times without an answer (a job
 * that kills its workers) goes there too. Unlike RabbitMQ's 30-minute ack timeout or SQS's
 * visibility timeout, nothing ends a lease that is renewed, however long the job.
 *
 * <p>Thread-safe. {@link #take} blocks on a connection of the consumer's own.
 */
public final class RedisStreamsJobQueue implements JobQueue {

  private static final Logger log = LoggerFactory.getLogger(RedisStreamsJobQueue.class);
  private static final String GROUP = "workers";

  // KEYS: stream, job hash; ARGV: job id, type, payload, now
  private static final String ENQUEUE = """
      redis.call('HSET', KEYS[2], 'type', ARGV[2], 'payload', ARGV[3], 'state', 'queued', 'attempts', 0,
        'enqueued', ARGV[4])
      redis.call('XADD', KEYS[1], '*', 'job', ARGV[1], 'attempt', 1)
      return 1""";
  // KEYS: stream; ARGV: group, consumer, job hash prefix, count -> six values per entry {entry id,
  // job id, type, payload, attempts, previous state}: up to count new entries, delivered, in one
  // round trip (no BLOCK in a script)
  private static final String TAKE = """
      local entries = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', tonumber(ARGV[4]), 'STREAMS', KEYS[1], '>')
      if not entries then return {} end
      local out = {}
      for _, entry in ipairs(entries[1][2]) do
        local fields = entry[2]
        local job
        for i = 1, #fields, 2 do if fields[i] == 'job' then job = fields[i + 1] end end
        local key = ARGV[3] .. job
        local state = redis.call('HGET', key, 'state')
        if not state then
          for _, v in ipairs({entry[1], job, '', '', 0, 'unknown'}) do table.insert(out, v) end
        else
          local attempts = redis.call('HINCRBY', key, 'attempts', 1)
          if state ~= 'done' and state ~= 'dead' then
            redis.call('HSET', key, 'state', 'running', 'worker', ARGV[2])
          end
          for _, v in ipairs({entry[1], job, redis.call('HGET', key, 'type'), redis.call('HGET', key, 'payload'),
              attempts, state}) do table.insert(out, v) end
        end
      end
      return out""";
  // KEYS: job hash; ARGV: consumer -> {type, payload, attempts, previous state}
  private static final String DELIVER = """
      local state = redis.call('HGET', KEYS[1], 'state')
      if not state then return {'', '', 0, 'unknown'} end
      local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
      if state ~= 'done' and state ~= 'dead' then
        redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[1])
      end
      return {redis.call('HGET', KEYS[1], 'type'), redis.call('HGET', KEYS[1], 'payload'), attempts, state}""";
  // KEYS: stream; ARGV: group, consumer, entry id -> 1 if renewed, 0 if the lease was lost
  private static final String RENEW = """
      local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
      if #pending == 0 or pending[1][2] ~= ARGV[2] then return 0 end
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
      return 1""";
  // KEYS: stream, job hash; ARGV: group, entry id, result -> 1 if this completion wrote the result
  private static final String COMPLETE = """
      local written = 0
      local state = redis.call('HGET', KEYS[2], 'state')
      if state and state ~= 'done' then
        redis.call('HSET', KEYS[2], 'state', 'done', 'result', ARGV[3])
        redis.call('HDEL', KEYS[2], 'worker')
        written = 1
      end
      redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
      redis.call('XDEL', KEYS[1], ARGV[2])
      return written""";
  // KEYS: stream, job hash, delayed, dead; ARGV: group, entry id, error, max attempts, due millis, job id
  private static final String FAIL = """
      redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
      redis.call('XDEL', KEYS[1], ARGV[2])
      local state = redis.call('HGET', KEYS[2], 'state')
      if (not state) or state == 'done' or state == 'dead' then return state or 'unknown' end
      local attempts = tonumber(redis.call('HGET', KEYS[2], 'attempts') or '0')
      redis.call('HSET', KEYS[2], 'error', ARGV[3])
      redis.call('HDEL', KEYS[2], 'worker')
      if attempts >= tonumber(ARGV[4]) then
        redis.call('HSET', KEYS[2], 'state', 'dead')
        redis.call('XADD', KEYS[4], '*', 'job', ARGV[6], 'error', ARGV[3], 'attempts', attempts)
        return 'dead'
      end
      redis.call('HSET', KEYS[2], 'state', 'retrying')
      redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6] .. '|' .. (attempts + 1))
      return 'retrying'""";
  // KEYS: delayed, stream; ARGV: now, limit -> how many retries became due
  private static final String MOVE_DUE = """
      local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
      for _, member in ipairs(due) do
        if redis.call('ZREM', KEYS[1], member) == 1 then
          local sep = string.find(member, '|', 1, true)
          redis.call('XADD', KEYS[2], '*', 'job', string.sub(member, 1, sep - 1), 'attempt', string.sub(member, sep + 1))
        end
      end
      return #due""";

  private final String name;
  private final RedisClient client;
  private final StatefulRedisConnection<String, String> connection;
  private final RedisCommands<String, String> redis;
  private final Map<String, StatefulRedisConnection<String, String>> readers = new ConcurrentHashMap<>();
  private final RetryPolicy policy;
  private final Duration leaseTimeout;
  private final int maxAttempts;
  private final Clock clock;
  private final String stream;
  private final String delayed;
  private final String dead;
  private final long housekeepingMillis;
  private final int prefetch;
  /** Jobs delivered to a consumer ahead of its next take (prefetch), each with when it was delivered. */
  private final Map<String, java.util.ArrayDeque<Buffered>> buffers = new ConcurrentHashMap<>();

  private record Buffered(Lease lease, long takenAtMillis) {}
  /** SHA-1 of each script, loaded once: EVALSHA sends 40 bytes instead of the script, and Redis skips hashing it. */
  private final Map<String, String> shas = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong nextHousekeeping = new java.util.concurrent.atomic.AtomicLong();

  private RedisStreamsJobQueue(Builder builder) {
    this.name = builder.name;
    this.policy = builder.policy;
    this.leaseTimeout = policy.leaseTimeout();
    this.maxAttempts = policy.maxAttempts();
    this.clock = builder.clock;
    this.prefetch = builder.prefetch;
    // claims and due retries: often enough to keep recovery and back-off close to their settings
    this.housekeepingMillis = Math.max(10, Math.min(200, Math.min(policy.leaseTimeout().toMillis(),
        policy.backoffBase().toMillis()) / 4));
    this.stream = "q:{" + name + "}:stream";
    this.delayed = "q:{" + name + "}:delayed";
    this.dead = "q:{" + name + "}:dead";
    this.client = RedisClient.create(RedisURI.create(builder.uri));
    this.connection = client.connect();
    this.redis = connection.sync();
    try {
      // from the start of the stream: jobs enqueued before any worker existed are delivered too
      redis.xgroupCreate(XReadArgs.StreamOffset.from(stream, "0"), GROUP, XGroupCreateArgs.Builder.mkstream());
    } catch (RedisBusyException e) {
      log.debug("queue {}: consumer group exists", name);
    }
  }

  /** A builder; {@link Builder#uri(String)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** Runs a script by its SHA-1, loading it first when Redis does not know it (a restart flushes the cache). */
  @SuppressWarnings("unchecked")
  private <T> T script(String script, ScriptOutputType type, String[] keys, String... args) {
    String sha = shas.computeIfAbsent(script, redis::scriptLoad);
    try {
      return (T) redis.evalsha(sha, type, keys, args);
    } catch (io.lettuce.core.RedisNoScriptException e) {
      shas.put(script, redis.scriptLoad(script));
      return (T) redis.evalsha(shas.get(script), type, keys, args);
    }
  }

  private String jobKey(String id) {
    return "q:{" + name + "}:job:" + id;
  }

  @Override
  public String enqueue(String type, String payload) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    String id = UUID.randomUUID().toString();
    script(ENQUEUE, ScriptOutputType.INTEGER, new String[] {stream, jobKey(id)}, id, type, payload,
        Long.toString(clock.millis()));
    return id;
  }

  @Override
  public Optional<Lease> take(String consumer, Duration wait) {
    Objects.requireNonNull(consumer, "consumer");
    java.util.ArrayDeque<Buffered> buffer = buffers.computeIfAbsent(consumer, c -> new java.util.ArrayDeque<>());
    while (true) {
      Buffered next;
      synchronized (buffer) {
        next = buffer.poll();
      }
      if (next == null) {
        break;
      }
      // waited in the buffer long enough that another worker may have claimed it: make sure it is still ours
      if (clock.millis() - next.takenAtMillis() < leaseTimeout.toMillis() / 2 || renew(next.lease())) {
        return Optional.of(next.lease());
      }
    }
    long now = clock.millis();
    long due = nextHousekeeping.get();
    // at most every housekeeping interval per queue object, not on every take: two round trips
    // less per job on the hot path, and a dead worker's job still comes back within the lease
    // timeout plus one interval
    if (now >= due && nextHousekeeping.compareAndSet(due, now + housekeepingMillis)) {
      // a dead worker's deliveries first: idle longer than the lease timeout
      ClaimedMessages<String, String> claimed = redis.xautoclaim(stream, XAutoClaimArgs.Builder
          .xautoclaim(Consumer.from(GROUP, consumer), leaseTimeout, "0-0").count(1));
      for (StreamMessage<String, String> message : claimed.getMessages()) {
        nextHousekeeping.set(now); // there may be more: look again at the next take
        Optional<Lease> lease = deliver(consumer, message, true);
        if (lease.isPresent()) {
          return lease;
        }
      }
      script(MOVE_DUE, ScriptOutputType.INTEGER, new String[] {delayed, stream}, Long.toString(now), "100");
    }
    // busy queue: one round trip for read and delivery together
    List<Object> next = script(TAKE, ScriptOutputType.MULTI, new String[] {stream}, GROUP, consumer,
        "q:{" + name + "}:job:", Integer.toString(prefetch));
    Optional<Lease> first = Optional.empty();
    for (int i = 0; i + 6 <= next.size(); i += 6) {
      Optional<Lease> lease = taken(consumer, next.subList(i, i + 6));
      if (lease.isPresent()) {
        if (first.isEmpty()) {
          first = lease;
        } else {
          synchronized (buffer) {
            buffer.add(new Buffered(lease.get(), now));
          }
        }
      }
    }
    if (first.isPresent()) {
      return first;
    }
    RedisCommands<String, String> reader = readers.computeIfAbsent(consumer, c -> client.connect()).sync();
    List<StreamMessage<String, String>> messages = reader.xreadgroup(Consumer.from(GROUP, consumer),
        XReadArgs.Builder.block(Math.max(1, wait.toMillis())).count(1), XReadArgs.StreamOffset.lastConsumed(stream));
    for (StreamMessage<String, String> message : messages) {
      Optional<Lease> lease = deliver(consumer, message, false);
      if (lease.isPresent()) {
        return lease;
      }
    }
    return Optional.empty();
  }

  /** A {@code TAKE} answer as a lease, or settled (acknowledged) when the job needs no more work. */
  private Optional<Lease> taken(String consumer, List<Object> next) {
    String entryId = (String) next.get(0);
    String id = (String) next.get(1);
    String previous = (String) next.get(5);
    if (previous.equals("unknown") || previous.equals("done") || previous.equals("dead")) {
      redis.xack(stream, GROUP, entryId);
      redis.xdel(stream, entryId);
      return Optional.empty();
    }
    int attempts = ((Long) next.get(4)).intValue();
    return Optional.of(new Lease(new Job(id, (String) next.get(2), (String) next.get(3), attempts), entryId, consumer));
  }

  /** Turns a stream entry into a lease, or settles it when the job needs no more work. */
  private Optional<Lease> deliver(String consumer, StreamMessage<String, String> message, boolean recovered) {
    String id = message.getBody().get("job");
    List<Object> job = script(DELIVER, ScriptOutputType.MULTI, new String[] {jobKey(id)}, consumer);
    String previous = (String) job.get(3);
    if (previous.equals("unknown") || previous.equals("done") || previous.equals("dead")) {
      // nothing left to do (completed by a worker whose lease had expired, say): just acknowledge
      redis.xack(stream, GROUP, message.getId());
      redis.xdel(stream, message.getId());
      return Optional.empty();
    }
    int attempts = ((Long) job.get(2)).intValue();
    Lease lease = new Lease(new Job(id, (String) job.get(0), (String) job.get(1), attempts), message.getId(), consumer);
    if (recovered) {
      log.info("queue {}: job {} taken again by {} (its worker stopped renewing the lease), attempt {}", name, id,
          consumer, attempts);
      if (attempts > maxAttempts) {
        // a job that kills its workers: it would never stop coming back
        fail(lease, "delivered " + attempts + " times without an answer (each worker died or lost the lease)");
        return Optional.empty();
      }
    }
    return Optional.of(lease);
  }

  @Override
  public boolean renew(Lease lease) {
    Long renewed = script(RENEW, ScriptOutputType.INTEGER, new String[] {stream}, GROUP, lease.consumer(),
        lease.deliveryId());
    return renewed != null && renewed == 1;
  }

  @Override
  public void complete(Lease lease, String result) {
    Objects.requireNonNull(result, "result");
    Long written = script(COMPLETE, ScriptOutputType.INTEGER, new String[] {stream, jobKey(lease.job().id())},
        GROUP, lease.deliveryId(), result);
    if (written == null || written == 0) {
      log.info("queue {}: job {} was already done; this completion by {} changed nothing", name, lease.job().id(),
          lease.consumer());
    }
  }

  @Override
  public void fail(Lease lease, String error) {
    Objects.requireNonNull(error, "error");
    long backoff = policy.backoffMillis(lease.job().attempt());
    String outcome = script(FAIL, ScriptOutputType.VALUE, new String[] {stream, jobKey(lease.job().id()), delayed,
        dead}, GROUP, lease.deliveryId(), error, Integer.toString(maxAttempts),
        Long.toString(clock.millis() + backoff), lease.job().id());
    log.info("queue {}: job {} failed on attempt {} ({}): {}", name, lease.job().id(), lease.job().attempt(), outcome,
        error);
  }


  @Override
  public Optional<JobStatus> status(String jobId) {
    Map<String, String> job = redis.hgetall(jobKey(jobId));
    if (job.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new JobStatus(jobId, job.get("state"), Integer.parseInt(job.getOrDefault("attempts", "0")),
        job.get("result"), job.get("error")));
  }

  @Override
  public List<JobStatus> deadLetters(int limit) {
    List<JobStatus> letters = new ArrayList<>();
    for (StreamMessage<String, String> message : redis.xrange(dead, io.lettuce.core.Range.create("-", "+"),
        io.lettuce.core.Limit.from(limit))) {
      status(message.getBody().get("job")).ifPresent(letters::add);
    }
    return letters;
  }

  @Override
  public void close() {
    readers.values().forEach(StatefulRedisConnection::close);
    connection.close();
    client.shutdown();
  }

  /** Configures a {@link RedisStreamsJobQueue}. Not thread-safe. */
  public static final class Builder {
    private String uri;
    private String name = "jobs";
    private RetryPolicy policy = RetryPolicy.DEFAULTS;
    private Clock clock = Clock.systemUTC();
    private int prefetch = 1;

    private Builder() {}

    /**
     * How many jobs one take delivers to a consumer at most (default 1), like RabbitMQ's prefetch:
     * the others wait in the queue object for the consumer's next takes, which saves a round trip
     * each on a busy queue. A job that waits longer than half the lease timeout is checked to be
     * still the consumer's before it is handed out; the prefetched jobs of a worker that stops are
     * taken by others after the lease timeout.
     */
    public Builder prefetch(int prefetch) {
      if (prefetch < 1 || prefetch > 1000) {
        throw new IllegalArgumentException("prefetch: " + prefetch + " (expected: 1..1000)");
      }
      this.prefetch = prefetch;
      return this;
    }

    /** The Redis, for example {@code redis://127.0.0.1:16379}; required. */
    public Builder uri(String uri) {
      this.uri = Objects.requireNonNull(uri, "uri");
      return this;
    }

    /** The queue's name (default {@code jobs}): its keys are {@code q:{name}:…}. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[a-z0-9][a-z0-9._-]{0,62}")) {
        throw new IllegalArgumentException("name: '" + name + "' (expected: lower-case letters, digits, . _ -, up to 63)");
      }
      this.name = name;
      return this;
    }

    /** How long an unrenewed delivery is kept before another worker may take the job (default 5 s). */
    public Builder leaseTimeout(Duration leaseTimeout) {
      this.policy = policy.withLeaseTimeout(leaseTimeout);
      return this;
    }

    /** Deliveries before a job goes to the dead letters (default 5). */
    public Builder maxAttempts(int maxAttempts) {
      this.policy = policy.withMaxAttempts(maxAttempts);
      return this;
    }

    /** The first retry's back-off (default 500 ms), doubling per attempt up to {@code max} (default 60 s). */
    public Builder backoff(Duration base, Duration max) {
      this.policy = policy.withBackoff(base, max);
      return this;
    }

    /** The clock for back-off deadlines (default the system's). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public RedisStreamsJobQueue build() {
      if (uri == null) {
        throw new IllegalStateException("uri: not set (expected: redis://host:port)");
      }
      return new RedisStreamsJobQueue(this);
    }
  }
}
