package io.scalestack.queue;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.MessageProperties;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.scalestack.queue.internal.RetryPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link JobQueue} on RabbitMQ for delivery, with the jobs' state in Redis (as Celery pairs a
 * broker with a result backend): RabbitMQ cannot say where a job is by its id, nor keep a result.
 * It suits a topology that already runs RabbitMQ; {@link RedisStreamsJobQueue} needs Redis only.
 *
 * <p>RabbitMQ: two durable quorum queues (replicated, and they survive a broker restart), {@code
 * scalestack.q.NAME} for new jobs and {@code scalestack.q.NAME.again} for jobs published again (due
 * retries, jobs of workers that stopped renewing). A message is just a job id. Every publish waits
 * for its publisher confirm (asynchronous confirms, so that concurrent producers share the round
 * trips), so {@link #enqueue} returns only once the broker has the job. A queue object consumes
 * both queues on one channel of its own with manual acks and {@code basicQos(prefetch)}, from its
 * first {@link #take} on (a producer-only object holds no messages); deliveries of the {@code
 * again} queue go to the front of the local buffer, so a recovered job does not wait behind the
 * backlog.
 *
 * <p>Redis, keys as in {@link RedisStreamsJobQueue} (hash tag {@code {name}}, so that one Lua
 * script may touch them together): a hash per job {@code q:{name}:job:ID} (type, payload, state,
 * attempts, result, error, worker, {@code until}: the lease's end or the back-off's); the sorted set
 * {@code q:{name}:timers} of jobs that must be published again if nothing happens before the score
 * (a running job's lease end, a retrying job's back-off end); the dead-letter stream {@code
 * q:{name}:dead}. Every state change is one Lua script, so it is atomic. A RabbitMQ queue and a Redis
 * Streams queue of the same name must not share a Redis.
 *
 * <p>Leases, one mechanism: the broker owns a job until a worker takes it, the lease after. A take
 * marks the job running in Redis (attempt + 1, lease end, a timer) and only then acks the delivery.
 * A worker killed before that (kill -9 closes its connection) has its unacked deliveries requeued
 * by RabbitMQ at once; a worker that dies or hangs after it stops renewing, and housekeeping (every
 * queue object runs it, each timer claimed by one of them in a script) publishes the job again when
 * its timer is due, so another worker takes it within the lease timeout plus one housekeeping
 * interval. Because no delivery stays unacked while a job runs, RabbitMQ's {@code consumer_timeout}
 * (30 minutes by default, global in 3.10, and it closes the whole channel) never fires because of
 * a job, however long: {@link #renew} only moves the lease end and the timer in Redis. It can only
 * fire on prefetched deliveries left waiting 30 minutes (every worker of the process on a long job);
 * those were no lease, the broker requeues them, and the next take opens a new channel. The lease token is
 * the attempt number: a worker whose job was taken again cannot renew or fail it any more; its
 * late completion is still accepted if nobody completed first, because the result is real.
 *
 * <p>A delivered message is taken only if the job is queued, or running or retrying with its
 * {@code until} past; any other copy (a job already done, dead, or held by a live lease: a message
 * published twice, redelivered after an ack was lost) is acked and dropped, and the timers
 * guarantee the job is published again whenever it needs to be. So publishing twice is harmless,
 * and housekeeping publishes after claiming (a crash in between delays the job by one lease timeout,
 * never loses it).
 *
 * <p>Completion writes the result only if the job is not done yet (in the script: the first result
 * wins). A failure schedules the next attempt after the exponential back-off of {@link
 * RetryPolicy} with jitter, as a timer in Redis: RabbitMQ 3.10 has no delayed messages without a
 * plugin, and per-message TTLs on a delay queue expire only at the queue's head. After {@code
 * maxAttempts} failures, or {@code maxAttempts} deliveries without an answer (a job that kills its
 * workers), the job goes to the dead letters with its last error. The dead letters live in Redis,
 * not in a RabbitMQ dead-letter queue, because attempts are counted there: a broker's {@code
 * x-delivery-limit} would count only deliveries before a take, which no job can make fail.
 *
 * <p>An enqueue writes the job's hash, then publishes; if the publish fails the hash is deleted and
 * the enqueue throws. A producer killed between the two leaves a queued hash nobody delivers, for a
 * job whose id it never returned. Lease and back-off deadlines are compared on the queue objects'
 * clocks, as in {@link RedisStreamsJobQueue}.
 *
 * <p>Thread-safe. {@link #take} waits on the local buffer up to its {@code wait}; every broker and
 * Redis call is bounded.
 */
public final class RabbitMqJobQueue implements JobQueue {

  private static final Logger log = LoggerFactory.getLogger(RabbitMqJobQueue.class);
  private static final Duration BROKER_TIMEOUT = Duration.ofSeconds(10);
  private static final int REAP_LIMIT = 100;

  // KEYS: job hash; ARGV: type, payload, now
  private static final String ENQUEUE = """
      redis.call('HSET', KEYS[1], 'type', ARGV[1], 'payload', ARGV[2], 'state', 'queued', 'attempts', 0,
        'enqueued', ARGV[3])
      return 1""";
  // KEYS: job hash, timers, dead; ARGV: consumer, now, lease millis, max attempts, job id
  // -> {outcome, type, payload, attempts, previous state}; outcome 'taken', 'dead', or why the copy is dropped
  private static final String DELIVER = """
      local state = redis.call('HGET', KEYS[1], 'state')
      if (not state) or state == 'done' or state == 'dead' then return {state or 'unknown'} end
      local now = tonumber(ARGV[2])
      if state ~= 'queued' and tonumber(redis.call('HGET', KEYS[1], 'until') or '0') > now then return {'held'} end
      local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
      if state == 'running' and attempts > tonumber(ARGV[4]) then
        local err = 'delivered ' .. attempts .. ' times without an answer (each worker died or lost the lease)'
        redis.call('HSET', KEYS[1], 'state', 'dead', 'error', err)
        redis.call('HDEL', KEYS[1], 'worker', 'until')
        redis.call('ZREM', KEYS[2], ARGV[5])
        redis.call('XADD', KEYS[3], '*', 'job', ARGV[5], 'error', err, 'attempts', attempts)
        return {'dead'}
      end
      local untilMillis = now + tonumber(ARGV[3])
      redis.call('HSET', KEYS[1], 'state', 'running', 'worker', ARGV[1], 'until', untilMillis)
      redis.call('ZADD', KEYS[2], untilMillis, ARGV[5])
      return {'taken', redis.call('HGET', KEYS[1], 'type'), redis.call('HGET', KEYS[1], 'payload'), attempts, state}""";
  // KEYS: job hash, timers; ARGV: lease token (attempt), now, lease millis, job id -> 1 if renewed
  private static final String RENEW = """
      if redis.call('HGET', KEYS[1], 'state') ~= 'running' or redis.call('HGET', KEYS[1], 'attempts') ~= ARGV[1] then
        return 0
      end
      local untilMillis = tonumber(ARGV[2]) + tonumber(ARGV[3])
      redis.call('HSET', KEYS[1], 'until', untilMillis)
      redis.call('ZADD', KEYS[2], untilMillis, ARGV[4])
      return 1""";
  // KEYS: job hash, timers; ARGV: result, job id -> 1 if this completion wrote the result
  private static final String COMPLETE = """
      local state = redis.call('HGET', KEYS[1], 'state')
      if (not state) or state == 'done' then return 0 end
      redis.call('HSET', KEYS[1], 'state', 'done', 'result', ARGV[1])
      redis.call('HDEL', KEYS[1], 'worker', 'until')
      redis.call('ZREM', KEYS[2], ARGV[2])
      return 1""";
  // KEYS: job hash, timers, dead; ARGV: lease token (attempt), error, max attempts, due millis, job id
  private static final String FAIL = """
      if redis.call('HGET', KEYS[1], 'state') ~= 'running' or redis.call('HGET', KEYS[1], 'attempts') ~= ARGV[1] then
        return 'lost'
      end
      local attempts = tonumber(ARGV[1])
      redis.call('HSET', KEYS[1], 'error', ARGV[2])
      redis.call('HDEL', KEYS[1], 'worker')
      if attempts >= tonumber(ARGV[3]) then
        redis.call('HSET', KEYS[1], 'state', 'dead')
        redis.call('HDEL', KEYS[1], 'until')
        redis.call('ZREM', KEYS[2], ARGV[5])
        redis.call('XADD', KEYS[3], '*', 'job', ARGV[5], 'error', ARGV[2], 'attempts', attempts)
        return 'dead'
      end
      redis.call('HSET', KEYS[1], 'state', 'retrying', 'until', ARGV[4])
      redis.call('ZADD', KEYS[2], ARGV[4], ARGV[5])
      return 'retrying'""";
  // KEYS: timers; ARGV: now, next try, limit -> the due job ids, each claimed by moving its timer to the next try
  private static final String REAP = """
      local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
      for _, id in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], id) end
      return due""";

  private final String name;
  private final RetryPolicy policy;
  private final long leaseMillis;
  private final int prefetch;
  private final Clock clock;
  private final String workQueue;
  private final String againQueue;
  private final String timers;
  private final String dead;
  private final RedisClient redisClient;
  private final StatefulRedisConnection<String, String> redisConnection;
  private final RedisCommands<String, String> redis;
  /** SHA-1 of each script, loaded once: EVALSHA sends 40 bytes instead of the script. */
  private final Map<String, String> shas = new ConcurrentHashMap<>();
  private final Connection connection;
  private final Channel publishing;
  /** Publishes waiting for their confirm, by sequence number. */
  private final ConcurrentNavigableMap<Long, CompletableFuture<Void>> unconfirmed = new ConcurrentSkipListMap<>();
  /** Deliveries not taken yet, each with its channel (acked there); bounded by the prefetch. */
  private final LinkedBlockingDeque<Pending> buffer = new LinkedBlockingDeque<>();

  private record Pending(Channel channel, Delivery delivery) {}
  private final Object consumingLock = new Object();
  private volatile Channel consuming;
  private final ScheduledExecutorService housekeeping;
  private volatile boolean closed;

  private RabbitMqJobQueue(Builder builder) {
    this.name = builder.name;
    this.policy = builder.policy;
    this.leaseMillis = policy.leaseTimeout().toMillis();
    this.prefetch = builder.prefetch;
    this.clock = builder.clock;
    this.workQueue = "scalestack.q." + name;
    this.againQueue = "scalestack.q." + name + ".again";
    this.timers = "q:{" + name + "}:timers";
    this.dead = "q:{" + name + "}:dead";
    RedisURI redisUri = RedisURI.create(builder.redis);
    redisUri.setTimeout(BROKER_TIMEOUT);
    this.redisClient = RedisClient.create(redisUri);
    try {
      this.redisConnection = redisClient.connect();
    } catch (RuntimeException e) {
      redisClient.shutdown();
      throw new QueueException("queue " + name + ": cannot connect to Redis " + builder.redis, e);
    }
    this.redis = redisConnection.sync();
    try {
      ConnectionFactory factory = new ConnectionFactory();
      factory.setUri(builder.uri);
      factory.setConnectionTimeout((int) BROKER_TIMEOUT.toMillis());
      factory.setHandshakeTimeout((int) BROKER_TIMEOUT.toMillis());
      factory.setChannelRpcTimeout((int) BROKER_TIMEOUT.toMillis());
      factory.setShutdownTimeout((int) BROKER_TIMEOUT.toMillis());
      // automatic recovery (the default) reconnects and re-consumes after a broker restart; acks of
      // deliveries from before it are ignored by the client, and the broker requeued those anyway
      this.connection = factory.newConnection("scalestack-queue-" + name);
      this.publishing = connection.createChannel();
      Map<String, Object> quorum = Map.of("x-queue-type", "quorum");
      publishing.queueDeclare(workQueue, true, false, false, quorum);
      publishing.queueDeclare(againQueue, true, false, false, quorum);
      publishing.confirmSelect();
      publishing.addConfirmListener((seq, multiple) -> confirmed(seq, multiple, null),
          (seq, multiple) -> confirmed(seq, multiple, "nacked by the broker"));
      publishing.addShutdownListener(cause -> confirmed(Long.MAX_VALUE, true, "channel closed: " + cause.getMessage()));
    } catch (Exception e) {
      close();
      throw new QueueException("queue " + name + ": cannot connect to RabbitMQ " + redacted(builder.uri), e);
    }
    long interval = Math.max(10, Math.min(200, Math.min(leaseMillis, policy.backoffBase().toMillis()) / 4));
    this.housekeeping = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name("scalestack-queue-" + name + "-housekeeping").factory());
    housekeeping.scheduleWithFixedDelay(this::republishDue, interval, interval, TimeUnit.MILLISECONDS);
  }

  /** A builder; {@link Builder#uri(String)} and {@link Builder#redis(String)} are required. */
  public static Builder builder() {
    return new Builder();
  }

  private static String redacted(String uri) {
    return uri == null ? null : uri.replaceAll("//[^@/]*@", "//***@");
  }

  private String jobKey(String id) {
    return "q:{" + name + "}:job:" + id;
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

  @Override
  public String enqueue(String type, String payload) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    String id = UUID.randomUUID().toString();
    script(ENQUEUE, ScriptOutputType.INTEGER, new String[] {jobKey(id)}, type, payload, Long.toString(clock.millis()));
    try {
      publish(workQueue, id);
    } catch (QueueException e) {
      redis.del(jobKey(id)); // nobody will deliver it: no job rather than a job stuck in "queued"
      throw e;
    }
    return id;
  }

  /** Publishes a job id and waits for the broker's confirm (bounded). */
  private void publish(String queue, String id) {
    CompletableFuture<Void> confirm = new CompletableFuture<>();
    synchronized (publishing) {
      long seq = publishing.getNextPublishSeqNo();
      unconfirmed.put(seq, confirm);
      try {
        publishing.basicPublish("", queue, MessageProperties.PERSISTENT_TEXT_PLAIN, id.getBytes(StandardCharsets.UTF_8));
      } catch (IOException | RuntimeException e) {
        unconfirmed.remove(seq);
        throw new QueueException("queue " + name + ": publishing job " + id + " failed", e);
      }
    }
    try {
      confirm.get(BROKER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw new QueueException("queue " + name + ": job " + id + " not confirmed: " + e.getCause().getMessage(), e);
    } catch (TimeoutException e) {
      throw new QueueException("queue " + name + ": no confirm for job " + id + " within " + BROKER_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new QueueException("queue " + name + ": interrupted waiting for the confirm of job " + id, e);
    }
  }

  /** Settles the publishes a confirm (or a nack, or a closed channel: {@code failure}) covers. */
  private void confirmed(long seq, boolean multiple, String failure) {
    Map<Long, CompletableFuture<Void>> settled =
        multiple ? unconfirmed.headMap(seq, true) : unconfirmed.subMap(seq, true, seq, true);
    for (CompletableFuture<Void> confirm : settled.values()) {
      if (failure == null) {
        confirm.complete(null);
      } else {
        confirm.completeExceptionally(new IOException(failure));
      }
    }
    settled.clear();
  }

  /** Starts consuming on the first take, so that a queue object that only enqueues holds no deliveries. */
  private Channel consuming() throws IOException {
    Channel channel = consuming;
    if (channel != null) {
      return channel;
    }
    synchronized (consumingLock) {
      if (consuming == null) {
        Channel created = connection.createChannel();
        created.basicQos(prefetch);
        created.basicConsume(workQueue, false, (tag, delivery) -> buffer.addLast(new Pending(created, delivery)),
            tag -> log.warn("queue {}: the broker cancelled the consumer of {}", name, workQueue));
        // published again: recovered or due for retry, so ahead of the backlog
        created.basicConsume(againQueue, false, (tag, delivery) -> buffer.addFirst(new Pending(created, delivery)),
            tag -> log.warn("queue {}: the broker cancelled the consumer of {}", name, againQueue));
        created.addShutdownListener(cause -> {
          // a lost connection is recovered with its channels; a channel the broker closed (its
          // consumer_timeout on deliveries that waited here too long, say) is not: open another
          if (!closed && !cause.isHardError()) {
            log.warn("queue {}: the broker closed the consuming channel ({}); its deliveries are requeued, the next"
                + " take opens another", name, cause.getMessage());
            synchronized (consumingLock) {
              if (consuming == created) {
                consuming = null;
              }
            }
          }
        });
        consuming = created;
      }
      return consuming;
    }
  }

  @Override
  public Optional<Lease> take(String consumer, Duration wait) {
    Objects.requireNonNull(consumer, "consumer");
    Objects.requireNonNull(wait, "wait");
    long deadline = System.nanoTime() + wait.toNanos();
    try {
      consuming();
      while (true) {
        Pending pending = buffer.pollFirst(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (pending == null) {
          return Optional.empty();
        }
        Optional<Lease> lease = deliver(consumer, pending);
        if (lease.isPresent()) {
          return lease;
        }
      }
    } catch (IOException e) {
      throw new QueueException("queue " + name + ": consuming from RabbitMQ failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  /** Takes the job of a delivery in Redis, then acks the delivery: a lease, or empty for a copy to drop. */
  private Optional<Lease> deliver(String consumer, Pending pending) {
    Delivery delivery = pending.delivery();
    String id = new String(delivery.getBody(), StandardCharsets.UTF_8);
    List<Object> answer;
    try {
      answer = script(DELIVER, ScriptOutputType.MULTI, new String[] {jobKey(id), timers, dead}, consumer,
          Long.toString(clock.millis()), Long.toString(leaseMillis), Integer.toString(policy.maxAttempts()), id);
    } catch (RuntimeException e) {
      // Redis failed: keep the delivery for the next take rather than requeue it into a hot loop
      buffer.addFirst(pending);
      throw new QueueException("queue " + name + ": taking job " + id + " in Redis failed", e);
    }
    ack(pending.channel(), delivery);
    String outcome = (String) answer.get(0);
    switch (outcome) {
      case "taken" -> {
        int attempt = ((Long) answer.get(3)).intValue();
        if ("running".equals(answer.get(4))) {
          log.info("queue {}: job {} taken again by {} (its worker stopped renewing the lease), attempt {}", name, id,
              consumer, attempt);
        }
        Job job = new Job(id, (String) answer.get(1), (String) answer.get(2), attempt);
        return Optional.of(new Lease(job, Integer.toString(attempt), consumer));
      }
      case "dead" -> log.warn("queue {}: job {} went to the dead letters: delivered more than {} times without an"
          + " answer", name, id, policy.maxAttempts());
      default -> log.debug("queue {}: dropped a copy of job {} ({})", name, id, outcome);
    }
    return Optional.empty();
  }

  private void ack(Channel channel, Delivery delivery) {
    try {
      synchronized (channel) {
        channel.basicAck(delivery.getEnvelope().getDeliveryTag(), false);
      }
    } catch (IOException | RuntimeException e) {
      // the broker redelivers it; that copy finds the job held by this lease (or done) and is dropped
      log.warn("queue {}: ack failed ({}); a copy may come again and will be dropped", name, e.toString());
    }
  }

  @Override
  public boolean renew(Lease lease) {
    Long renewed = script(RENEW, ScriptOutputType.INTEGER, new String[] {jobKey(lease.job().id()), timers},
        lease.deliveryId(), Long.toString(clock.millis()), Long.toString(leaseMillis), lease.job().id());
    return renewed != null && renewed == 1;
  }

  @Override
  public void complete(Lease lease, String result) {
    Objects.requireNonNull(result, "result");
    Long written = script(COMPLETE, ScriptOutputType.INTEGER, new String[] {jobKey(lease.job().id()), timers}, result,
        lease.job().id());
    if (written == null || written == 0) {
      log.info("queue {}: job {} was already done; this completion by {} changed nothing", name, lease.job().id(),
          lease.consumer());
    }
  }

  @Override
  public void fail(Lease lease, String error) {
    Objects.requireNonNull(error, "error");
    long due = clock.millis() + policy.backoffMillis(lease.job().attempt());
    String outcome = script(FAIL, ScriptOutputType.VALUE, new String[] {jobKey(lease.job().id()), timers, dead},
        lease.deliveryId(), error, Integer.toString(policy.maxAttempts()), Long.toString(due), lease.job().id());
    log.info("queue {}: job {} failed on attempt {} ({}): {}", name, lease.job().id(), lease.job().attempt(), outcome,
        error);
  }

  /**
   * Housekeeping: publishes again the jobs whose timer is due (a lease not renewed, a back-off over).
   * Each timer is first claimed by moving it one lease timeout ahead, so that the queue objects
   * running housekeeping do not all publish it, and a publish that fails is tried again then.
   */
  private void republishDue() {
    try {
      long now = clock.millis();
      List<String> due = script(REAP, ScriptOutputType.MULTI, new String[] {timers}, Long.toString(now),
          Long.toString(now + leaseMillis), Integer.toString(REAP_LIMIT));
      for (String id : due) {
        publish(againQueue, id);
      }
    } catch (RuntimeException e) {
      // the claimed timers come due again one lease timeout later
      if (closed) {
        log.debug("queue {}: closing while publishing due jobs again: {}", name, e.toString());
      } else {
        log.warn("queue {}: publishing due jobs again failed: {}", name, e.toString());
      }
    }
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

  /** Stops housekeeping and consuming (the broker requeues the deliveries not taken), then disconnects. */
  @Override
  public void close() {
    closed = true;
    if (housekeeping != null) {
      // a pass under way finishes (its calls are bounded) rather than being interrupted mid-publish
      housekeeping.shutdown();
      try {
        if (!housekeeping.awaitTermination(BROKER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          log.warn("queue {}: housekeeping did not stop within {}", name, BROKER_TIMEOUT);
          housekeeping.shutdownNow();
        }
      } catch (InterruptedException e) {
        housekeeping.shutdownNow();
        Thread.currentThread().interrupt();
      }
    }
    if (connection != null) {
      try {
        connection.close((int) BROKER_TIMEOUT.toMillis());
      } catch (IOException | RuntimeException e) {
        log.warn("queue {}: closing the RabbitMQ connection failed: {}", name, e.toString());
      }
    }
    redisConnection.close();
    redisClient.shutdown();
  }

  /** Configures a {@link RabbitMqJobQueue}. Not thread-safe. */
  public static final class Builder {
    private String uri;
    private String redis;
    private String name = "jobs";
    private RetryPolicy policy = RetryPolicy.DEFAULTS;
    private Clock clock = Clock.systemUTC();
    private int prefetch = 16;

    private Builder() {}

    /** The broker, for example {@code amqp://guest:guest@127.0.0.1:5672}; required. */
    public Builder uri(String uri) {
      Objects.requireNonNull(uri, "uri");
      if (!uri.startsWith("amqp://") && !uri.startsWith("amqps://")) {
        throw new IllegalArgumentException("uri: '" + redacted(uri) + "' (expected: amqp://user:password@host:port)");
      }
      this.uri = uri;
      return this;
    }

    /** The Redis that keeps the jobs' state, for example {@code redis://127.0.0.1:16379}; required. */
    public Builder redis(String redis) {
      Objects.requireNonNull(redis, "redis");
      if (!redis.startsWith("redis://") && !redis.startsWith("rediss://")) {
        throw new IllegalArgumentException("redis: '" + redacted(redis) + "' (expected: redis://host:port)");
      }
      this.redis = redis;
      return this;
    }

    /** The queue's name (default {@code jobs}): queues {@code scalestack.q.NAME…}, keys {@code q:{name}:…}. */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[a-z0-9][a-z0-9._-]{0,62}")) {
        throw new IllegalArgumentException("name: '" + name + "' (expected: lower-case letters, digits, . _ -, up to 63)");
      }
      this.name = name;
      return this;
    }

    /**
     * How many deliveries the broker sends ahead to this queue object (RabbitMQ's {@code basicQos},
     * default 16), per queue it consumes (new jobs, and jobs published again), shared by its
     * workers: enough to keep them busy, few enough that the jobs are spread over the worker
     * processes. A delivery waiting here is not a lease yet: it goes back to the broker's queue
     * when the object closes or its process dies.
     */
    public Builder prefetch(int prefetch) {
      if (prefetch < 1 || prefetch > 1000) {
        throw new IllegalArgumentException("prefetch: " + prefetch + " (expected: 1..1000)");
      }
      this.prefetch = prefetch;
      return this;
    }

    /** How long a lease lasts without a renewal before another worker may take the job (default 5 s). */
    public Builder leaseTimeout(Duration leaseTimeout) {
      Objects.requireNonNull(leaseTimeout, "leaseTimeout");
      if (leaseTimeout.isNegative() || leaseTimeout.isZero()) {
        throw new IllegalArgumentException("leaseTimeout: " + leaseTimeout + " (expected: > 0)");
      }
      this.policy = policy.withLeaseTimeout(leaseTimeout);
      return this;
    }

    /** Attempts before a job goes to the dead letters (default 5). */
    public Builder maxAttempts(int maxAttempts) {
      this.policy = policy.withMaxAttempts(maxAttempts);
      return this;
    }

    /** The first retry's back-off (default 500 ms), doubling per attempt up to {@code max} (default 60 s). */
    public Builder backoff(Duration base, Duration max) {
      this.policy = policy.withBackoff(base, max);
      return this;
    }

    /** The clock for lease and back-off deadlines (default the system's). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public RabbitMqJobQueue build() {
      if (uri == null) {
        throw new IllegalStateException("uri: not set (expected: amqp://user:password@host:port)");
      }
      if (redis == null) {
        throw new IllegalStateException("redis: not set (expected: redis://host:port, the jobs' state)");
      }
      return new RabbitMqJobQueue(this);
    }
  }
}
