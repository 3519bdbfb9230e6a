package io.scalestack.controlplane;

import io.scalestack.engines.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The failover orchestrator of one PostgreSQL primary with streaming replicas, all servers of this
 * JVM (members of the {@link Supervisor}). Members keep their names, addresses and data
 * directories; their roles change.
 *
 * <p><b>Detection, from more than one observer.</b> Every {@code probeInterval} the orchestrator
 * asks each server over its own connection where its WAL is ({@code pg_current_wal_lsn()} on the
 * primary; received, replayed and whether its WAL receiver is {@code streaming} on a replica). The
 * primary is declared dead when the control plane's probe of it has failed {@code failuresToDeclareDead}
 * times in a row (once is enough when the supervisor saw its process exit), <em>and</em> more than
 * half of the replicas that answer say their WAL receiver is not streaming from it. A control plane
 * cut off from a healthy primary therefore does not fail it over; a hung primary is noticed by the
 * replicas after {@code wal_receiver_timeout}. With no replica answering there is nobody to promote:
 * the supervisor restarts the primary in place over its data.
 *
 * <p><b>Failover.</b> (1) Fence the old primary: kill it if its process still runs and move its
 * cluster aside ({@link PostgresServer#fenceCluster()}), before anything else, so it can never accept
 * another write, not even after a restart of the whole topology. (2) Ask every replica how much WAL
 * it has received and promote the most advanced one. With synchronous replication ({@code
 * synchronous_standby_names = ANY 1 (all other members)}) every acknowledged commit was flushed by at
 * least one replica, so the most advanced one holds them all; that argument needs an answer from
 * every replica, so in synchronous mode the orchestrator waits (and retries) until all answer rather
 * than promote one that may miss a commit. (3) Give the new primary the synchronous names of the
 * others, promote it, and repoint the other replicas ({@link PostgresServer#follow}). (4) Publish the
 * new topology (to the web servers, through the supervisor). (5) The old primary's member restarts as
 * a fresh replica of the new primary (a base backup), which restores redundancy. Patroni does the
 * same in about 30–40 s with its defaults; here detection takes about {@code probeInterval} times
 * {@code failuresToDeclareDead}.
 *
 * <p>A dead replica needs no decision: the supervisor restarts it over its data and the
 * orchestrator points it at the current primary again. Reads move away from it on their own (the
 * web servers' {@code ReplicationGroup} takes it out of rotation at the first failed read).
 *
 * <p>Thread-safe: state changes under this object's lock; probes, promotion and fencing run on the
 * injected executor (virtual threads), ticks on the injected scheduler. {@link #start(String)} may
 * block (on a virtual thread) while a failover decides the fate of the member.
 */
final class PostgresFailover implements AutoCloseable {

  /** What a member is now. */
  enum Role { PRIMARY, REPLICA }

  /** The primary and the replicas, as web servers should use them. */
  record DatabaseTopology(String primaryJdbcUrl, List<String> replicaJdbcUrls) {}

  /** One member's state as last probed, for {@code scalestack status}; {@code lagBytes} is -1 when unknown. */
  record NodeStatus(String name, Role role, boolean reachable, String lsn, long lagBytes, String receiver) {}

  /** One completed failover. */
  record FailoverEvent(String oldPrimary, String newPrimary, Instant detectedAt, Instant promotedAt, String promotedLsn) {
    Duration duration() {
      return Duration.between(detectedAt, promotedAt);
    }
  }

  private static final Logger log = LoggerFactory.getLogger(PostgresFailover.class);
  private static final Duration DECISION_TIMEOUT = Duration.ofSeconds(60);
  private static final String PRIMARY_PROBE = "SELECT pg_is_in_recovery(), pg_current_wal_lsn()::text, 0";
  // pg_stat_wal_receiver has a row only while a WAL receiver runs (PostgreSQL manual, section 28.2.5)
  private static final String REPLICA_PROBE = "SELECT pg_is_in_recovery(),"
      + " COALESCE(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::text,"
      + " COALESCE(pg_last_wal_replay_lsn()::text, ''),"
      + " COALESCE((SELECT status FROM pg_stat_wal_receiver), 'none')";

  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final Function<String, PostgresServer.Builder> builders;
  private final boolean synchronous;
  private final Consumer<DatabaseTopology> onTopology;
  private final Duration probeInterval;
  private final int failuresToDeclareDead;
  private final ScheduledExecutorService scheduler;
  private final Executor executor;
  private final Clock clock;
  private final String user;
  private final String password;
  private final AtomicBoolean ticking = new AtomicBoolean();
  private final List<FailoverEvent> history = new ArrayList<>();

  private Node primary;
  private int primaryFailures;
  private Instant primaryFailingSince;
  private ScheduledFuture<?> monitor;
  private boolean closed;

  /**
   * @param members member name to data directory, in order; the first is the primary of a new topology
   * @param builders a member's server builder (address, data, log, credentials), without replication
   */
  PostgresFailover(Map<String, Path> members, Function<String, PostgresServer.Builder> builders, String user,
      String password, boolean synchronous, Consumer<DatabaseTopology> onTopology, Duration probeInterval,
      int failuresToDeclareDead, ScheduledExecutorService scheduler, Executor executor, Clock clock) {
    if (members.isEmpty()) {
      throw new IllegalArgumentException("members: empty (expected: at least the primary)");
    }
    if (failuresToDeclareDead < 1) {
      throw new IllegalArgumentException("failuresToDeclareDead: " + failuresToDeclareDead + " (expected: >= 1)");
    }
    members.forEach((name, dataDirectory) -> nodes.put(name, new Node(name, dataDirectory)));
    this.builders = builders;
    this.user = user;
    this.password = password;
    this.synchronous = synchronous;
    this.onTopology = onTopology;
    this.probeInterval = probeInterval;
    this.failuresToDeclareDead = failuresToDeclareDead;
    this.scheduler = scheduler;
    this.executor = executor;
    this.clock = clock;
    this.primary = initialPrimary();
    for (Node node : nodes.values()) {
      node.role = node == primary ? Role.PRIMARY : Role.REPLICA;
    }
  }

  /**
   * The member whose cluster starts as a primary (a past failover may have promoted a replica), or
   * the first member of a new topology. A failover fences the old primary's cluster before it
   * promotes, so at most one holds a primary cluster.
   */
  private Node initialPrimary() {
    List<Node> primaries = nodes.values().stream()
        .filter(n -> PostgresServer.holdsPrimaryCluster(n.dataDirectory)).toList();
    if (primaries.size() > 1) {
      throw new IllegalStateException("postgres: members " + primaries.stream().map(n -> n.name).toList()
          + " all hold a primary cluster (expected: one; fence all but the newest by moving its data directory aside)");
    }
    if (primaries.size() == 1) {
      return primaries.get(0);
    }
    List<Node> replicas = nodes.values().stream()
        .filter(n -> java.nio.file.Files.isRegularFile(n.dataDirectory.resolve("data/PG_VERSION"))).toList();
    if (!replicas.isEmpty()) {
      throw new IllegalStateException("postgres: no member holds a primary cluster, but " + replicas.stream()
          .map(n -> n.name).toList() + " hold replicas: a failover was interrupted between fencing and promotion"
          + " (expected: promote the most advanced replica by hand, or remove the data directories)");
    }
    return nodes.values().iterator().next();
  }

  /**
   * Starts member {@code name} in its current role and returns the running server: the primary
   * over its data; a replica over its data (or by a base backup of the primary if it has none, as
   * after fencing), then pointed at the current primary. While a failover is deciding about a dead
   * primary, its restart waits here for the decision.
   */
  PostgresServer start(String name) throws InterruptedException {
    Node node = node(name);
    Role role;
    PostgresServer upstream;
    synchronized (this) {
      long deadline = System.nanoTime() + DECISION_TIMEOUT.toNanos();
      while (node == primary && node.awaitingDecision && !closed) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new IllegalStateException(name + ": no failover decision within " + DECISION_TIMEOUT.toSeconds() + " s");
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
      role = node.role;
      upstream = primary.server;
    }
    PostgresServer.Builder builder = builders.apply(name);
    if (role == Role.REPLICA) {
      if (upstream == null || !upstream.isRunning()) {
        throw new IllegalStateException(name + ": the primary " + primary.name + " is not running (expected: it"
            + " runs, for a replica to copy and follow)");
      }
      builder.replicaOf(upstream).standbyName(node.standbyName);
    }
    PostgresServer server = builder.build().start();
    if (role == Role.REPLICA && server.replicaOf() != null) {
      // restarted over its own data: its primary_conninfo may still name a primary fenced since
      server.follow(upstream);
    }
    synchronized (this) {
      node.server = server;
      node.jdbcUrl();
      if (node == primary) {
        node.awaitingDecision = false;
        primaryFailures = 0;
      }
    }
    return server;
  }

  /** The supervisor saw member {@code name}'s process exit: one observer's vote that it is dead. */
  void died(String name) {
    Node node = node(name);
    synchronized (this) {
      if (node == primary && nodes.size() > 1) {
        node.awaitingDecision = true;
      }
    }
    executor.execute(this::tick);
  }

  /**
   * After every member started: turns on synchronous replication (if configured; before, a commit
   * would wait for replicas that do not exist yet) and the monitor.
   */
  void activate() {
    if (synchronous) {
      PostgresServer server;
      synchronized (this) {
        server = primary.server;
      }
      server.alterSystem("synchronous_standby_names", synchronousNames(primary));
    }
    synchronized (this) {
      monitor = scheduler.scheduleWithFixedDelay(() -> executor.execute(this::tick),
          probeInterval.toMillis(), probeInterval.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** {@code ANY 1 (every other member)}: a commit returns once one of them has flushed it. */
  private String synchronousNames(Node newPrimary) {
    return "ANY 1 (" + String.join(", ", nodes.values().stream().filter(n -> n != newPrimary)
        .map(n -> n.standbyName).toList()) + ")";
  }

  /** The topology web servers should use now. */
  synchronized DatabaseTopology topology() {
    List<String> replicas = new ArrayList<>();
    for (Node node : nodes.values()) {
      if (node != primary) {
        replicas.add(node.jdbcUrl());
      }
    }
    return new DatabaseTopology(primary.jdbcUrl(), List.copyOf(replicas));
  }

  /** Every member's role and WAL position as last probed. */
  synchronized List<NodeStatus> status() {
    List<NodeStatus> statuses = new ArrayList<>();
    long primaryLsn = primary.lsn;
    for (Node node : nodes.values()) {
      long lag = node == primary ? 0 : node.replayLsn < 0 || primaryLsn < 0 ? -1 : Math.max(0, primaryLsn - node.replayLsn);
      statuses.add(new NodeStatus(node.name, node.role, node.reachable,
          node.lsn < 0 ? "" : format(node.lsn), lag, node == primary ? "" : node.receiver));
    }
    return statuses;
  }

  /** The failovers so far, oldest first. */
  synchronized List<FailoverEvent> history() {
    return List.copyOf(history);
  }

  /** The member that is primary now. */
  synchronized String primaryName() {
    return primary.name;
  }

  /** Stops the monitor and closes its connections; the servers are the supervisor's to stop. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (monitor != null) {
        monitor.cancel(false);
      }
      notifyAll();
    }
    for (Node node : nodes.values()) {
      node.closeConnection();
    }
  }

  // ---- the monitor ----

  /** One round: probe everyone, then fail over if the primary is dead. Rounds never overlap. */
  private void tick() {
    if (!ticking.compareAndSet(false, true)) {
      return;
    }
    try {
      Node current;
      synchronized (this) {
        if (closed) {
          return;
        }
        current = primary;
      }
      for (Node node : nodes.values()) {
        probe(node, node == current);
      }
      boolean dead;
      synchronized (this) {
        if (current.reachable && current.inRecovery == Boolean.FALSE) {
          primaryFailures = 0;
          primaryFailingSince = null;
          dead = false;
        } else {
          if (primaryFailures++ == 0) {
            primaryFailingSince = clock.instant();
          }
          dead = primaryFailures >= (current.awaitingDecision ? 1 : failuresToDeclareDead);
        }
      }
      if (dead) {
        considerFailover(current);
      } else {
        repointReplicas();
      }
    } catch (RuntimeException e) {
      log.warn("postgres failover: monitor round failed: {}", e.toString(), e);
    } finally {
      ticking.set(false);
    }
  }

  private void considerFailover(Node old) {
    List<Node> answering = new ArrayList<>();
    int votes = 0;
    for (Node node : nodes.values()) {
      if (node != old && node.reachable && node.inRecovery == Boolean.TRUE) {
        answering.add(node);
        if (!"streaming".equals(node.receiver)) {
          votes++;
        }
      }
    }
    if (answering.isEmpty()) {
      synchronized (this) {
        if (old.awaitingDecision) {
          log.warn("postgres failover: primary {} is down and no replica answers; it restarts in place", old.name);
          old.awaitingDecision = false;
          notifyAll();
        }
      }
      return;
    }
    if (votes * 2 <= answering.size()) {
      log.info("postgres failover: the control plane cannot reach primary {}, but {} of {} replicas still stream from"
          + " it; not failing over", old.name, answering.size() - votes, answering.size());
      return;
    }
    if (synchronous) {
      List<String> silent = nodes.values().stream()
          .filter(n -> n != old && !answering.contains(n)).map(n -> n.name).toList();
      if (!silent.isEmpty()) {
        log.warn("postgres failover: primary {} is dead, but replicas {} do not answer; with synchronous replication"
            + " one of them may hold the last acknowledged commit, so no promotion until every replica answers",
            old.name, silent);
        return;
      }
    }
    failover(old, answering);
  }

  private void failover(Node old, List<Node> candidates) {
    Instant detectedAt;
    synchronized (this) {
      detectedAt = primaryFailingSince != null ? primaryFailingSince : clock.instant();
      old.awaitingDecision = true; // its restart waits until it can come back as a replica
    }
    // (1) fence: the old primary never takes another write, not even after a restart of everything
    PostgresServer oldServer = old.server;
    if (oldServer != null) {
      oldServer.kill();
      oldServer.fenceCluster();
    } else {
      builders.apply(old.name).build().fenceCluster();
    }
    old.closeConnection();
    // (2) the most advanced replica: with synchronous replication, one that holds every acknowledged commit
    Node next = candidates.stream()
        .max(Comparator.comparingLong((Node n) -> n.lsn).thenComparing(n -> n.name, Comparator.reverseOrder()))
        .orElseThrow();
    log.warn("postgres failover: primary {} is dead ({} of {} replicas lost it too); promoting {} at {}", old.name,
        candidates.stream().filter(n -> !"streaming".equals(n.receiver)).count(), candidates.size(), next.name,
        format(next.lsn));
    // (3) promote, then repoint the others
    if (synchronous) {
      next.server.alterSystem("synchronous_standby_names", synchronousNames(next));
    }
    next.server.promote();
    FailoverEvent event;
    synchronized (this) {
      primary = next;
      next.role = Role.PRIMARY;
      old.role = Role.REPLICA;
      old.server = null;
      old.awaitingDecision = false;
      primaryFailures = 0;
      primaryFailingSince = null;
      event = new FailoverEvent(old.name, next.name, detectedAt, clock.instant(), format(next.lsn));
      history.add(event);
      notifyAll();
    }
    next.closeConnection(); // it answers as a primary from now on
    repointReplicas();
    // (4) the web servers
    onTopology.accept(topology());
    log.warn("postgres failover: {} is the primary now, {} ms after the old one was found dead; {} comes back as a"
        + " replica", next.name, event.duration().toMillis(), old.name);
  }

  /** Points every running replica that streams from someone else at the current primary. */
  private void repointReplicas() {
    PostgresServer target;
    List<Node> replicas = new ArrayList<>();
    synchronized (this) {
      target = primary.server;
      for (Node node : nodes.values()) {
        if (node != primary && node.server != null) {
          replicas.add(node);
        }
      }
    }
    if (target == null || !target.isRunning()) {
      return;
    }
    for (Node node : replicas) {
      PostgresServer server = node.server;
      if (server.isRunning() && server.replicaOf() != null && server.replicaOf() != target) {
        try {
          server.follow(target);
        } catch (RuntimeException e) {
          log.warn("postgres failover: cannot point {} at the primary yet: {}", node.name, e.getMessage());
        }
      }
    }
  }

  private void probe(Node node, boolean asPrimary) {
    PostgresServer server = node.server;
    if (server == null || !server.isRunning()) {
      node.markUnreachable();
      return;
    }
    try {
      Connection connection = node.connection(server, user, password);
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery(asPrimary ? PRIMARY_PROBE : REPLICA_PROBE)) {
        rows.next();
        boolean inRecovery = rows.getBoolean(1);
        if (asPrimary && inRecovery) {
          node.observe(true, -1, -1, "none");
          return;
        }
        long lsn = parse(rows.getString(2));
        String replay = rows.getString(3);
        node.observe(inRecovery, lsn, asPrimary ? lsn : replay.isEmpty() ? -1 : parse(replay),
            asPrimary ? "" : rows.getString(4));
      }
    } catch (SQLException | RuntimeException e) {
      log.debug("postgres failover: probe of {} failed: {}", node.name, e.toString());
      node.closeConnection();
      node.markUnreachable();
    }
  }

  private Node node(String name) {
    Node node = nodes.get(name);
    if (node == null) {
      throw new IllegalArgumentException("member: '" + name + "' (expected: one of " + nodes.keySet() + ")");
    }
    return node;
  }

  /** {@code X/Y}, PostgreSQL's pg_lsn text form: the high and low 32 bits in hexadecimal. */
  static long parse(String lsn) {
    if (lsn == null) {
      return -1;
    }
    int slash = lsn.indexOf('/');
    return (Long.parseLong(lsn.substring(0, slash), 16) << 32) | Long.parseLong(lsn.substring(slash + 1), 16);
  }

  static String format(long lsn) {
    return Long.toHexString(lsn >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
        + Long.toHexString(lsn & 0xFFFF_FFFFL).toUpperCase(java.util.Locale.ROOT);
  }

  /** One member. Fields the monitor writes are volatile; role and decisions change under the orchestrator's lock. */
  private final class Node {
    final String name;
    final String standbyName;
    final Path dataDirectory;
    volatile PostgresServer server;
    Role role;
    boolean awaitingDecision;
    volatile boolean reachable;
    volatile Boolean inRecovery;
    volatile long lsn = -1;
    volatile long replayLsn = -1;
    volatile String receiver = "none";
    private volatile String lastJdbcUrl;
    private Connection connection; // only the (non-overlapping) monitor rounds use it

    Node(String name, Path dataDirectory) {
      this.name = name;
      this.standbyName = name.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
      this.dataDirectory = dataDirectory.toAbsolutePath().normalize();
    }

    /** Where it serves: its running (or last) server's URL, else its configured address. */
    String jdbcUrl() {
      PostgresServer running = server;
      if (running != null) {
        lastJdbcUrl = running.jdbcUrl();
      } else if (lastJdbcUrl == null) {
        lastJdbcUrl = builders.apply(name).build().jdbcUrl(); // a fixed port; port 0 members are started first
      }
      return lastJdbcUrl;
    }

    Connection connection(PostgresServer target, String user, String password) throws SQLException {
      if (connection != null && !connection.isClosed()) {
        return connection;
      }
      Properties properties = new Properties();
      properties.setProperty("user", user);
      properties.setProperty("password", password);
      properties.setProperty("connectTimeout", "1");
      properties.setProperty("socketTimeout", "2");
      properties.setProperty("ApplicationName", "scalestack-failover");
      String url = target.jdbcUrl();
      connection = new org.postgresql.Driver().connect(url, properties);
      if (connection == null) {
        throw new SQLException("the PostgreSQL driver does not accept " + url);
      }
      return connection;
    }

    void observe(boolean inRecovery, long lsn, long replayLsn, String receiver) {
      this.reachable = true;
      this.inRecovery = inRecovery;
      this.lsn = lsn;
      this.replayLsn = replayLsn;
      this.receiver = receiver;
    }

    void markUnreachable() {
      reachable = false;
      inRecovery = null;
      lsn = -1;
      replayLsn = -1;
      receiver = "none";
    }

    void closeConnection() {
      Connection open = connection;
      connection = null;
      if (open != null) {
        try {
          open.close();
        } catch (SQLException e) {
          log.debug("postgres failover: closing the probe connection to {}: {}", name, e.toString());
        }
      }
    }
  }
}
