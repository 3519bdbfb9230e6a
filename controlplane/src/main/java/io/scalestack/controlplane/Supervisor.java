package io.scalestack.controlplane;

import io.scalestack.controlplane.MemberStatus.MemberState;
import io.scalestack.controlplane.internal.BalancerAdmin;
import io.scalestack.controlplane.internal.ManagedMember;
import io.scalestack.controlplane.internal.Running;
import io.scalestack.engines.ChildProcesses;
import io.scalestack.engines.ParentDeathSignal;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisSentinel;
import io.scalestack.engines.RedisServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Boots and keeps alive the topology of a {@link TopologyConfig}: Redis and PostgreSQL (in this
 * JVM's care, as child processes), the load balancer and the web servers (each its own JVM on its
 * own loopback address). It waits for each member's health, registers web servers with the
 * balancer once healthy, removes them when they die, starts dead members again, and scales the
 * web pool on request.
 *
 * <p>Every child is started so that it dies with this JVM, even on {@code kill -9} (see {@link
 * ChildProcesses}). Thread-safe: the control plane's API calls it from many threads.
 */
public final class Supervisor implements AutoCloseable {

  /** The name of the web pool, for {@link #scale(String, int)}. */
  public static final String WEB_POOL = "web";
  /** The name of the photo worker pool, for {@link #scale(String, int)}. */
  public static final String WORKER_POOL = "worker";
  /** The balancer's cookie that pins a user to a web server with the {@code sticky} strategy. */
  static final String STICKY_COOKIE = "SCALESTACK_SERVER";
  /** Fewer healthy web servers than this share: the balancer uses all of them. */
  static final int WEB_PANIC_THRESHOLD_PERCENT = 50;
  /** The name the Sentinels know the session store's primary by. */
  static final String SENTINEL_MASTER = "scalestack";
  // the election and promotion after down-after: well under a second on one machine
  private static final Duration SENTINEL_FAILOVER_SLACK = Duration.ofSeconds(5);

  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
  /** An external engine is already running, or should be: do not wait long for it. */
  private static final Duration EXTERNAL_CHECK_TIMEOUT = Duration.ofSeconds(5);

  private final TopologyConfig config;
  private final MemberLauncher launcher;
  private final SupervisorListener listener;
  private final Clock clock;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ScheduledExecutorService scheduler;
  private final boolean ownsScheduler;
  private final HttpClient http;
  private final BalancerAdmin balancerAdmin;
  private final Path home;
  private final Map<String, ManagedMember> members = new LinkedHashMap<>();
  private final Object scaleLock = new Object();

  /** Lets the control plane call web servers' {@code /internal} endpoints; made anew by every supervisor. */
  private final String adminToken = newToken();

  private volatile InetSocketAddress redisAddress;
  // the database topology web servers start with; a failover changes it
  private volatile String jdbcUrl;
  private volatile List<String> replicaJdbcUrls = List.of();
  private volatile PostgresFailover failover; // null for an external PostgreSQL

  private Supervisor(Builder builder) {
    this.config = builder.config;
    this.launcher = builder.launcher;
    this.listener = builder.listener;
    this.clock = builder.clock;
    this.ownsScheduler = builder.scheduler == null;
    this.scheduler = ownsScheduler
        ? Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("supervisor-scheduler").factory())
        : builder.scheduler;
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).executor(executor).build();
    this.balancerAdmin = new BalancerAdmin(http, resolved(config.balancer().admin()));
    this.home = config.home().toAbsolutePath();
  }

  /** A new builder. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts every member and returns once all are healthy. On failure everything started so far
   * is stopped again and the first cause is thrown.
   */
  public void start() throws Exception {
    Files.createDirectories(home.resolve("logs"));
    try {
      List<ManagedMember> engines = new ArrayList<>();
      engines.add(redisMember());
      List<ManagedMember> replicas = new ArrayList<>();
      if (config.postgres().mode().equals("external")) {
        checkExternalPostgres();
      } else {
        // the primary first (after a past failover, not necessarily pg-primary), then the replicas:
        // each a base backup of the running primary, then streaming from it
        failover = newFailover();
        for (String name : postgresMembers().keySet()) {
          (name.equals(failover.primaryName()) ? engines : replicas).add(postgresMember(name));
        }
      }
      startAll(engines.stream().filter(Objects::nonNull).toList());
      startAll(replicas);
      if (failover != null) {
        failover.activate(); // synchronous replication from now on: every replica runs
        PostgresFailover.DatabaseTopology topology = failover.topology();
        jdbcUrl = topology.primaryJdbcUrl();
        replicaJdbcUrls = topology.replicaJdbcUrls();
      }
      if (config.session().ha() && !config.redis().mode().equals("external")) {
        // replicas follow the primary, then the Sentinels watch all three
        startAll(List.of(redisReplicaMember(1), redisReplicaMember(2)));
        startAll(List.of(sentinelMember(1), sentinelMember(2), sentinelMember(3)));
      }

      List<ManagedMember> front = new ArrayList<>();
      front.add(balancerMember());
      if (config.edge().enabled()) {
        front.add(edgeMember());
      }
      for (int i = 1; i <= config.web().size(); i++) {
        front.add(webMember(i));
      }
      // workers need only Redis and the blob directory: they start with the web servers
      for (int i = 1; i <= config.workers().size(); i++) {
        front.add(workerMember(i));
      }
      startAll(front);
    } catch (Exception e) {
      close();
      throw e;
    }
  }

  /** Every member, in start order, with the balancer's view of the web servers. */
  public List<MemberStatus> members() {
    List<ManagedMember> snapshot;
    synchronized (members) {
      snapshot = List.copyOf(members.values());
    }
    Map<String, BalancerAdmin.Backend> backends = Map.of();
    try {
      backends = balancerAdmin.backends();
    } catch (IOException e) {
      log.debug("balancer admin unreachable: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<MemberStatus> statuses = new ArrayList<>();
    for (ManagedMember member : snapshot) {
      MemberStatus status = member.status();
      BalancerAdmin.Backend backend = backends.get(member.name());
      if (backend != null) {
        status = new MemberStatus(status.name(), status.role(), status.address(), status.state(), status.pid(),
            status.restarts(), status.uptime(), backend.state(), backend.inFlight(), backend.requests());
      }
      statuses.add(status);
    }
    return statuses;
  }

  /** How many members answer their health checks; unlike {@link #members()}, asks no one (for a gauge). */
  public long healthyMembers() {
    synchronized (members) {
      return members.values().stream().filter(m -> m.status().state() == MemberState.HEALTHY).count();
    }
  }

  /** {@code kill -9} of member {@code name}'s process; false when no such member runs. */
  public boolean kill(String name) {
    ManagedMember member;
    synchronized (members) {
      member = members.get(name);
    }
    return member != null && member.kill();
  }

  /**
   * Sets the size of {@code pool} (only {@code web} so far): new web servers are started and
   * registered once healthy; surplus ones are drained at the balancer, then stopped.
   *
   * @throws IllegalArgumentException for an unknown pool or a size out of range
   */
  public void scale(String pool, int size) throws Exception {
    if (WORKER_POOL.equals(pool)) {
      scaleWorkers(size);
      return;
    }
    if (!WEB_POOL.equals(pool)) {
      throw new IllegalArgumentException("pool: '" + pool + "' (expected: web or worker)");
    }
    if (size < 1 || size > config.web().maxSize()) {
      throw new IllegalArgumentException("size: " + size + " (expected: 1.." + config.web().maxSize() + ")");
    }
    synchronized (scaleLock) {
      List<ManagedMember> web = webMembers();
      if (size > web.size()) {
        List<ManagedMember> added = new ArrayList<>();
        for (int i = web.size() + 1; i <= size; i++) {
          added.add(webMember(i));
        }
        startAll(added);
      } else {
        List<CompletableFuture<Void>> removals = new ArrayList<>();
        for (ManagedMember member : web.subList(size, web.size())) {
          removals.add(CompletableFuture.runAsync(() -> retire(member), executor));
        }
        CompletableFuture.allOf(removals.toArray(CompletableFuture[]::new)).join();
      }
    }
  }

  /** The size of the web pool. */
  public int webPoolSize() {
    return webMembers().size();
  }

  /** What the CDN edge answered a purge. */
  public record PurgeAnswer(int status, String contentType, String body) {}

  /**
   * Purges the CDN edge: {@code query} is {@code url=/path} (every variant of it) or {@code
   * tag=T} (every object the origin tagged {@code Surrogate-Key: T}), sent with the token only the
   * supervisor and the edge know.
   *
   * @throws IllegalStateException if the topology runs no edge
   */
  public PurgeAnswer purgeEdge(String query) throws IOException, InterruptedException {
    if (!config.edge().enabled()) {
      throw new IllegalStateException("edge: not enabled (expected: edge.enabled: true in scalestack.yaml)");
    }
    URI uri = URI.create("http://" + address(config.edge().admin()) + "/purge" + (query == null ? "" : "?" + query));
    HttpResponse<String> answer = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
        .header("Authorization", "Bearer " + adminToken).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    return new PurgeAnswer(answer.statusCode(), answer.headers().firstValue("Content-Type").orElse("text/plain"),
        answer.body());
  }

  /** The size of the worker pool. */
  public int workerPoolSize() {
    return poolMembers("worker").size();
  }

  // Workers are not behind the balancer: new ones start taking jobs once up; surplus ones stop
  // taking jobs and finish the one they run (their stop timeout), then exit.
  private void scaleWorkers(int size) throws Exception {
    if (size < 0 || size > config.workers().maxSize()) {
      throw new IllegalArgumentException("size: " + size + " (expected: 0.." + config.workers().maxSize() + ")");
    }
    synchronized (scaleLock) {
      List<ManagedMember> workers = poolMembers("worker");
      if (size > workers.size()) {
        List<ManagedMember> added = new ArrayList<>();
        for (int i = workers.size() + 1; i <= size; i++) {
          added.add(workerMember(i));
        }
        startAll(added);
      } else {
        List<CompletableFuture<Void>> removals = new ArrayList<>();
        for (ManagedMember member : workers.subList(size, workers.size())) {
          removals.add(CompletableFuture.runAsync(() -> {
            member.stop();
            synchronized (members) {
              members.remove(member.name());
            }
          }, executor));
        }
        CompletableFuture.allOf(removals.toArray(CompletableFuture[]::new)).join();
      }
    }
  }

  /** Stops every member: the balancer, then the web servers, then the engines. Idempotent. */
  @Override
  public void close() {
    // start() closes on a failure and its caller closes again: the second call must not reach
    // the executor, which the first one shut down
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    List<ManagedMember> snapshot;
    synchronized (members) {
      snapshot = new ArrayList<>(members.values());
    }
    List<ManagedMember> front = snapshot.stream().filter(m -> !isEngine(m)).toList();
    List<ManagedMember> engines = snapshot.stream().filter(Supervisor::isEngine).toList();
    PostgresFailover orchestrator = failover;
    if (orchestrator != null) {
      orchestrator.close(); // stopping the primary is not a failure to fail over from
    }
    stopAll(front.stream().filter(m -> m.role().equals("balancer")).toList());
    stopAll(front.stream().filter(m -> !m.role().equals("balancer")).toList());
    stopAll(engines);
    if (ownsScheduler) {
      scheduler.shutdownNow();
    }
    http.close();
    executor.shutdown();
  }

  // ---- members ----

  private ManagedMember redisMember() {
    TopologyConfig.Redis redis = config.redis();
    redisAddress = resolved(redis.listen());
    if (redis.mode().equals("external")) {
      // Not ours to run: only check now that it answers, so a wrong address fails start-up clearly.
      RedisServer.builder().external(true).bindAddress(redis.listen().getHostString()).port(redis.listen().getPort())
          .startupTimeout(EXTERNAL_CHECK_TIMEOUT).build().start();
      return null;
    }
    ManagedMember.Starter starter = () -> {
      RedisServer.Builder builder = RedisServer.builder()
          .bindAddress(redis.listen().getHostString())
          .port(redis.listen().getPort())
          .dataDirectory(home.resolve("redis"))
          .engineCache(home.resolve("engines"))
          .logFile(home.resolve("logs/redis.log"));
      if (redis.binary() != null) {
        builder.binary(redis.binary());
      }
      RedisServer server = builder.build().start();
      return engineRunning(server.pid(), server::close, server::kill);
    };
    return register(member("redis", "redis", address(redis.listen()), starter, (running, timeout) -> {}, new ManagedMember.Hooks() {}));
  }

  /** Replica {@code n} of the session store: the primary's host, its port + n. */
  private ManagedMember redisReplicaMember(int n) {
    TopologyConfig.Redis redis = config.redis();
    InetSocketAddress listen = offset(redis.listen(), n);
    ManagedMember.Starter starter = () -> {
      RedisServer.Builder builder = RedisServer.builder()
          .bindAddress(listen.getHostString())
          .port(listen.getPort())
          .replicaOf(resolved(redis.listen()))
          .dataDirectory(home.resolve("redis-replica-" + n))
          .engineCache(home.resolve("engines"))
          .logFile(home.resolve("logs/redis-replica-" + n + ".log"));
      if (redis.binary() != null) {
        builder.binary(redis.binary());
      }
      RedisServer server = builder.build().start();
      return engineRunning(server.pid(), server::close, server::kill);
    };
    return register(member("redis-replica-" + n, "redis", address(listen), starter, (running, timeout) -> {},
        new ManagedMember.Hooks() {}));
  }

  /** Sentinel {@code n}: the primary's host, its port + 2 + n; quorum 2 of 3, down after 5 s. */
  private ManagedMember sentinelMember(int n) {
    TopologyConfig.Redis redis = config.redis();
    InetSocketAddress listen = offset(redis.listen(), 2 + n);
    ManagedMember.Starter starter = () -> {
      RedisSentinel.Builder builder = RedisSentinel.builder()
          .bindAddress(listen.getHostString())
          .port(listen.getPort())
          .masterName(SENTINEL_MASTER)
          .monitor(resolved(redis.listen()))
          .downAfter(redis.sentinelDownAfter())
          .dataDirectory(home.resolve("redis-sentinel-" + n))
          .engineCache(home.resolve("engines"))
          .logFile(home.resolve("logs/redis-sentinel-" + n + ".log"));
      if (redis.binary() != null) {
        builder.binary(redis.binary());
      }
      RedisSentinel sentinel = builder.build().start();
      return engineRunning(sentinel.pid(), sentinel::close, sentinel::kill);
    };
    return register(member("redis-sentinel-" + n, "sentinel", address(listen), starter, (running, timeout) -> {},
        new ManagedMember.Hooks() {}));
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  static InetSocketAddress offset(InetSocketAddress address, int by) {
    return InetSocketAddress.createUnresolved(address.getHostString(), address.getPort() + by);
  }

  /** What web servers connect to for sessions: the primary, or through the Sentinels with {@code ha}. */
  private String sessionStoreUri() {
    if (!config.session().ha() || config.redis().mode().equals("external")) {
      return "redis://" + address(redisAddress);
    }
    StringBuilder uri = new StringBuilder("redis-sentinel://");
    for (int n = 1; n <= 3; n++) {
      uri.append(n > 1 ? "," : "").append(address(offset(config.redis().listen(), 2 + n)));
    }
    return uri.append('#').append(SENTINEL_MASTER).toString();
  }

  /** An external PostgreSQL is not ours to run: check that it answers with these credentials (creating the database if missing). */
  private void checkExternalPostgres() {
    TopologyConfig.Postgres pg = config.postgres();
    jdbcUrl = "jdbc:postgresql://" + address(pg.listen()) + "/" + pg.database();
    PostgresServer.builder().external(true).bindAddress(pg.listen().getHostString()).port(pg.listen().getPort())
        .database(pg.database()).user(pg.user()).password(pg.password())
        .startupTimeout(EXTERNAL_CHECK_TIMEOUT).build().start();
  }

  /**
   * The PostgreSQL members, name to data directory: {@code pg-primary} (the primary of a new
   * topology) and {@code pg-replica-1..N}. Names, addresses and data stay; roles change with failovers.
   */
  private Map<String, Path> postgresMembers() {
    Map<String, Path> members = new LinkedHashMap<>();
    members.put("pg-primary", home.resolve("postgres"));
    for (int n = 1; n <= config.postgres().replicas(); n++) {
      members.put("pg-replica-" + n, home.resolve("pg-replica-" + n));
    }
    return members;
  }

  private InetSocketAddress postgresListen(String name) {
    InetSocketAddress listen = config.postgres().listen();
    return name.equals("pg-primary") ? listen : offset(listen, Integer.parseInt(name.substring("pg-replica-".length())));
  }

  private PostgresFailover newFailover() {
    TopologyConfig.Postgres pg = config.postgres();
    Map<String, Path> members = postgresMembers();
    return new PostgresFailover(members,
        name -> postgresBuilder(name, postgresListen(name), members.get(name))
            // a replica whose primary changed reconnects within 0.1 s, not 5; a hung peer is noticed in 5 s, not 60
            .setting("wal_retrieve_retry_interval", "100ms")
            .setting("wal_receiver_timeout", "5s")
            .setting("wal_sender_timeout", "5s"),
        pg.user(), pg.password(), pg.synchronous() && pg.replicas() > 0, this::databaseTopologyChanged,
        pg.failoverProbeInterval(), 2, scheduler, executor, clock);
  }

  /**
   * One PostgreSQL member, started by the failover orchestrator in its current role: a dead
   * primary's restart waits for the orchestrator's decision and comes back as a fresh replica of
   * the promoted one; a dead replica restarts over its data.
   */
  private ManagedMember postgresMember(String name) {
    PostgresFailover orchestrator = failover;
    ManagedMember.Starter starter = () -> {
      PostgresServer server = orchestrator.start(name);
      return engineRunning(server.pid(), server::close, server::kill);
    };
    return register(member(name, "postgres", address(postgresListen(name)), starter, (running, timeout) -> {},
        new ManagedMember.Hooks() {
          @Override
          public void died(ManagedMember member) {
            orchestrator.died(name); // the supervisor is one observer of the primary's death
          }
        }));
  }

  /**
   * After a failover: web servers started from now on get the new topology, running ones are told
   * at once, each on its own virtual thread, retried for a few seconds.
   */
  private void databaseTopologyChanged(PostgresFailover.DatabaseTopology topology) {
    jdbcUrl = topology.primaryJdbcUrl();
    replicaJdbcUrls = topology.replicaJdbcUrls();
    StringBuilder body = new StringBuilder("{\"primary\":\"").append(topology.primaryJdbcUrl()).append("\",\"replicas\":[");
    for (int i = 0; i < topology.replicaJdbcUrls().size(); i++) {
      body.append(i > 0 ? "," : "").append('"').append(topology.replicaJdbcUrls().get(i)).append('"');
    }
    String json = body.append("]}").toString(); // our own URLs: host, port and a validated database name
    for (ManagedMember member : webMembers()) {
      executor.execute(() -> pushTopology(member, json));
    }
  }

  private void pushTopology(ManagedMember member, String json) {
    URI uri = URI.create("http://" + member.address() + "/internal/database-topology");
    String last = "not tried";
    for (int attempt = 1; attempt <= 20 && !closed.get(); attempt++) {
      try {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(2))
            .header("Authorization", "Bearer " + adminToken)
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          log.info("{}: database topology pushed: {}", member.name(), json);
          return;
        }
        last = "answered " + response.statusCode() + " " + response.body();
      } catch (IOException e) {
        last = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      try {
        Thread.sleep(250); // a dead web server restarts with the new topology anyway
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    log.warn("{}: could not push the database topology ({}); it gets it when it restarts", member.name(), last);
  }

  /** The PostgreSQL members' roles and WAL positions as the orchestrator last saw them; empty for an external server. */
  List<PostgresFailover.NodeStatus> databaseStatus() {
    PostgresFailover orchestrator = failover;
    return orchestrator == null ? List.of() : orchestrator.status();
  }

  /**
   * The users each healthy web server finds hot now ({@code GET /internal/hot-keys} of each, in
   * parallel): web server name to its answer, a JSON array of {@code {"userId","share","estimate"}};
   * a server that does not answer within 2 s is left out.
   */
  Map<String, String> hotKeys() {
    Map<String, CompletableFuture<HttpResponse<String>>> asks = new LinkedHashMap<>();
    for (ManagedMember member : webMembers()) {
      if (member.status().state() == MemberState.HEALTHY) {
        asks.put(member.name(), http.sendAsync(HttpRequest.newBuilder(
                URI.create("http://" + member.address() + "/internal/hot-keys"))
            .timeout(Duration.ofSeconds(2)).header("Authorization", "Bearer " + adminToken).GET().build(),
            HttpResponse.BodyHandlers.ofString()));
      }
    }
    Map<String, String> answers = new LinkedHashMap<>();
    asks.forEach((name, ask) -> {
      try {
        HttpResponse<String> response = ask.join();
        if (response.statusCode() == 200) {
          answers.put(name, response.body());
        }
      } catch (java.util.concurrent.CompletionException e) {
        log.debug("{}: hot keys unavailable: {}", name, e.getCause().toString());
      }
    });
    return answers;
  }

  /** The failovers so far, oldest first. */
  List<PostgresFailover.FailoverEvent> failovers() {
    PostgresFailover orchestrator = failover;
    return orchestrator == null ? List.of() : orchestrator.history();
  }

  private static String newToken() {
    byte[] bytes = new byte[24];
    new java.security.SecureRandom().nextBytes(bytes);
    return java.util.HexFormat.of().formatHex(bytes);
  }

  /** A PostgreSQL member of ours: its address, data and log, the shared engine cache and credentials. */
  private PostgresServer.Builder postgresBuilder(String name, InetSocketAddress listen, Path dataDirectory) {
    TopologyConfig.Postgres pg = config.postgres();
    PostgresServer.Builder builder = PostgresServer.builder()
        .bindAddress(listen.getHostString())
        .port(listen.getPort())
        .dataDirectory(dataDirectory)
        .engineCache(home.resolve("engines"))
        .logFile(home.resolve("logs/" + name + ".log"))
        .database(pg.database())
        .user(pg.user())
        .password(pg.password())
        .runAsUser(pg.runAsUser());
    if (pg.binaries() != null) {
      builder.binariesDirectory(pg.binaries());
    }
    return builder;
  }

  /**
   * The CDN edge: its origin is the balancer (so a dead web server costs it nothing); the
   * supervisor's token guards its purge API.
   */
  private ManagedMember edgeMember() {
    TopologyConfig.Edge edge = config.edge();
    List<String> args = new ArrayList<>(List.of(
        "edge",
        "--name", "edge",
        "--listen", address(edge.listen()),
        "--admin", address(edge.admin()),
        "--origin", "http://" + address(config.balancer().listen()),
        "--max-memory-mb", String.valueOf(edge.maxMemoryMegabytes()),
        "--log-file", home.resolve("logs/edge.log").toString(),
        "--parent-pid", String.valueOf(ProcessHandle.current().pid())));
    if (edge.diskMegabytes() > 0) {
      args.addAll(List.of("--disk-dir", home.resolve("edge").toString(), "--max-disk-mb",
          String.valueOf(edge.diskMegabytes())));
    }
    return register(member("edge", "edge", address(edge.listen()),
        javaStarter("edge", 256, () -> args, Map.of("SCALESTACK_EDGE_TOKEN", adminToken)),
        httpReadiness(edge.admin(), "/health"), new ManagedMember.Hooks() {}));
  }

  /** The URL the web servers name the page's assets and the photos by: the edge's, when it runs. */
  private String assetBase() {
    return config.edge().enabled() ? "http://" + address(config.edge().listen()) : "";
  }

  private ManagedMember balancerMember() {
    TopologyConfig.Balancer lb = config.balancer();
    List<String> args = new ArrayList<>(List.of(
        "lb",
        "--name", "lb",
        "--listen", address(lb.listen()),
        "--admin", address(lb.admin()),
        "--algorithm", lb.algorithm(),
        "--retries", String.valueOf(lb.retries()),
        "--health-path", lb.healthCheckPath(),
        "--health-interval-millis", String.valueOf(lb.healthCheckInterval().toMillis()),
        "--health-timeout-millis", String.valueOf(lb.healthCheckTimeout().toMillis()),
        "--rise", String.valueOf(lb.rise()),
        "--fall", String.valueOf(lb.fall()),
        "--log-file", home.resolve("logs/lb.log").toString(),
        "--parent-pid", String.valueOf(ProcessHandle.current().pid())));
    // Envoy's panic mode: when most web servers fail their health check at once, the cause is
    // likely shared (a Redis failover, the database): keep sending them requests, so that those
    // that can be answered are, and service resumes the moment the dependency is back instead of
    // rise x interval later
    args.addAll(List.of("--panic-threshold", String.valueOf(WEB_PANIC_THRESHOLD_PERCENT)));
    if (config.session().strategy().equals("sticky")) {
      // sessions live in each web server's memory: the balancer pins every user to one server
      args.addAll(List.of("--sticky", "insert:" + STICKY_COOKIE));
    }
    if (lb.retryIdempotent()) {
      // The photo service's GET, PUT and DELETE are idempotent: a web server killed mid-request costs nobody an error.
      args.add("--retry-idempotent");
    }
    return register(member("lb", "balancer", address(lb.listen()), javaStarter("lb", 256, () -> args, Map.of()),
        httpReadiness(lb.admin(), "/health"), new ManagedMember.Hooks() {}));
  }

  private ManagedMember webMember(int index) {
    String name = "web-" + index;
    InetSocketAddress listen = config.web().address(index);
    // built at every start: a web server restarted after a failover starts on the new primary
    java.util.function.Supplier<List<String>> args = () -> webArguments(name, listen);
    ManagedMember.Hooks hooks = new ManagedMember.Hooks() {
      @Override
      public void healthy(ManagedMember member) throws Exception {
        balancerAdmin.register(name, resolved(listen));
      }

      @Override
      public void died(ManagedMember member) throws Exception {
        // Tell the balancer at once rather than waiting for `fall` failed health checks.
        balancerAdmin.remove(name);
      }
    };
    return register(member(name, "web", address(listen),
        javaStarter(name, config.web().heapMegabytes(), args, withQueueBroker(Map.of("SCALESTACK_ADMIN_TOKEN", adminToken))),
        httpReadiness(listen, "/health"), hooks));
  }

  /** The RabbitMQ broker for photo edits, when configured: through the environment, its URI holds a password. */
  private Map<String, String> queueBrokerEnvironment() {
    return config.workers().broker().isEmpty() ? Map.of() : Map.of("SCALESTACK_QUEUE_BROKER", config.workers().broker());
  }

  private Map<String, String> withQueueBroker(Map<String, String> environment) {
    Map<String, String> all = new java.util.HashMap<>(environment);
    all.putAll(queueBrokerEnvironment());
    return all;
  }

  /** Where web servers and workers keep photos' bytes: the configured URL, or {@code <home>/blobs}. */
  private String blobStore() {
    return config.workers().blobs().isEmpty() ? home.resolve("blobs").toString() : config.workers().blobs();
  }

  private ManagedMember workerMember(int index) {
    String name = "worker-" + index;
    TopologyConfig.WorkerPool pool = config.workers();
    InetSocketAddress listen = pool.address(index);
    java.util.function.Supplier<List<String>> args = () -> List.of(
        "worker",
        "--name", name,
        "--listen", address(listen),
        "--redis", sessionStoreUri(),
        "--queue", pool.queue(),
        "--blobs", blobStore(),
        "--lease-timeout-millis", String.valueOf(pool.leaseTimeout().toMillis()),
        "--stop-timeout-millis", String.valueOf(pool.stopTimeout().toMillis()),
        "--log-file", home.resolve("logs/" + name + ".log").toString(),
        "--parent-pid", String.valueOf(ProcessHandle.current().pid()));
    // a stopped worker finishes its job first: TERM, then KILL only after its stop timeout
    Duration grace = pool.stopTimeout().plusSeconds(5);
    return register(member(name, "worker", address(listen),
        javaStarter(name, pool.heapMegabytes(), args, queueBrokerEnvironment(), grace),
        httpReadiness(listen, "/health"), new ManagedMember.Hooks() {}));
  }

  private List<String> webArguments(String name, InetSocketAddress listen) {
    List<String> args = new ArrayList<>(List.of(
        "web",
        "--name", name,
        "--listen", address(listen),
        "--jdbc-url", jdbcUrl,
        "--db-user", config.postgres().user(),
        "--redis", sessionStoreUri(),
        "--session-durability", config.session().durability(),
        "--bcrypt-cost", String.valueOf(config.web().bcryptCost()),
        "--session-strategy", config.session().strategy(),
        "--session-replication", config.session().replication(),
        "--session-cluster-dir", home.resolve("session-cluster").toString(),
        "--session-max-inactive-seconds", String.valueOf(config.session().maxInactive().toSeconds()),
        "--shards", String.valueOf(config.postgres().shards()),
        "--shard-function", config.postgres().shardFunction(),
        "--blobs", blobStore(),
        "--photo-queue", config.workers().queue(),
        "--asset-base", assetBase(),
        "--log-file", home.resolve("logs/" + name + ".log").toString(),
        "--parent-pid", String.valueOf(ProcessHandle.current().pid())));
    for (String replica : replicaJdbcUrls) {
      args.add("--replica-jdbc-url");
      args.add(replica);
    }
    return args;
  }

  private ManagedMember.Starter javaStarter(String name, int heapMegabytes,
      java.util.function.Supplier<List<String>> args, Map<String, String> environment) {
    return javaStarter(name, heapMegabytes, args, environment, Running.DEFAULT_STOP_GRACE);
  }

  private ManagedMember.Starter javaStarter(String name, int heapMegabytes,
      java.util.function.Supplier<List<String>> args, Map<String, String> environment, Duration stopGrace) {
    return () -> {
      ProcessBuilder builder = launcher.command(name, heapMegabytes, args.get());
      Path out = home.resolve("logs/" + name + ".out");
      builder.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));
      // secrets through the environment, so that they do not show in `ps`
      builder.environment().put("SCALESTACK_DB_PASSWORD", config.postgres().password());
      builder.environment().putAll(environment);
      // TERM, not KILL: a member whose control plane died still closes its sockets and pools cleanly.
      return Running.of(ChildProcesses.start(builder, ParentDeathSignal.TERM), stopGrace);
    };
  }

  private ManagedMember.Readiness httpReadiness(InetSocketAddress address, String path) {
    URI uri = URI.create("http://" + address(address) + path);
    return (running, timeout) -> {
      Instant deadline = clock.instant().plus(timeout);
      String last = "no answer yet";
      while (clock.instant().isBefore(deadline)) {
        if (running.exited().isDone()) {
          throw new IOException("exited during start-up; see " + home.resolve("logs"));
        }
        try {
          HttpResponse<String> response = http.send(
              HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
          if (response.statusCode() == 200) {
            return;
          }
          last = "GET " + uri + " answered " + response.statusCode();
        } catch (IOException e) {
          last = "GET " + uri + ": " + e;
        }
        Thread.sleep(100); // a poll interval, on a virtual thread
      }
      throw new IOException("not healthy within " + timeout.toSeconds() + " s (" + last + ")");
    };
  }

  private static Running engineRunning(long pid, Runnable stop, Runnable kill) {
    CompletableFuture<?> exited = ProcessHandle.of(pid).map(ProcessHandle::onExit)
        .orElseGet(() -> CompletableFuture.completedFuture(null));
    return new Running() {
      @Override
      public long pid() {
        return pid;
      }

      @Override
      public CompletableFuture<?> exited() {
        return exited;
      }

      @Override
      public void stop() {
        stop.run();
      }

      @Override
      public void kill() {
        kill.run();
      }
    };
  }

  private ManagedMember member(String name, String role, String address, ManagedMember.Starter starter,
      ManagedMember.Readiness readiness, ManagedMember.Hooks hooks) {
    TopologyConfig.Supervisor sup = config.supervisor();
    Duration restartDelay = sup.restartDelay();
    if (role.equals("redis") && config.session().ha()) {
      // With Sentinel, a dead Redis must stay dead until the failover is over: restarted at once,
      // the old primary comes back from its AOF (fsync'd once a second) as primary again, and its
      // replicas resync from it, dropping writes they had acknowledged (durability replica-ack).
      // After the delay it returns as a server Sentinel turns into a replica of the new primary.
      restartDelay = max(restartDelay, config.redis().sentinelDownAfter().plus(SENTINEL_FAILOVER_SLACK));
    }
    return new ManagedMember(name, role, address, starter, readiness, hooks, sup.restart(), restartDelay,
        sup.startupTimeout(), executor, scheduler, clock, listener);
  }

  private ManagedMember register(ManagedMember member) {
    synchronized (members) {
      members.put(member.name(), member);
    }
    return member;
  }

  private void retire(ManagedMember member) {
    try {
      balancerAdmin.drain(member.name());
      Instant deadline = clock.instant().plusSeconds(10);
      while (clock.instant().isBefore(deadline)) {
        BalancerAdmin.Backend backend = balancerAdmin.backends().get(member.name());
        if (backend == null || backend.inFlight() == 0) {
          break;
        }
        Thread.sleep(50);
      }
      balancerAdmin.remove(member.name());
    } catch (IOException e) {
      log.warn("{}: draining at the balancer failed, stopping anyway: {}", member.name(), e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    member.stop();
    synchronized (members) {
      members.remove(member.name());
    }
  }

  private List<ManagedMember> webMembers() {
    return poolMembers("web");
  }

  /** The members of pool {@code role} ({@code web-1}, {@code web-2}, …), by number. */
  private List<ManagedMember> poolMembers(String role) {
    synchronized (members) {
      return members.values().stream()
          .filter(m -> m.role().equals(role))
          .sorted(Comparator.comparingInt(m -> Integer.parseInt(m.name().substring(role.length() + 1))))
          .toList();
    }
  }

  private void startAll(List<ManagedMember> batch) throws Exception {
    List<CompletableFuture<Void>> starts = new ArrayList<>();
    for (ManagedMember member : batch) {
      starts.add(CompletableFuture.runAsync(() -> {
        try {
          member.start();
        } catch (Exception e) {
          throw new MemberStartException(member.name(), e);
        }
      }, executor));
    }
    try {
      CompletableFuture.allOf(starts.toArray(CompletableFuture[]::new)).join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof MemberStartException start) {
        throw start;
      }
      throw e;
    }
  }

  private void stopAll(List<ManagedMember> batch) {
    List<CompletableFuture<Void>> stops = new ArrayList<>();
    for (ManagedMember member : batch) {
      stops.add(CompletableFuture.runAsync(member::stop, executor));
    }
    CompletableFuture.allOf(stops.toArray(CompletableFuture[]::new)).join();
  }

  private static boolean isEngine(ManagedMember member) {
    return member.role().equals("redis") || member.role().equals("postgres");
  }

  private static String address(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }

  private static InetSocketAddress resolved(InetSocketAddress address) {
    return new InetSocketAddress(address.getHostString(), address.getPort());
  }

  /** A member that could not be started: names it, carries the cause. */
  public static final class MemberStartException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    MemberStartException(String member, Exception cause) {
      super(member + ": " + cause.getMessage(), cause);
    }
  }

  /** Builds a {@link Supervisor}. Not thread-safe; the supervisor it builds is. */
  public static final class Builder {
    private TopologyConfig config;
    private MemberLauncher launcher;
    private SupervisorListener listener = SupervisorListener.none();
    private Clock clock = Clock.systemUTC();
    private ScheduledExecutorService scheduler;

    private Builder() {}

    /** The topology to run; required. */
    public Builder config(TopologyConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /** How member JVMs are launched; required. */
    public Builder launcher(MemberLauncher launcher) {
      this.launcher = Objects.requireNonNull(launcher, "launcher");
      return this;
    }

    /** Who hears about members changing state. */
    public Builder listener(SupervisorListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /** The clock for uptimes and deadlines. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The scheduler for restart delays; default a daemon thread of the supervisor's own, shut down by {@link Supervisor#close()}. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    public Supervisor build() {
      if (config == null) {
        throw new IllegalStateException("config: null (expected: a TopologyConfig)");
      }
      if (launcher == null) {
        throw new IllegalStateException("launcher: null (expected: a MemberLauncher)");
      }
      return new Supervisor(this);
    }
  }
}
