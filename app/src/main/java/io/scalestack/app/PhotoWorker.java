package io.scalestack.app;

import io.scalestack.app.internal.Closing;
import io.scalestack.app.internal.JettyServers;
import io.scalestack.app.internal.MemberSettings;
import io.scalestack.app.internal.PhotoQueues;
import io.scalestack.app.internal.Redact;
import io.scalestack.app.internal.RedisProbe;
import io.scalestack.app.internal.WorkerService;
import io.scalestack.blob.BlobStore;
import io.scalestack.blob.BlobStores;
import io.scalestack.imaging.ImageCodec;
import io.scalestack.observability.Telemetry;
import io.scalestack.queue.JobQueue;
import io.scalestack.queue.Worker;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One photo worker, a member of the {@code worker} pool: takes photo edits from the queue one at a
 * time, reads the source's bytes from the blob store, runs the operations and stores the result;
 * serves {@code /health} and {@code /metrics}. It keeps nothing: a worker killed at any moment
 * loses no job (its lease runs out and another worker takes the job, within the lease timeout) and
 * leaves no state behind.
 *
 * <p>{@link #close()} takes no new job, lets the current one finish (up to {@code stopTimeout}),
 * then stops. Thread-safe; start once.
 */
public final class PhotoWorker implements AutoCloseable {

  /** The queue photo edits go on unless configured otherwise. */
  public static final String DEFAULT_QUEUE = "photo-edits";
  /** A killed worker's job is taken by another after this, unless configured otherwise. */
  public static final Duration DEFAULT_LEASE_TIMEOUT = Duration.ofSeconds(6);
  /** Attempts of a failing job before it is dead-lettered, unless configured otherwise. */
  public static final int DEFAULT_MAX_ATTEMPTS = 5;
  /** The back-off after a first failed attempt, doubling after each next one, unless configured otherwise. */
  public static final Duration DEFAULT_BACKOFF = Duration.ofSeconds(1);

  private static final Logger log = LoggerFactory.getLogger(PhotoWorker.class);

  private final String memberName;
  private final InetSocketAddress listen;
  private final String redisUri;
  private final String queueName;
  private final String broker;
  private final String blobStoreUrl;
  private final long maxPixels;
  private final Duration leaseTimeout;
  private final Duration stopTimeout;
  private final int maxAttempts;
  private final Duration backoffBase;
  private final Telemetry givenTelemetry;

  private final ReentrantLock lock = new ReentrantLock();
  // guarded by lock
  private boolean started;
  private boolean closed;
  private Telemetry ownedTelemetry;
  private BlobStore blobs;
  private JobQueue queue;
  private Worker worker;
  private RedisProbe redisProbe;
  private Server server;
  private InetSocketAddress address;

  private PhotoWorker(Builder builder) {
    this.memberName = builder.memberName;
    this.listen = builder.listen;
    this.redisUri = builder.redisUri;
    this.queueName = builder.queueName;
    this.broker = builder.broker;
    this.blobStoreUrl = builder.blobStoreUrl;
    this.maxPixels = builder.maxPixels;
    this.leaseTimeout = builder.leaseTimeout;
    this.stopTimeout = builder.stopTimeout;
    this.maxAttempts = builder.maxAttempts;
    this.backoffBase = builder.backoffBase;
    this.givenTelemetry = builder.telemetry;
  }

  /** A builder; {@code memberName}, {@code redisUri} and {@code blobDirectory} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Opens the blob store and the queue, serves {@code /health} and {@code /metrics}, and starts
   * taking jobs.
   *
   * @throws IllegalStateException naming what could not be opened or bound; what was opened is closed again
   */
  public PhotoWorker start() {
    lock.lock();
    try {
      if (started) {
        throw new IllegalStateException(memberName + ": start() on a worker that was started (expected: a new worker)");
      }
      started = true;
      try {
        doStart();
      } catch (RuntimeException e) {
        closed = true;
        release();
        throw e;
      }
    } finally {
      lock.unlock();
    }
    log.info("{} taking photo edits from queue {}, health and metrics on http://{}:{}", memberName, queueName,
        address.getHostString(), address.getPort());
    return this;
  }

  private void doStart() {
    Telemetry telemetry = givenTelemetry != null ? givenTelemetry : (ownedTelemetry = Telemetry.forMember(memberName));
    try {
      blobs = BlobStores.open(blobStoreUrl);
      // the retry policy is the worker's: a failed attempt is retried, or dead-lettered, by fail()
      queue = PhotoQueues.open(redisUri, broker, queueName, leaseTimeout, maxAttempts, backoffBase);
    } catch (RuntimeException e) {
      throw new IllegalStateException(memberName + ": cannot open the blob store " + blobStoreUrl + " or the queue "
          + queueName + " at " + Redact.uri(redisUri) + ": " + e.getMessage(), e);
    }
    redisProbe = new RedisProbe(redisUri, Duration.ofSeconds(2));
    server = JettyServers.create(memberName, listen, Duration.ofSeconds(5),
        WorkerService.context(memberName, Map.of("redis", redisProbe::isReachable), Telemetry.CONTENT_TYPE,
            telemetry::scrape));
    try {
      server.start();
    } catch (Exception e) {
      throw new IllegalStateException(memberName + ": cannot serve HTTP on " + listen.getAddress().getHostAddress() + ":"
          + listen.getPort() + ": " + e.getMessage(), e);
    }
    address = new InetSocketAddress(listen.getAddress(), JettyServers.localPort(server));
    ImageCodec codec = ImageCodec.builder().maxPixels(maxPixels).build();
    // heartbeat at a third of the lease: two renewals may be lost before another worker takes the job
    worker = new Worker(queue, memberName, WorkerService.photoEdits(blobs, codec, telemetry.registry()),
        leaseTimeout.dividedBy(3));
  }

  /** Where {@code /health} and {@code /metrics} are served, with the actual port when port 0 was asked for. */
  public InetSocketAddress address() {
    lock.lock();
    try {
      if (!started || closed) {
        throw new IllegalStateException(memberName + ": address() on a worker that is not running (expected: started)");
      }
      return address;
    } finally {
      lock.unlock();
    }
  }

  /** Takes no new job, finishes the current one (up to the stop timeout), then closes everything. Idempotent. */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      release();
    } finally {
      lock.unlock();
    }
    log.info("{} stopped", memberName);
  }

  private void release() {
    if (worker != null) {
      try {
        if (!worker.stop(stopTimeout)) {
          log.warn("{}: the current job did not finish within {}; its lease will run out and another worker takes it",
              memberName, stopTimeout);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    Closing.stop(log, memberName, server);
    Closing.close(log, memberName, "the Redis health probe", redisProbe);
    Closing.close(log, memberName, "the queue", queue);
    Closing.close(log, memberName, "the blob store", blobs);
    Closing.close(log, memberName, "the telemetry", ownedTelemetry);
  }


  /** Validating builder of a {@link PhotoWorker}; each setter checks its argument at once. Not thread-safe. */
  public static final class Builder {
    private String memberName;
    private InetSocketAddress listen = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private String redisUri;
    private String queueName = DEFAULT_QUEUE;
    private String broker;
    private String blobStoreUrl;
    private long maxPixels = 25_000_000;
    private Duration leaseTimeout = DEFAULT_LEASE_TIMEOUT;
    private Duration stopTimeout = Duration.ofSeconds(60);
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration backoffBase = DEFAULT_BACKOFF;
    private Telemetry telemetry;

    private Builder() {}

    /** Required: the member's name ({@code worker-1}), its consumer name on the queue. */
    public Builder memberName(String memberName) {
      this.memberName = MemberSettings.memberName(memberName);
      return this;
    }

    /** Where {@code /health} and {@code /metrics} listen. Default: loopback, port 0. */
    public Builder listen(InetSocketAddress listen) {
      this.listen = MemberSettings.listen(listen);
      return this;
    }

    /** Required: the Redis holding the queue, {@code redis://host:port}. */
    public Builder redisUri(String redisUri) {
      this.redisUri = MemberSettings.redisUri(redisUri);
      return this;
    }

    /** The queue to take edits from (default {@value PhotoWorker#DEFAULT_QUEUE}). */
    public Builder queue(String name) {
      this.queueName = MemberSettings.queueName("queue", name);
      return this;
    }

    /** Required (or {@link #blobStore}): the directory of photos' bytes, shared with the web servers. */
    public Builder blobDirectory(Path blobDirectory) {
      this.blobStoreUrl = Objects.requireNonNull(blobDirectory, "blobDirectory").toAbsolutePath().toString();
      return this;
    }

    /**
     * Takes edits from RabbitMQ at {@code amqpUri} ({@code amqp://user:password@host:port}), their
     * state in the Redis of {@link #redisUri}, instead of from Redis Streams: as the web servers do.
     */
    public Builder broker(String amqpUri) {
      this.broker = MemberSettings.amqpUri("broker", amqpUri);
      return this;
    }

    /** Required (or {@link #blobDirectory}): the web servers' blob store, as a {@link BlobStores} URL. */
    public Builder blobStore(String url) {
      this.blobStoreUrl = Objects.requireNonNull(url, "blobStore");
      return this;
    }

    /** The most pixels a source or a result may have (default 25,000,000), as the web servers check. */
    public Builder maxPixels(long maxPixels) {
      if (maxPixels < 1 || maxPixels > 100_000_000) {
        throw new IllegalArgumentException("maxPixels: " + maxPixels + " (expected: 1..100000000)");
      }
      this.maxPixels = maxPixels;
      return this;
    }

    /**
     * How long a job stays this worker's without a heartbeat (default 6 s): a killed worker's job
     * is taken by another within this. The heartbeat renews it every third of it.
     */
    public Builder leaseTimeout(Duration leaseTimeout) {
      Objects.requireNonNull(leaseTimeout, "leaseTimeout");
      if (leaseTimeout.toMillis() < 300) {
        throw new IllegalArgumentException("leaseTimeout: " + leaseTimeout + " (expected: >= 300 ms)");
      }
      this.leaseTimeout = leaseTimeout;
      return this;
    }

    /** How long {@link #close()} lets the current job finish (default 60 s). */
    public Builder stopTimeout(Duration stopTimeout) {
      Objects.requireNonNull(stopTimeout, "stopTimeout");
      if (stopTimeout.isNegative()) {
        throw new IllegalArgumentException("stopTimeout: " + stopTimeout + " (expected: >= 0)");
      }
      this.stopTimeout = stopTimeout;
      return this;
    }

    /**
     * Attempts before a failing job goes to the dead letters (default 5), and the back-off after
     * the first failed one (default 1 s), doubled after each next one up to 32 times it.
     */
    public Builder retries(int maxAttempts, Duration backoffBase) {
      if (maxAttempts < 1 || maxAttempts > 1000) {
        throw new IllegalArgumentException("maxAttempts: " + maxAttempts + " (expected: 1..1000)");
      }
      Objects.requireNonNull(backoffBase, "backoffBase");
      if (backoffBase.isNegative()) {
        throw new IllegalArgumentException("backoffBase: " + backoffBase + " (expected: >= 0)");
      }
      this.maxAttempts = maxAttempts;
      this.backoffBase = backoffBase;
      return this;
    }

    /** The telemetry to record into, owned by the caller. Default: the worker's own. */
    public Builder telemetry(Telemetry telemetry) {
      this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
      return this;
    }

    /** @throws IllegalStateException when a required field is missing */
    public PhotoWorker build() {
      if (memberName == null) {
        throw new IllegalStateException("memberName: missing (expected: a member name such as worker-1)");
      }
      if (redisUri == null) {
        throw new IllegalStateException("redisUri: missing (expected: a redis:// URI)");
      }
      if (blobStoreUrl == null) {
        throw new IllegalStateException("blobStore: missing (expected: the directory or bucket shared with the web servers)");
      }
      return new PhotoWorker(this);
    }
  }
}
