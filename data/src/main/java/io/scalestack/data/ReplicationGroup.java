package io.scalestack.data;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.scalestack.data.internal.LagMonitor;
import io.scalestack.data.internal.NodePool;
import io.scalestack.data.internal.PrimaryHistory;
import io.scalestack.data.internal.SqlStates;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL primary with its streaming replicas, as the web tier uses it: writes and
 * transactions go to the primary, reads are spread round-robin over the replicas in rotation, and
 * a session reads its own writes. A shard is one more group; sharding is several groups.
 *
 * <p><b>Read-your-writes.</b> {@link #write(ConsistencyToken, SqlWork)} runs its work in a
 * transaction on the primary and, after the commit, advances the session's token to the end of the
 * WAL the primary had inserted (the commit record's end or later; {@code pg_current_wal_insert_lsn()},
 * which unlike {@code pg_current_wal_lsn()} includes a commit not flushed yet under
 * {@code synchronous_commit=off}). {@link #read(ConsistencyToken, SqlWork)} uses a replica only if
 * its {@code pg_last_wal_replay_lsn()} is at or past the token — known from the monitor, or asked
 * on the replica's connection itself, waiting up to {@code catchUpWaitMillis} for it — and
 * otherwise the primary. Replay only moves forward, so the work then sees the write.
 *
 * <p><b>Rotation.</b> A lag monitor samples the primary's flushed position and every replica's
 * replayed position every {@code pollIntervalMillis}. A replica's lag is how long ago the primary
 * had nothing newer than what the replica replayed (an upper bound, measured on the primary's
 * clock of samples, so an idle primary means no lag). A replica is out of rotation while its lag
 * exceeds {@code maxLagMillis}, its replay position is NULL, it is not in recovery, its last answer
 * is older than {@code probeTimeoutMillis}, or a read on it just failed at the connection level;
 * it is back when a later probe finds it healthy with lag at most half the bound. A read that
 * fails at the connection level on a replica is retried on another node, so read work must be
 * safe to run twice (reads are). With no replica in rotation, reads go to the primary.
 *
 * <p><b>Topology changes.</b> {@link #updateTopology(Topology)} replaces the nodes at runtime
 * (after a failover, or to add and remove replicas); pools of nodes that stay in the same role are
 * kept. {@link #suspendWrites()} makes writes (and primary reads) wait, up to
 * {@code switchTimeoutMillis}, for the next topology; a write whose primary fails before its
 * COMMIT (no connection, or the connection dies while the work runs) waits the same way and runs
 * again on the new primary. A write whose commit outcome is unknown (connection lost during the
 * COMMIT) is never run again. The group does not detect a dead primary by itself: a failover
 * orchestrator promotes a replica and calls {@link #updateTopology(Topology)}.
 *
 * <p>Metrics (when a registry is given): {@code scalestack.data.reads} (tags {@code group},
 * {@code served_by} = primary or replica, {@code reason}), {@code scalestack.data.writes}
 * ({@code group}, {@code outcome}), {@code scalestack.data.replica.lag} (seconds, per replica),
 * {@code scalestack.data.replica.in.rotation} (0 or 1), {@code scalestack.data.read.catch.up} (seconds
 * a read spent on a replica that had not replayed its token yet), {@code scalestack.data.writes.waiting}
 * and HikariCP's pool metrics.
 *
 * <p>Thread-safe. Close it to stop the monitor and close the pools.
 */
public final class ReplicationGroup implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ReplicationGroup.class);
  private static final String INSERT_POSITION = "SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn,"
      + " current_setting('wal_block_size')::bigint, pg_size_bytes(current_setting('wal_segment_size'))";
  private static final String REPLAY_POSITION = "SELECT pg_last_wal_replay_lsn() - '0/0'::pg_lsn";
  /** XLOG page header sizes on 64-bit builds: SizeOfXLogShortPHD, SizeOfXLogLongPHD. */
  private static final long SHORT_PAGE_HEADER = 24;
  private static final long LONG_PAGE_HEADER = 40;
  private static final long CATCH_UP_POLL_NANOS = 200_000;
  /** SQLSTATE 08007: the connection failed during COMMIT; never retried. */
  private static final String TRANSACTION_RESOLUTION_UNKNOWN = "08007";

  private final String name;
  private final String user;
  private final String password;
  private final int poolSize;
  private final long connectionTimeoutMillis;
  private final long maxLagMillis;
  private final long catchUpWaitMillis;
  private final long pollIntervalMillis;
  private final int replicaReadTimeoutMillis;
  private final long switchTimeoutMillis;
  private final int probeTimeoutMillis;
  private final Clock clock;
  private final MeterRegistry registry;
  private final boolean metricsEnabled;
  private final ScheduledExecutorService ownScheduler;
  private final ExecutorService ownExecutor;
  private final LagMonitor monitor;

  private final ReentrantLock switchLock = new ReentrantLock();
  private final Condition switched = switchLock.newCondition();
  private volatile Nodes nodes;
  private final AtomicInteger nextReplica = new AtomicInteger();
  private final AtomicInteger waitingForPrimary = new AtomicInteger();
  private volatile boolean closed;

  private final Counter replicaReads;
  private final Counter primaryReadsNoReplica;
  private final Counter primaryReadsBehind;
  private final Counter writesCommitted;
  private final Counter writesFailed;
  private final Timer catchUpWaits;

  /** The current nodes; immutable, replaced as a whole. */
  private record Nodes(Topology topology, NodePool primary, List<NodePool> replicas, long version,
      boolean writesSuspended, List<Meter> meters) {}

  private ReplicationGroup(Builder builder) {
    this.name = builder.name;
    this.user = builder.user;
    this.password = builder.password;
    this.poolSize = builder.poolSize;
    this.connectionTimeoutMillis = builder.connectionTimeoutMillis;
    this.maxLagMillis = builder.maxLagMillis;
    this.catchUpWaitMillis = builder.catchUpWaitMillis;
    this.pollIntervalMillis = builder.pollIntervalMillis;
    this.replicaReadTimeoutMillis = (int) builder.replicaReadTimeoutMillis;
    this.switchTimeoutMillis = builder.switchTimeoutMillis;
    this.probeTimeoutMillis = (int) builder.probeTimeoutMillis;
    this.clock = builder.clock;
    this.metricsEnabled = builder.registry != null;
    this.registry = metricsEnabled ? builder.registry : new CompositeMeterRegistry(); // no-op when empty
    this.ownScheduler = builder.scheduler == null ? Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().name("data-" + name + "-monitor").daemon().factory()) : null;
    this.ownExecutor = builder.executor == null
        ? Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("data-" + name + "-probe-", 0).factory()) : null;
    ScheduledExecutorService scheduler = ownScheduler != null ? ownScheduler : builder.scheduler;
    java.util.concurrent.Executor executor = ownExecutor != null ? ownExecutor : builder.executor;

    replicaReads = readCounter("replica", "replica_caught_up");
    primaryReadsNoReplica = readCounter("primary", "no_replica_in_rotation");
    primaryReadsBehind = readCounter("primary", "replicas_behind_token");
    writesCommitted = Counter.builder("scalestack.data.writes").tag("group", name).tag("outcome", "committed")
        .description("write transactions").register(registry);
    writesFailed = Counter.builder("scalestack.data.writes").tag("group", name).tag("outcome", "failed")
        .description("write transactions").register(registry);
    catchUpWaits = Timer.builder("scalestack.data.read.catch.up").tag("group", name)
        .description("time a read with a token spent asking a replica that had not replayed it yet")
        .register(registry);
    Gauge.builder("scalestack.data.writes.waiting", waitingForPrimary, AtomicInteger::get).tag("group", name)
        .description("writes waiting for a primary (topology switch)").register(registry);

    this.nodes = createNodes(builder.topology, Map.of(), 0, false);
    PrimaryHistory history = new PrimaryHistory(Math.max(4 * maxLagMillis, 10_000));
    this.monitor = new LagMonitor(() -> {
      Nodes current = nodes;
      return new LagMonitor.Nodes(current.primary(), current.replicas());
    }, history, clock, scheduler, executor, builder.pollIntervalMillis, maxLagMillis, probeTimeoutMillis);
    log.info("replication group {} started: {}", name, builder.topology);
  }

  private Counter readCounter(String servedBy, String reason) {
    return Counter.builder("scalestack.data.reads").tag("group", name).tag("served_by", servedBy)
        .tag("reason", reason).description("reads, by the node that served them").register(registry);
  }

  /** A builder; {@link Builder#topology}, {@link Builder#user} and {@link Builder#password} are required. */
  public static Builder builder() {
    return new Builder();
  }

  private Nodes createNodes(Topology topology, Map<String, NodePool> reusable, long version, boolean suspended) {
    NodePool primary = reusable.containsKey("primary " + topology.primary().jdbcUrl())
        ? reusable.get("primary " + topology.primary().jdbcUrl()) : pool(topology.primary(), false);
    List<NodePool> replicas = new ArrayList<>();
    List<Meter> meters = new ArrayList<>();
    for (DataNode node : topology.replicas()) {
      NodePool replica = reusable.containsKey("replica " + node.jdbcUrl())
          ? reusable.get("replica " + node.jdbcUrl()) : pool(node, true);
      replicas.add(replica);
      meters.add(Gauge.builder("scalestack.data.replica.lag", replica, r -> r.lagMillis() < 0 ? Double.NaN : r.lagMillis() / 1000.0)
          .tag("group", name).tag("replica", node.name()).baseUnit("seconds")
          .description("how long ago the primary had only what the replica has replayed").register(registry));
      meters.add(Gauge.builder("scalestack.data.replica.in.rotation", replica, r -> r.inRotation() ? 1 : 0)
          .tag("group", name).tag("replica", node.name()).description("1 while reads may go to the replica")
          .register(registry));
    }
    return new Nodes(topology, primary, List.copyOf(replicas), version, suspended, List.copyOf(meters));
  }

  private NodePool pool(DataNode node, boolean replica) {
    return new NodePool(name, node, replica, user, password, poolSize, connectionTimeoutMillis, probeTimeoutMillis,
        metricsEnabled ? registry : null);
  }

  /**
   * Runs {@code work} in a transaction on the primary, commits, and advances {@code token} to the
   * commit's WAL position. On an exception the transaction is rolled back and the exception
   * rethrown; the token is unchanged. If the primary fails before the COMMIT is sent (nothing is
   * committed then), the work runs again, from the start, on the primary of the next topology
   * (waiting up to {@code switchTimeoutMillis} for it): keep side effects outside the database out
   * of the work. If the connection fails during the COMMIT the outcome is unknown and the write
   * fails with SQLSTATE 08007; it is never run again.
   *
   * @throws SQLException from the work or the commit, or a {@link SQLTransientConnectionException}
   *     if no primary could be reached within {@code switchTimeoutMillis}
   */
  public <T> T write(ConsistencyToken token, SqlWork<T> work) throws SQLException {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(work, "work");
    return onPrimary(connection -> {
      connection.setAutoCommit(false);
      T result;
      try {
        result = work.run(connection);
      } catch (SQLException | RuntimeException | Error e) {
        writesFailed.increment();
        rollback(connection, e);
        throw e; // not committed: onPrimary may run it again on a new primary
      }
      try {
        connection.commit();
      } catch (SQLException e) {
        writesFailed.increment();
        if (!SqlStates.isNodeFailure(e)) {
          rollback(connection, e);
          throw e; // the server refused the commit (serialization failure, deferred constraint, ...)
        }
        throw new SQLException("group " + name + ": the connection to the primary failed during COMMIT; the"
            + " transaction may or may not have committed", TRANSACTION_RESOLUTION_UNKNOWN, e);
      }
      writesCommitted.increment();
      connection.setAutoCommit(true);
      token.advanceTo(commitPosition(connection));
      return result;
    });
  }

  private static void rollback(Connection connection, Throwable failure) {
    try {
      connection.rollback();
    } catch (SQLException rollback) {
      failure.addSuppressed(rollback);
    }
  }

  /**
   * The end of the WAL the primary has inserted, at or after the end of our commit record. At a
   * page boundary {@code pg_current_wal_insert_lsn()} points past the next page's header, where
   * no record ends until one is written; the end of the last record is the boundary itself.
   */
  private Lsn commitPosition(Connection connection) {
    try (PreparedStatement statement = connection.prepareStatement(INSERT_POSITION);
        ResultSet rows = statement.executeQuery()) {
      rows.next();
      long insert = rows.getLong(1);
      long blockSize = rows.getLong(2);
      long segmentSize = rows.getLong(3);
      if (Long.remainderUnsigned(insert, segmentSize) == LONG_PAGE_HEADER) {
        insert -= LONG_PAGE_HEADER;
      } else if (Long.remainderUnsigned(insert, blockSize) == SHORT_PAGE_HEADER) {
        insert -= SHORT_PAGE_HEADER;
      }
      return Lsn.of(insert);
    } catch (SQLException e) {
      // Committed, but where is unknown: pin the session to the primary rather than risk a stale read.
      log.warn("group {}: cannot read the commit position after a commit; this session now reads from the primary",
          name, e);
      return Lsn.of(-1L);
    }
  }

  /**
   * Runs read-only {@code work} on a replica that has replayed {@code token}'s position, else on
   * the primary. The connection is in auto-commit mode. If a replica fails at the connection level
   * the work runs again on another node.
   */
  public <T> T read(ConsistencyToken token, SqlWork<T> work) throws SQLException {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(work, "work");
    long need = token.lsn().asLong();
    Nodes current = nodes;
    List<NodePool> replicas = current.replicas();
    int count = replicas.size();
    int start = count == 0 ? 0 : Math.floorMod(nextReplica.getAndIncrement(), count);
    boolean anyInRotation = false;
    for (int i = 0; i < count; i++) {
      NodePool replica = replicas.get((start + i) % count);
      if (!replica.inRotation()) {
        continue;
      }
      anyInRotation = true;
      boolean behind = Long.compareUnsigned(replica.replayLsn(), need) < 0;
      if (behind && replica.lagMillis() > catchUpWaitMillis + pollIntervalMillis) {
        continue; // too far behind to catch up within the wait (the lag is known to a poll interval)
      }
      try (Connection connection = replica.connection()) {
        if (replicaReadTimeoutMillis > 0) {
          connection.setNetworkTimeout(Runnable::run, replicaReadTimeoutMillis); // HikariCP resets it on return
        }
        if (behind && !caughtUp(connection, replica, need)) {
          continue;
        }
        T result = work.run(connection);
        replicaReads.increment();
        return result;
      } catch (SQLException e) {
        if (!SqlStates.isNodeFailure(e)) {
          throw e;
        }
        replica.markFailed(clock.millis(), e);
        log.debug("group {}: read on {} failed; trying another node", name, replica, e);
      }
    }
    T result = onPrimary(work);
    (anyInRotation ? primaryReadsBehind : primaryReadsNoReplica).increment();
    return result;
  }

  /** Whether the replica replays {@code need} within the catch-up wait, asked on the connection itself. */
  private boolean caughtUp(Connection connection, NodePool replica, long need) throws SQLException {
    long started = System.nanoTime();
    long deadline = started + TimeUnit.MILLISECONDS.toNanos(catchUpWaitMillis);
    try (PreparedStatement statement = connection.prepareStatement(REPLAY_POSITION)) {
      while (true) {
        try (ResultSet rows = statement.executeQuery()) {
          rows.next();
          long replay = rows.getLong(1);
          if (rows.wasNull()) {
            return false;
          }
          replica.observeReplay(replay);
          if (Long.compareUnsigned(replay, need) >= 0) {
            return true;
          }
        }
        if (System.nanoTime() - deadline >= 0) {
          return false;
        }
        LockSupport.parkNanos(CATCH_UP_POLL_NANOS);
      }
    } finally {
      catchUpWaits.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Runs {@code work} on the primary; while writes are suspended, or the primary cannot be reached
   * (before the work starts, or while it runs, but never during a COMMIT), waits up to
   * {@code switchTimeoutMillis} for a new topology and runs it there.
   */
  private <T> T onPrimary(SqlWork<T> work) throws SQLException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(switchTimeoutMillis);
    long retriedVersion = -1;
    while (true) {
      Nodes current = awaitWritable(deadline);
      Connection connection;
      try {
        connection = current.primary().connection();
      } catch (SQLException e) {
        if (!SqlStates.isNodeFailure(e) || !awaitNewTopology(current, deadline)) {
          throw e;
        }
        continue;
      }
      try (connection) {
        return work.run(connection);
      } catch (SQLException e) {
        if (TRANSACTION_RESOLUTION_UNKNOWN.equals(e.getSQLState()) || !SqlStates.isNodeFailure(e)) {
          throw e;
        }
        if (retriedVersion != current.version()) {
          // A pooled connection that died with a restarted server: once more with a fresh one.
          retriedVersion = current.version();
          log.info("group {}: the connection to the primary {} failed ({}); running the work again", name,
              current.primary().node(), e.getMessage());
          continue;
        }
        if (!awaitNewTopology(current, deadline)) {
          throw e;
        }
      }
    }
  }

  private Nodes awaitWritable(long deadlineNanos) throws SQLException {
    Nodes current = nodes;
    if (!current.writesSuspended()) {
      return current;
    }
    waitingForPrimary.incrementAndGet();
    switchLock.lock();
    try {
      while ((current = nodes).writesSuspended()) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0 || closed) {
          throw new SQLTransientConnectionException("group " + name + ": no primary within switchTimeoutMillis "
              + switchTimeoutMillis + " (writes are suspended for a topology switch)", "08001");
        }
        switched.awaitNanos(left);
      }
      return current;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLTransientConnectionException("group " + name + ": interrupted while waiting for a primary", "08001", e);
    } finally {
      switchLock.unlock();
      waitingForPrimary.decrementAndGet();
    }
  }

  /** Waits until the topology is no longer {@code seen}'s; false at the deadline. */
  private boolean awaitNewTopology(Nodes seen, long deadlineNanos) {
    waitingForPrimary.incrementAndGet();
    switchLock.lock();
    try {
      while (nodes.version() == seen.version()) {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0 || closed) {
          return false;
        }
        switched.awaitNanos(left);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      switchLock.unlock();
      waitingForPrimary.decrementAndGet();
    }
  }

  /**
   * Makes writes and primary reads wait (up to {@code switchTimeoutMillis}) until the next
   * {@link #updateTopology(Topology)}; for a failover orchestrator that knows the primary is gone.
   * Replica reads go on.
   */
  public void suspendWrites() {
    switchLock.lock();
    try {
      Nodes current = nodes;
      nodes = new Nodes(current.topology(), current.primary(), current.replicas(), current.version(), true,
          current.meters());
      log.info("group {}: writes suspended for a topology switch", name);
    } finally {
      switchLock.unlock();
    }
  }

  /**
   * Replaces the nodes: new pools for new nodes (or nodes in a new role), the old pools of nodes
   * that left are closed once the switch is made (their borrowed connections fail or finish).
   * Resumes suspended writes; waiting writes go to the new primary.
   */
  public void updateTopology(Topology topology) {
    Objects.requireNonNull(topology, "topology");
    List<NodePool> retired = new ArrayList<>();
    switchLock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("updateTopology: group " + name + " is closed");
      }
      Nodes old = nodes;
      Map<String, NodePool> reusable = new HashMap<>();
      reusable.put("primary " + old.primary().node().jdbcUrl(), old.primary());
      old.replicas().forEach(r -> reusable.put("replica " + r.node().jdbcUrl(), r));
      old.meters().forEach(registry::remove);
      Nodes next = createNodes(topology, reusable, old.version() + 1, false);
      List<NodePool> kept = new ArrayList<>(next.replicas());
      kept.add(next.primary());
      reusable.values().stream().filter(p -> !kept.contains(p)).forEach(retired::add);
      nodes = next;
      switched.signalAll();
      log.info("group {}: topology {} -> {}", name, old.topology(), topology);
    } finally {
      switchLock.unlock();
    }
    retired.forEach(NodePool::close);
  }

  /** The current topology. */
  public Topology topology() {
    return nodes.topology();
  }

  /** This group's name (metrics tag {@code group}). */
  public String name() {
    return name;
  }

  /** What the monitor knows of each replica now, in topology order. */
  public List<ReplicaStatus> replicaStatus() {
    List<ReplicaStatus> status = new ArrayList<>();
    for (NodePool replica : nodes.replicas()) {
      status.add(new ReplicaStatus(replica.node(), replica.inRotation(), Lsn.of(replica.replayLsn()),
          replica.lagMillis(), replica.reason()));
    }
    return List.copyOf(status);
  }

  /** How many writes (or primary reads) are waiting for a primary right now. */
  public int waitingForPrimary() {
    return waitingForPrimary.get();
  }

  /** Stops the monitor and closes every pool; waiting writes fail. Idempotent. */
  @Override
  public void close() {
    switchLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      switched.signalAll();
    } finally {
      switchLock.unlock();
    }
    monitor.close();
    if (ownScheduler != null) {
      ownScheduler.shutdownNow();
    }
    Nodes current = nodes;
    current.meters().forEach(registry::remove);
    current.primary().close();
    current.replicas().forEach(NodePool::close);
    if (ownExecutor != null) {
      ownExecutor.shutdownNow();
    }
    log.info("replication group {} closed", name);
  }

  @Override
  public String toString() {
    return "ReplicationGroup{" + name + ", " + nodes.topology() + "}";
  }

  /**
   * Configures a {@link ReplicationGroup}. Each setter validates at once ({@code name: value
   * (expected: ...)}); {@link #build()} checks what is required and starts the group's monitor.
   * Not thread-safe.
   */
  public static final class Builder {

    private String name = "main";
    private Topology topology;
    private String user;
    private String password;
    private int poolSize = 10;
    private long connectionTimeoutMillis = 1000;
    private long maxLagMillis = 1000;
    private long pollIntervalMillis = 100;
    private long probeTimeoutMillis = 500;
    private long catchUpWaitMillis = 20;
    private long switchTimeoutMillis = 10_000;
    private long replicaReadTimeoutMillis;
    private Clock clock = Clock.systemUTC();
    private MeterRegistry registry;
    private ScheduledExecutorService scheduler;
    private java.util.concurrent.Executor executor;

    private Builder() {}

    /** The group's name in logs, pool names and metrics (default {@code main}; a shard's name later). */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[A-Za-z0-9_.-]{1,64}")) {
        throw new IllegalArgumentException("name: '" + name + "' (expected: 1 to 64 letters, digits, _ . -)");
      }
      this.name = name;
      return this;
    }

    /** Required: the primary and its replicas. */
    public Builder topology(Topology topology) {
      this.topology = Objects.requireNonNull(topology, "topology");
      return this;
    }

    /** Required: the database user of every node. */
    public Builder user(String user) {
      this.user = Objects.requireNonNull(user, "user");
      return this;
    }

    /** Required: the user's password. */
    public Builder password(String password) {
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /** Connections per node pool (default 10). */
    public Builder poolSize(int poolSize) {
      if (poolSize < 1) {
        throw new IllegalArgumentException("poolSize: " + poolSize + " (expected: >= 1)");
      }
      this.poolSize = poolSize;
      return this;
    }

    /** How long a pool waits for a connection (default 1000; HikariCP's minimum is 250). */
    public Builder connectionTimeoutMillis(long millis) {
      this.connectionTimeoutMillis = atLeast("connectionTimeoutMillis", millis, 250);
      return this;
    }

    /** The replication lag above which a replica is out of rotation (default 1000). */
    public Builder maxLagMillis(long millis) {
      this.maxLagMillis = atLeast("maxLagMillis", millis, 0);
      return this;
    }

    /** How often the monitor samples the primary and asks every replica (default 100). */
    public Builder pollIntervalMillis(long millis) {
      this.pollIntervalMillis = atLeast("pollIntervalMillis", millis, 1);
      return this;
    }

    /**
     * How long one probe may take, and how old a replica's last answer may be before it is out of
     * rotation (default 500).
     */
    public Builder probeTimeoutMillis(long millis) {
      this.probeTimeoutMillis = intMillis("probeTimeoutMillis", millis, 1);
      return this;
    }

    /**
     * How long a read with a token may wait for a replica to replay it before it goes to the
     * primary (default 20; 0: never wait). A replica whose lag already exceeds this is not asked.
     */
    public Builder catchUpWaitMillis(long millis) {
      this.catchUpWaitMillis = atLeast("catchUpWaitMillis", millis, 0);
      return this;
    }

    /** How long writes wait for a primary during a topology switch (default 10000). */
    public Builder switchTimeoutMillis(long millis) {
      this.switchTimeoutMillis = atLeast("switchTimeoutMillis", millis, 0);
      return this;
    }

    /**
     * How long a read may wait for any one answer from a replica before that replica counts as
     * failed and the read runs again on another node (default 0: no limit). Without it a read
     * already running on a replica that hangs (stopped process, lost network) waits for it; new
     * reads avoid it once the monitor takes it out. Must exceed the slowest read's quiet time.
     */
    public Builder replicaReadTimeoutMillis(long millis) {
      this.replicaReadTimeoutMillis = intMillis("replicaReadTimeoutMillis", millis, 0);
      return this;
    }

    /** The clock lag and staleness are measured with (default the system clock). */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Where to register metrics (default: none). */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "meterRegistry");
      return this;
    }

    /** Runs the monitor's ticks (default: a daemon thread of the group's own, shut down on close). */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** Runs the blocking probes (default: a virtual thread per probe, shut down on close). */
    public Builder executor(java.util.concurrent.Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** A timeout JDBC takes as an int. */
    private static long intMillis(String name, long value, long minimum) {
      if (value > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: <= " + Integer.MAX_VALUE + ")");
      }
      return atLeast(name, value, minimum);
    }

    private static long atLeast(String name, long value, long minimum) {
      if (value < minimum) {
        throw new IllegalArgumentException(name + ": " + value + " (expected: >= " + minimum + ")");
      }
      return value;
    }

    /**
     * Creates the pools (they connect in the background) and starts the monitor. Replicas are out of
     * rotation until their first probe answers.
     *
     * @throws IllegalStateException if topology, user or password is missing
     */
    public ReplicationGroup build() {
      if (topology == null) {
        throw new IllegalStateException("topology: not set (expected: a primary and its replicas)");
      }
      if (user == null || password == null) {
        throw new IllegalStateException((user == null ? "user" : "password") + ": not set (expected: the database "
            + (user == null ? "user" : "user's password") + ")");
      }
      return new ReplicationGroup(this);
    }
  }
}
