package io.scalestack.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.DataNode;
import io.scalestack.data.ReplicationGroup;
import io.scalestack.data.Topology;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.testing.TestEngines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A primary and two streaming replicas of real PostgreSQL under the orchestrator, with a small
 * supervisor of the test's own that restarts a dead server as {@link Supervisor} does; kill -9 under
 * load, then count what was lost.
 */
class PostgresFailoverTest {

  private static final List<String> MEMBERS = List.of("pg-primary", "pg-replica-1", "pg-replica-2");

  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final Map<String, PostgresServer> running = new ConcurrentHashMap<>();
  private final AtomicBoolean closing = new AtomicBoolean();
  private final Map<String, Path> directories = new LinkedHashMap<>();
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private PostgresFailover failover;
  private ReplicationGroup group;

  @AfterEach
  void stopEverything() {
    closing.set(true);
    if (group != null) {
      group.close();
    }
    if (failover != null) {
      failover.close();
    }
    running.values().forEach(PostgresServer::close);
    scheduler.shutdownNow();
    executor.shutdownNow();
  }

  /** Starts the three members as the supervisor does (primary, then replicas), and the orchestrator. */
  private void startCluster(String test, boolean synchronous) throws Exception {
    for (String member : MEMBERS) {
      directories.put(member, TestEngines.postgresBuilder(test + "-" + member).build().dataDirectory());
      ports.put(member, freePort());
    }
    failover = new PostgresFailover(directories, this::builder, "scalestack", "scalestack", synchronous,
        topology -> group.updateTopology(topology(topology)), Duration.ofMillis(100), 2, scheduler, executor,
        Clock.systemUTC());
    for (String member : MEMBERS) {
      supervise(member);
    }
    failover.activate();
    group = ReplicationGroup.builder().name(test).topology(topology(failover.topology()))
        .user("scalestack").password("scalestack").switchTimeoutMillis(30_000).build();
  }

  private PostgresServer.Builder builder(String member) {
    Path directory = directories.get(member);
    return PostgresServer.builder()
        .port(ports.get(member))
        .dataDirectory(directory)
        .engineCache(directory.getParent().getParent().resolve("engines"))
        .setting("wal_retrieve_retry_interval", "100ms");
  }

  /** Starts {@code member} and, whenever its process dies, tells the orchestrator and starts it again. */
  private void supervise(String member) throws InterruptedException {
    PostgresServer server = failover.start(member);
    running.put(member, server);
    ProcessHandle.of(server.pid()).orElseThrow().onExit().thenRunAsync(() -> {
      if (closing.get()) {
        return;
      }
      failover.died(member);
      while (!closing.get()) {
        try {
          Thread.sleep(300); // the supervisor's restart delay
          supervise(member);
          return;
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          // tried again, as the supervisor does
        }
      }
    }, executor);
  }

  private static Topology topology(PostgresFailover.DatabaseTopology topology) {
    List<DataNode> replicas = new ArrayList<>();
    for (String url : topology.replicaJdbcUrls()) {
      replicas.add(DataNode.of(url.replaceAll("[^0-9]", "-"), url));
    }
    return Topology.of(DataNode.of(topology.primaryJdbcUrl().replaceAll("[^0-9]", "-"), topology.primaryJdbcUrl()),
        replicas);
  }

  // below the ephemeral range: a port taken by a JDBC client's own end made a replica fail to bind in CI
  private static int freePort() {
    return io.scalestack.engines.Ports.free("127.0.0.1");
  }

  private static Connection connect(PostgresServer server) throws SQLException {
    return DriverManager.getConnection(server.jdbcUrl(), "scalestack", "scalestack");
  }

  private static String query(PostgresServer server, String sql) throws SQLException {
    try (Connection connection = connect(server); Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      return rows.next() ? rows.getString(1) : null;
    }
  }

  private static Set<Long> ids(PostgresServer server) throws SQLException {
    Set<Long> ids = new HashSet<>();
    try (Connection connection = connect(server); Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT id FROM acknowledged")) {
      while (rows.next()) {
        ids.add(rows.getLong(1));
      }
    }
    return ids;
  }

  private PostgresServer primaryServer() {
    return running.get(failover.primaryName());
  }

  @Test
  void killingThePrimaryUnderSynchronousWriteLoadPromotesAReplicaThatHasEveryAcknowledgedWrite() throws Exception {
    startCluster("sync-failover", true);
    try (Connection connection = connect(primaryServer()); Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE acknowledged (id bigint PRIMARY KEY)");
    }
    assertThat(query(primaryServer(), "SHOW synchronous_standby_names"))
        .isEqualTo("ANY 1 (pg_replica_1, pg_replica_2)");

    Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    record Success(long startedNanos, long nanos, String url) {}
    ConcurrentLinkedQueue<Success> successes = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicLong nextId = new AtomicLong();
    AtomicBoolean writing = new AtomicBoolean(true);
    List<java.util.concurrent.Future<?>> writers = new ArrayList<>();
    for (int w = 0; w < 4; w++) {
      writers.add(executor.submit(() -> {
        ConsistencyToken token = ConsistencyToken.create();
        while (writing.get()) {
          long id = nextId.incrementAndGet();
          long started = System.nanoTime();
          try {
            String url = group.write(token, connection -> {
              try (PreparedStatement insert = connection.prepareStatement("INSERT INTO acknowledged VALUES (?)")) {
                insert.setLong(1, id);
                insert.executeUpdate();
                return connection.getMetaData().getURL();
              }
            });
            acknowledged.add(id);
            successes.add(new Success(started, System.nanoTime(), url));
          } catch (SQLException e) {
            failures.add(e.getSQLState() + " " + e.getMessage()); // 08007: in flight at the kill, outcome unknown
          }
        }
      }));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> acknowledged.size() >= 200);

    PostgresServer oldPrimary = primaryServer();
    String oldUrl = oldPrimary.jdbcUrl();
    oldPrimary.kill(); // returns once the postmaster and its backends are gone
    long killedNanos = System.nanoTime();
    int acknowledgedAtKill = acknowledged.size();

    await().atMost(Duration.ofSeconds(15)).until(() -> failover.history().size() == 1);
    // the first write sent after the kill that succeeded (necessarily on the new primary)
    await().atMost(Duration.ofSeconds(15)).until(() -> successes.stream().anyMatch(s -> s.startedNanos() - killedNanos > 0));
    long firstWriteMillis = TimeUnit.NANOSECONDS.toMillis(successes.stream()
        .filter(s -> s.startedNanos() - killedNanos > 0).mapToLong(Success::nanos).min().orElseThrow() - killedNanos);
    assertThat(successes.stream().filter(s -> s.startedNanos() - killedNanos > 0)).allMatch(s -> !s.url().equals(oldUrl));
    await().atMost(Duration.ofSeconds(10)).until(() -> acknowledged.size() >= acknowledgedAtKill + 200);
    writing.set(false);
    for (var writer : writers) {
      writer.get(30, TimeUnit.SECONDS);
    }

    PostgresFailover.FailoverEvent event = failover.history().get(0);
    System.out.printf("failover: %s -> %s, first write on the new primary %d ms after the kill (detected and"
        + " promoted in %d ms), %d writes acknowledged, %d failed: %s%n", event.oldPrimary(), event.newPrimary(),
        firstWriteMillis, event.duration().toMillis(), acknowledged.size(), failures.size(), failures);
    assertThat(event.oldPrimary()).isEqualTo("pg-primary");
    assertThat(event.newPrimary()).isIn("pg-replica-1", "pg-replica-2");
    assertThat(firstWriteMillis).isLessThan(15_000);
    // at most the writes in flight at the kill fail, and only with "outcome unknown"
    assertThat(failures).hasSizeLessThanOrEqualTo(4).allMatch(f -> f.startsWith("08007"));

    PostgresServer newPrimary = primaryServer();
    assertThat(ids(newPrimary)).containsAll(acknowledged);

    // the old primary was fenced, and its member came back as a replica of the new primary
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      PostgresServer rebuilt = running.get("pg-primary");
      return rebuilt != oldPrimary && rebuilt.isRunning();
    });
    PostgresServer rebuilt = running.get("pg-primary");
    assertThat(Files.isDirectory(directories.get("pg-primary").resolve("data.fenced"))).isTrue();
    assertThat(query(rebuilt, "SELECT pg_is_in_recovery()")).isEqualTo("t");
    assertThatThrownBy(() -> {
      try (Connection connection = connect(rebuilt); Statement statement = connection.createStatement()) {
        statement.execute("INSERT INTO acknowledged VALUES (-1)");
      }
    }).isInstanceOf(SQLException.class).hasMessageContaining("read-only transaction");
    // both others stream from the new primary: the second replica was repointed
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(query(newPrimary,
        "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")).isEqualTo("2"));
    String end = query(newPrimary, "SELECT pg_current_wal_flush_lsn()");
    for (String member : MEMBERS) {
      PostgresServer server = running.get(member);
      if (server != newPrimary) {
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(query(server,
            "SELECT pg_last_wal_replay_lsn() >= '" + end + "'::pg_lsn")).isEqualTo("t"));
        assertThat(ids(server)).containsAll(acknowledged);
      }
    }
    assertThat(query(newPrimary, "SHOW synchronous_standby_names")).contains("pg_primary");
    assertThat(failover.status()).extracting(PostgresFailover.NodeStatus::role)
        .containsOnlyOnce(PostgresFailover.Role.PRIMARY);
  }

  @Test
  void killingAReplicaFailsNoReadAndTheReplicaComesBack() throws Exception {
    startCluster("replica-kill", true);
    try (Connection connection = connect(primaryServer()); Statement statement = connection.createStatement()) {
      statement.execute("CREATE TABLE acknowledged (id bigint PRIMARY KEY)");
      statement.execute("INSERT INTO acknowledged SELECT generate_series(1, 100)");
    }
    ConsistencyToken token = ConsistencyToken.create();
    AtomicLong reads = new AtomicLong();
    ConcurrentLinkedQueue<String> failedReads = new ConcurrentLinkedQueue<>();
    AtomicBoolean reading = new AtomicBoolean(true);
    List<java.util.concurrent.Future<?>> readers = new ArrayList<>();
    for (int r = 0; r < 4; r++) {
      readers.add(executor.submit(() -> {
        while (reading.get()) {
          try {
            group.read(token, connection -> {
              try (Statement statement = connection.createStatement();
                  ResultSet rows = statement.executeQuery("SELECT count(*) FROM acknowledged")) {
                rows.next();
                return rows.getLong(1);
              }
            });
            reads.incrementAndGet();
          } catch (SQLException e) {
            failedReads.add(e.getSQLState() + " " + e.getMessage());
          }
        }
      }));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> reads.get() >= 500);

    PostgresServer killed = running.get("pg-replica-1");
    killed.kill();
    long readsAtKill = reads.get();
    await().atMost(Duration.ofSeconds(30)).until(() -> running.get("pg-replica-1") != killed);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(query(primaryServer(),
        "SELECT state FROM pg_stat_replication WHERE application_name = 'pg_replica_1'")).isEqualTo("streaming"));
    reading.set(false);
    for (var reader : readers) {
      reader.get(30, TimeUnit.SECONDS);
    }

    System.out.printf("replica kill: %d reads before the kill, %d after, %d failed%n", readsAtKill,
        reads.get() - readsAtKill, failedReads.size());
    assertThat(failedReads).isEmpty();
    assertThat(reads.get()).isGreaterThan(readsAtKill);
    assertThat(failover.history()).isEmpty();
    assertThat(failover.primaryName()).isEqualTo("pg-primary");
  }
}
