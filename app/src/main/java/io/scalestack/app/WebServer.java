package io.scalestack.app;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.app.internal.Database;
import io.scalestack.app.internal.ShardedDatabase;
import io.scalestack.data.ShardFunction;
import io.scalestack.data.SnowflakeIds;
import io.scalestack.app.internal.Caches;
import io.scalestack.app.internal.Closing;
import io.scalestack.app.internal.JettyServers;
import io.scalestack.app.internal.LazyJobQueue;
import io.scalestack.app.internal.MemberSettings;
import io.scalestack.app.internal.PhotoQueues;
import io.scalestack.app.internal.PhotoService;
import io.scalestack.app.internal.Redact;
import io.scalestack.app.internal.RedisProbe;
import io.scalestack.data.ReplicationGroup;
import io.scalestack.observability.Telemetry;
import io.scalestack.blob.BlobStore;
import io.scalestack.blob.BlobStores;
import io.scalestack.queue.JobQueue;
import io.scalestack.session.ClusteredSessionRepository;
import io.scalestack.session.LocalSessionRepository;
import io.scalestack.session.RedisSessionRepository;
import io.scalestack.session.SessionRepository;
import io.scalestack.session.SessionFilter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stateless web server of the photo service: Jetty 12 with its servlets on virtual threads,
 * accounts in PostgreSQL (HikariCP, schema by Flyway), sessions in Redis through the session
 * module (or, with the {@code local} and {@code sticky} strategies, in its own memory). Several servers may share one database and one Redis; a user logged in through one is
 * logged in on all.
 *
 * <p>Routes: {@code POST /api/signup}, {@code POST /api/login}, {@code POST /api/logout},
 * {@code GET|PUT /api/me}, {@code GET /} (a page to try them), {@code GET /health} (200 only when
 * the database and Redis are reachable, else 503), {@code GET /metrics} (Prometheus text). Every
 * response carries {@code X-Served-By: <member name>}.
 *
 * <p>Jetty's selector and acceptor threads are platform threads; every request is handled on a
 * virtual thread of its own, which is where JDBC and Redis calls block.
 *
 * <p>Thread-safe: {@link #start()}, {@link #address()} and {@link #close()} may be called from any
 * thread. A server starts at most once.
 */
public final class WebServer implements AutoCloseable {

  /** The name of the session cookie. */
  public static final String SESSION_COOKIE = "SESSION";

  private static final Logger log = LoggerFactory.getLogger(WebServer.class);

  /** How long {@link #close()} lets requests in flight finish. */
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

  /** Bound of one Redis connect or {@code PING} of {@code /health}. */
  private static final Duration REDIS_PROBE_TIMEOUT = Duration.ofSeconds(2);

  private enum State {
    NEW,
    STARTED,
    CLOSED
  }

  private final String memberName;
  private final InetSocketAddress listen;
  private final String jdbcUrl;
  private final List<String> replicaJdbcUrls;
  private final Duration replicaMaxLag;
  private final String dbUser;
  private final String dbPassword;
  private final String redisUri;
  private final int poolSize;
  private final int shards;
  private final ShardFunction shardFunction;
  private final int workerId;
  private final int bcryptCost;
  private final Duration sessionMaxInactive;
  private final String sessionStrategy;
  private final RedisSessionRepository.Durability sessionDurability;
  private final ClusteredSessionRepository.Replication sessionReplication;
  private final Path sessionClusterDirectory;
  private final int maxRequestBodyBytes;
  private final String adminToken;
  private final Telemetry givenTelemetry;
  private final String blobStoreUrl;
  private final String photoQueueName;
  private final String photoQueueBroker;
  private final String assetBase;
  private final boolean cacheTier;
  private final int maxPhotoBytes;
  private final long maxPhotoPixels;

  private final ReentrantLock lock = new ReentrantLock();
  // All guarded by lock.
  private State state = State.NEW;
  private Telemetry ownedTelemetry;
  private ShardedDatabase database;
  private SessionRepository sessions;
  private RedisProbe redisProbe;
  private BlobStore blobs;
  private JobQueue photoQueue;
  private Caches caches;
  private Server server;
  private InetSocketAddress address;

  private WebServer(Builder builder) {
    this.memberName = builder.memberName;
    this.listen = builder.listen;
    this.jdbcUrl = builder.jdbcUrl;
    this.replicaJdbcUrls = List.copyOf(builder.replicaJdbcUrls);
    this.replicaMaxLag = builder.replicaMaxLag;
    this.dbUser = builder.dbUser;
    this.dbPassword = builder.dbPassword;
    this.redisUri = builder.redisUri;
    this.poolSize = builder.poolSize;
    this.shards = builder.shards;
    this.shardFunction = builder.shardFunction;
    this.workerId = builder.workerId >= 0 ? builder.workerId : workerIdOf(builder.memberName);
    this.bcryptCost = builder.bcryptCost;
    this.sessionMaxInactive = builder.sessionMaxInactive;
    this.sessionStrategy = builder.sessionStrategy;
    this.sessionDurability = builder.sessionDurability;
    this.sessionReplication = builder.sessionReplication;
    this.sessionClusterDirectory = builder.sessionClusterDirectory;
    this.maxRequestBodyBytes = builder.maxRequestBodyBytes;
    this.adminToken = builder.adminToken;
    this.givenTelemetry = builder.telemetry;
    this.blobStoreUrl = builder.blobStoreUrl;
    this.photoQueueName = builder.photoQueueName;
    this.photoQueueBroker = builder.photoQueueBroker;
    this.assetBase = builder.assetBase;
    this.cacheTier = builder.cacheTier;
    this.maxPhotoBytes = builder.maxPhotoBytes;
    this.maxPhotoPixels = builder.maxPhotoPixels;
  }

  // what `scalestack experiment sessions` reads from each server: sessions held here, cluster traffic
  private static void registerSessionMetrics(SessionRepository sessions, MeterRegistry registry) {
    if (sessions instanceof LocalSessionRepository local) {
      Gauge.builder("scalestack_session_local_sessions", local, LocalSessionRepository::size)
          .description("Sessions held in this server's memory").register(registry);
    } else if (sessions instanceof RedisSessionRepository store) {
      // the store's near cache: copies, bounded, that Redis invalidates; the sessions live in Redis
      Gauge.builder("scalestack_session_local_sessions", store, RedisSessionRepository::nearCacheSessions)
          .description("Session copies held in this server's near cache").register(registry);
    } else if (sessions instanceof ClusteredSessionRepository cluster) {
      Gauge.builder("scalestack_session_local_sessions", cluster,
              ClusteredSessionRepository::localSessions)
          .description("Sessions held in this server's memory").register(registry);
      FunctionCounter.builder("scalestack_session_cluster_sent_bytes", cluster,
              ClusteredSessionRepository::bytesSent)
          .baseUnit("bytes").description("Session replication bytes sent to other servers").register(registry);
      Gauge.builder("scalestack_session_cluster_members", cluster, ClusteredSessionRepository::members)
          .description("Web servers in the session cluster as this one sees it").register(registry);
      FunctionCounter.builder("scalestack_session_cluster_sent_messages", cluster,
              ClusteredSessionRepository::messagesSent)
          .description("Session replication messages sent to other servers").register(registry);
    }
  }

  /** A builder; {@code memberName}, {@code jdbcUrl}, {@code dbUser}, {@code dbPassword} and {@code redisUri} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Migrates the database (safe when several servers start at once: Flyway holds a PostgreSQL
   * advisory lock) and starts listening. PostgreSQL must be reachable; Redis may come up later
   * (sessions connect on first use), and until it does {@code /health} answers 503.
   *
   * @return this server
   * @throws IllegalStateException naming what could not be reached or bound, and where; the
   *     resources opened so far are closed again
   */
  public WebServer start() {
    lock.lock();
    try {
      if (state != State.NEW) {
        throw new IllegalStateException(
            memberName + ": start() on a server that is " + state.name().toLowerCase(Locale.ROOT)
                + " (expected: a new server; a server starts at most once)");
      }
      try {
        doStart();
        state = State.STARTED;
      } catch (RuntimeException e) {
        state = State.CLOSED;
        release();
        throw e;
      }
    } finally {
      lock.unlock();
    }
    log.info("{} serving on http://{}:{}", memberName, address.getHostString(), address.getPort());
    return this;
  }

  private void doStart() {
    Telemetry telemetry = givenTelemetry;
    if (telemetry == null) {
      telemetry = ownedTelemetry = Telemetry.forMember(memberName);
    }
    try {
      Database.checkConnects(jdbcUrl, dbUser, dbPassword);
    } catch (SQLException | RuntimeException e) {
      throw failure("cannot connect to PostgreSQL at " + Redact.uri(jdbcUrl), e);
    }
    try {
      database = ShardedDatabase.open(memberName, jdbcUrl, replicaJdbcUrls, dbUser, dbPassword, poolSize, replicaMaxLag,
          telemetry.registry(), shards, shardFunction);
    } catch (SQLException | RuntimeException e) {
      throw failure("cannot open (migrate, shard) the database at " + Redact.uri(jdbcUrl), e);
    }
    try {
      // local and sticky keep sessions in this server's memory (issue 4, the seeds' first two
      // strategies); store shares them through Redis, so any server can answer any request
      sessions = switch (sessionStrategy) {
        case "store" -> RedisSessionRepository.builder(redisUri).durability(sessionDurability).build();
        case "clustered" -> ClusteredSessionRepository.builder()
            .memberName(memberName)
            .replication(sessionReplication)
            .discoveryDirectory(sessionClusterDirectory)
            .build();
        default -> LocalSessionRepository.create();
      };
    } catch (RuntimeException e) {
      throw failure("cannot set up the session store (" + sessionStrategy + ") at " + Redact.uri(redisUri), e);
    }
    registerSessionMetrics(sessions, telemetry.registry());
    redisProbe = new RedisProbe(redisUri, REDIS_PROBE_TIMEOUT);
    SessionFilter sessionFilter =
        SessionFilter.builder()
            .repository(sessions)
            .cookieName(SESSION_COOKIE)
            .maxInactiveInterval(sessionMaxInactive)
            .build();
    try {
      blobs = BlobStores.open(blobStoreUrl);
    } catch (RuntimeException e) {
      throw failure("cannot open the blob store " + blobStoreUrl, e);
    }
    // the web server only enqueues edits and reads their state; workers take them. Opened on
    // first use: the server starts, and serves all but edits, while Redis is still coming up
    photoQueue = new LazyJobQueue(photoQueueName, () -> PhotoQueues.open(redisUri, photoQueueBroker, photoQueueName,
        PhotoWorker.DEFAULT_LEASE_TIMEOUT, PhotoWorker.DEFAULT_MAX_ATTEMPTS, PhotoWorker.DEFAULT_BACKOFF));
    if (cacheTier) {
      caches = Caches.open(redisUri, telemetry.registry());
    }
    Telemetry metrics = telemetry;
    var context =
        PhotoService.context(
            new PhotoService.Settings(
                memberName,
                metrics.registry(),
                metrics::scrape,
                Telemetry.CONTENT_TYPE,
                database.catalogGroup(),
                database.catalog(),
                database.shards(),
                SnowflakeIds.builder().workerId(workerId).build(),
                sessionFilter,
                sessions,
                redisProbe::isReachable,
                bcryptCost,
                maxRequestBodyBytes,
                adminToken,
                this::updateDatabaseTopology,
                blobs,
                photoQueue,
                maxPhotoBytes,
                maxPhotoPixels,
                assetBase,
                caches));

    server = JettyServers.create(memberName, listen, STOP_TIMEOUT, context);
    try {
      server.start();
    } catch (Exception e) {
      throw failure("cannot serve HTTP on " + listen.getAddress().getHostAddress() + ":" + listen.getPort(), e);
    }
    address = new InetSocketAddress(listen.getAddress(), JettyServers.localPort(server));
  }

  /**
   * Points the server at a new primary and replicas (after a failover, or when replicas come and
   * go): requests that need the primary wait for this, bounded, while a failover is under way.
   *
   * @throws IllegalStateException if the server is not started
   */
  public void updateDatabaseTopology(String primaryJdbcUrl, List<String> replicaJdbcUrls) {
    ShardedDatabase current;
    lock.lock();
    try {
      if (state != State.STARTED) {
        throw new IllegalStateException("updateDatabaseTopology: the server is " + state + " (expected: STARTED)");
      }
      current = database;
    } finally {
      lock.unlock();
    }
    current.updateTopology(primaryJdbcUrl, replicaJdbcUrls);
    log.info("{}: database topology now primary {}, {} replica(s)", memberName, Redact.uri(primaryJdbcUrl),
        replicaJdbcUrls.size());
  }

  /** The address this server listens on, with the actual port when port 0 was asked for. */
  public InetSocketAddress address() {
    lock.lock();
    try {
      if (state != State.STARTED) {
        throw new IllegalStateException(
            memberName + ": address() on a server that is " + state.name().toLowerCase(Locale.ROOT)
                + " (expected: a started server)");
      }
      return address;
    } finally {
      lock.unlock();
    }
  }

  /** The member name this server answers {@code X-Served-By} with. */
  public String memberName() {
    return memberName;
  }

  /**
   * Stops accepting connections, lets requests in flight finish for up to 5 seconds, then closes
   * the database pool and the Redis clients. Idempotent.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      release();
    } finally {
      lock.unlock();
    }
    log.info("{} stopped", memberName);
  }

  /** Closes whatever was opened, in reverse order; each failure is logged, none stops the rest. */
  private void release() {
    Closing.stop(log, memberName, server);
    Closing.close(log, memberName, "the Redis health probe", redisProbe);
    Closing.close(log, memberName, "the photo queue", photoQueue);
    Closing.close(log, memberName, "the cache tier", caches);
    Closing.close(log, memberName, "the blob store", blobs);
    Closing.close(log, memberName, "the session repository", sessions);
    Closing.close(log, memberName, "the database pools", database);
    Closing.close(log, memberName, "the telemetry", ownedTelemetry);
  }


  private IllegalStateException failure(String what, Exception cause) {
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String detail = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    return new IllegalStateException(memberName + ": " + what + ": " + detail, cause);
  }

  /** {@code web-3} is worker 3; a name without a number gets a stable one from its hash. */
  static int workerIdOf(String memberName) {
    java.util.regex.Matcher number = java.util.regex.Pattern.compile("(\\d{1,4})$").matcher(memberName);
    if (number.find() && Integer.parseInt(number.group(1)) <= SnowflakeIds.MAX_WORKER_ID) {
      return Integer.parseInt(number.group(1));
    }
    return Math.floorMod(memberName.hashCode(), SnowflakeIds.MAX_WORKER_ID + 1);
  }

  /**
   * Validating builder of a {@link WebServer}. Each setter checks its argument at once and throws
   * {@link IllegalArgumentException} naming the field, the value and what was expected.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {

    private String memberName;
    private InetSocketAddress listen =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private String jdbcUrl;
    private List<String> replicaJdbcUrls = List.of();
    private Duration replicaMaxLag = Duration.ofSeconds(1);
    private String dbUser;
    private String dbPassword;
    private String redisUri;
    private int poolSize = 10;
    private int shards = 1;
    private ShardFunction shardFunction = ShardFunction.CONSISTENT;
    private int workerId = -1;
    private int bcryptCost = 10;
    private Duration sessionMaxInactive = Duration.ofMinutes(30);
    private String sessionStrategy = "store";
    private RedisSessionRepository.Durability sessionDurability = RedisSessionRepository.Durability.ASYNC;
    private ClusteredSessionRepository.Replication sessionReplication = ClusteredSessionRepository.Replication.BACKUP;
    private Path sessionClusterDirectory =
        Path.of(System.getProperty("java.io.tmpdir"), "scalestack-session-cluster-" + System.getProperty("user.name"));
    private int maxRequestBodyBytes = 16 * 1024;
    private String adminToken;
    private Telemetry telemetry;
    private String blobStoreUrl =
        Path.of(System.getProperty("java.io.tmpdir"), "scalestack-blobs-" + System.getProperty("user.name")).toString();
    private String photoQueueName = PhotoWorker.DEFAULT_QUEUE;
    private String photoQueueBroker;
    private String assetBase = "";
    private boolean cacheTier = true;
    private int maxPhotoBytes = 16 * 1024 * 1024;
    private long maxPhotoPixels = 25_000_000;

    private Builder() {}

    /** Required: the member's name ({@code web-1}), shown in {@code X-Served-By}, {@code /health} and metrics. */
    public Builder memberName(String memberName) {
      this.memberName = MemberSettings.memberName(memberName);
      return this;
    }

    /** Where to listen; port 0 picks a free port (see {@link WebServer#address()}). Default: loopback, port 0. */
    public Builder listen(InetSocketAddress listen) {
      this.listen = MemberSettings.listen(listen);
      return this;
    }

    /** Required: a {@code jdbc:postgresql:} URL. */
    public Builder jdbcUrl(String jdbcUrl) {
      Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
        throw new IllegalArgumentException(
            "jdbcUrl: '" + Redact.uri(jdbcUrl) + "' (expected: a URL starting with jdbc:postgresql:)");
      }
      this.jdbcUrl = jdbcUrl;
      return this;
    }

    /**
     * The primary's streaming replicas ({@code jdbc:postgresql:} URLs, named {@code pg-replica-1…}
     * in that order): profile reads go to one that has the caller's last write; none unless set,
     * and then every query goes to the primary.
     */
    public Builder replicaJdbcUrls(List<String> replicaJdbcUrls) {
      Objects.requireNonNull(replicaJdbcUrls, "replicaJdbcUrls");
      for (String url : replicaJdbcUrls) {
        if (url == null || !url.startsWith("jdbc:postgresql:")) {
          throw new IllegalArgumentException("replicaJdbcUrls: '" + (url == null ? null : Redact.uri(url))
              + "' (expected: a URL starting with jdbc:postgresql:)");
        }
      }
      this.replicaJdbcUrls = List.copyOf(replicaJdbcUrls);
      return this;
    }

    /**
     * The replication lag above which a replica takes no reads until it catches up (1 s unless
     * set). A user's own writes are never read stale whatever the bound: their reads wait for a
     * replica that has them, or go to the primary.
     */
    public Builder replicaMaxLag(Duration replicaMaxLag) {
      Objects.requireNonNull(replicaMaxLag, "replicaMaxLag");
      if (replicaMaxLag.isNegative()) {
        throw new IllegalArgumentException("replicaMaxLag: " + replicaMaxLag + " (expected: >= 0)");
      }
      this.replicaMaxLag = replicaMaxLag;
      return this;
    }

    /** Required: the database user. */
    public Builder dbUser(String dbUser) {
      Objects.requireNonNull(dbUser, "dbUser");
      if (dbUser.isBlank()) {
        throw new IllegalArgumentException("dbUser: '" + dbUser + "' (expected: a non-blank user name)");
      }
      this.dbUser = dbUser;
      return this;
    }

    /** Required: the database password; empty when the server trusts the connection. */
    public Builder dbPassword(String dbPassword) {
      this.dbPassword = Objects.requireNonNull(dbPassword, "dbPassword");
      return this;
    }

    /**
     * Required: the Redis holding the sessions, {@code redis://host:port}, or its Sentinels,
     * {@code redis-sentinel://host:port,host:port#primaryName}.
     */
    public Builder redisUri(String redisUri) {
      this.redisUri = MemberSettings.redisUri(redisUri);
      return this;
    }

    /**
     * How many shards (databases {@code <database>}, {@code <database>_s1} … of the one cluster) the
     * users are spread over, and by which function, when the catalog has no shard map yet; a stored
     * map always wins (a resharding changes it). Default 1, {@code consistent}.
     */
    public Builder shards(int shards, ShardFunction function) {
      if (shards < 1 || shards > 64) {
        throw new IllegalArgumentException("shards: " + shards + " (expected: 1..64)");
      }
      this.shards = shards;
      this.shardFunction = Objects.requireNonNull(function, "function");
      return this;
    }

    /**
     * This server's Snowflake worker id (0..1023), unique among the web servers running at one
     * time. Default: the number at the end of the member name ({@code web-3} is 3), else one derived
     * from the name.
     */
    public Builder workerId(int workerId) {
      if (workerId < 0 || workerId > SnowflakeIds.MAX_WORKER_ID) {
        throw new IllegalArgumentException("workerId: " + workerId + " (expected: 0.." + SnowflakeIds.MAX_WORKER_ID + ")");
      }
      this.workerId = workerId;
      return this;
    }

    /** Most database connections this server holds. Default 10. */
    public Builder poolSize(int poolSize) {
      if (poolSize < 1 || poolSize > 1000) {
        throw new IllegalArgumentException("poolSize: " + poolSize + " (expected: 1..1000)");
      }
      this.poolSize = poolSize;
      return this;
    }

    /** The bcrypt cost of new password hashes, {@code 4..31}. Default 10; tests may use 4. */
    public Builder bcryptCost(int bcryptCost) {
      if (bcryptCost < 4 || bcryptCost > 31) {
        throw new IllegalArgumentException("bcryptCost: " + bcryptCost + " (expected: 4..31)");
      }
      this.bcryptCost = bcryptCost;
      return this;
    }

    /**
     * Where sessions live: {@code store} (Redis, the default), {@code local} or {@code sticky}
     * (this server's memory; sticky means the balancer pins each user to one server).
     */
    public Builder sessionStrategy(String sessionStrategy) {
      Objects.requireNonNull(sessionStrategy, "sessionStrategy");
      if (!List.of("store", "local", "sticky", "clustered").contains(sessionStrategy)) {
        throw new IllegalArgumentException(
            "sessionStrategy: '" + sessionStrategy + "' (expected: store, local, sticky or clustered)");
      }
      this.sessionStrategy = sessionStrategy;
      return this;
    }

    /** For the {@code store} strategy: {@code async} (default) or {@code replica-ack}. */
    public Builder sessionDurability(String durability) {
      this.sessionDurability = switch (Objects.requireNonNull(durability, "durability")) {
        case "async" -> RedisSessionRepository.Durability.ASYNC;
        case "replica-ack" -> RedisSessionRepository.Durability.REPLICA_ACK;
        default -> throw new IllegalArgumentException(
            "sessionDurability: '" + durability + "' (expected: async or replica-ack)");
      };
      return this;
    }

    /**
     * For the {@code clustered} strategy: {@code backup} or {@code all}, and the directory in which
     * the web servers of one machine find each other (default: a temporary one per user).
     */
    public Builder sessionCluster(String replication, Path discoveryDirectory) {
      this.sessionReplication = switch (Objects.requireNonNull(replication, "replication")) {
        case "backup" -> ClusteredSessionRepository.Replication.BACKUP;
        case "all" -> ClusteredSessionRepository.Replication.ALL;
        default -> throw new IllegalArgumentException(
            "sessionReplication: '" + replication + "' (expected: backup or all)");
      };
      if (discoveryDirectory != null) {
        this.sessionClusterDirectory = discoveryDirectory;
      }
      return this;
    }

    /** How long an unused session lives. Default 30 minutes. */
    public Builder sessionMaxInactive(Duration sessionMaxInactive) {
      Objects.requireNonNull(sessionMaxInactive, "sessionMaxInactive");
      if (sessionMaxInactive.compareTo(Duration.ofSeconds(1)) < 0) {
        throw new IllegalArgumentException(
            "sessionMaxInactive: " + sessionMaxInactive + " (expected: >= 1 second)");
      }
      this.sessionMaxInactive = sessionMaxInactive;
      return this;
    }

    /** Largest request body accepted, in bytes; a larger one is answered 413. Default 16384. */
    public Builder maxRequestBodyBytes(int maxRequestBodyBytes) {
      if (maxRequestBodyBytes < 1 || maxRequestBodyBytes > 64 * 1024 * 1024) {
        throw new IllegalArgumentException(
            "maxRequestBodyBytes: " + maxRequestBodyBytes + " (expected: 1..67108864)");
      }
      this.maxRequestBodyBytes = maxRequestBodyBytes;
      return this;
    }

    /**
     * Enables {@code PUT /internal/database-topology} for a control plane that knows this token
     * ({@code Authorization: Bearer <token>}): after a failover it points the server at the new
     * primary ({@link WebServer#updateDatabaseTopology}). Default: no admin endpoint.
     */
    public Builder adminToken(String adminToken) {
      Objects.requireNonNull(adminToken, "adminToken");
      if (adminToken.length() < 16) {
        throw new IllegalArgumentException("adminToken: <" + adminToken.length() + " characters> (expected: at least 16)");
      }
      this.adminToken = adminToken;
      return this;
    }

    /**
     * The telemetry to record into, owned by the caller (the server does not close it). Default:
     * the server creates and closes its own.
     */
    public Builder telemetry(Telemetry telemetry) {
      this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
      return this;
    }

    /**
     * Where photos' bytes live: a directory every web server and worker of the machine shares
     * (default: a temporary one per user). No server keeps a photo of its own.
     */
    public Builder blobDirectory(Path blobDirectory) {
      this.blobStoreUrl = Objects.requireNonNull(blobDirectory, "blobDirectory").toAbsolutePath().toString();
      return this;
    }

    /**
     * Where photos' bytes live, as a {@link BlobStores} URL: a directory ({@code file:///…} or an
     * absolute path) or an S3 bucket ({@code s3://bucket?region=…[&endpoint=…]}).
     */
    public Builder blobStore(String url) {
      this.blobStoreUrl = Objects.requireNonNull(url, "blobStore");
      return this;
    }

    /** The Redis Streams queue photo edits go on, on the session store's Redis (default {@code photo-edits}). */
    public Builder photoQueue(String name) {
      this.photoQueueName = MemberSettings.queueName("photoQueue", name);
      return this;
    }

    /**
     * The origin ({@code http://host:port}, no path) of the CDN edge in front of this service: the
     * page names its fingerprinted script and the photos' public URLs there, and allows them in its
     * Content-Security-Policy. Default: none (same origin).
     */
    public Builder assetBase(String origin) {
      Objects.requireNonNull(origin, "assetBase");
      if (!origin.isEmpty() && !origin.matches("https?://[A-Za-z0-9.\\[\\]:-]+")) {
        throw new IllegalArgumentException("assetBase: '" + origin + "' (expected: empty or http(s)://host:port, no path)");
      }
      this.assetBase = origin;
      return this;
    }

    /**
     * Whether public profiles are read through the cache tier (a Caffeine L1 in front of Redis,
     * one database load per key for all servers, invalidated after each change's commit). Default
     * on; off, every read goes to the database (as the hot-key test of issue 6 wants to see).
     */
    public Builder cacheTier(boolean cacheTier) {
      this.cacheTier = cacheTier;
      return this;
    }

    /**
     * Puts photo edits on RabbitMQ at {@code amqpUri} ({@code amqp://user:password@host:port}),
     * their state in the session store's Redis, instead of on Redis Streams; the workers must be
     * given the same broker.
     */
    public Builder photoQueueBroker(String amqpUri) {
      this.photoQueueBroker = MemberSettings.amqpUri("photoQueueBroker", amqpUri);
      return this;
    }

    /**
     * The largest upload, in bytes (default 16 MiB; larger ones are answered 413 before they are
     * read), and the most pixels an upload or an edit's result may have (default 25,000,000;
     * checked from the image's header before it is decoded, so a decompression bomb costs nothing).
     */
    public Builder photoLimits(int maxPhotoBytes, long maxPhotoPixels) {
      if (maxPhotoBytes < 1 || maxPhotoBytes > 512 * 1024 * 1024) {
        throw new IllegalArgumentException("maxPhotoBytes: " + maxPhotoBytes + " (expected: 1..536870912)");
      }
      if (maxPhotoPixels < 1 || maxPhotoPixels > 100_000_000) {
        throw new IllegalArgumentException("maxPhotoPixels: " + maxPhotoPixels + " (expected: 1..100000000)");
      }
      this.maxPhotoBytes = maxPhotoBytes;
      this.maxPhotoPixels = maxPhotoPixels;
      return this;
    }

    /** @throws IllegalStateException when a required field is missing, or the telemetry belongs to another member */
    public WebServer build() {
      require("memberName", memberName, "a member name such as web-1");
      require("jdbcUrl", jdbcUrl, "a jdbc:postgresql: URL");
      require("dbUser", dbUser, "a database user");
      require("dbPassword", dbPassword, "a database password, possibly empty");
      require("redisUri", redisUri, "a redis:// URI");
      if (telemetry != null && !telemetry.member().equals(memberName)) {
        throw new IllegalStateException(
            "telemetry: member '" + telemetry.member() + "' (expected: the memberName '" + memberName + "')");
      }
      return new WebServer(this);
    }

    private static void require(String name, Object value, String expected) {
      if (value == null) {
        throw new IllegalStateException(name + ": missing (expected: " + expected + ")");
      }
    }
  }
}
