package io.scalestack.data;

import static io.scalestack.data.TestCluster.execute;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scalestack.engines.PostgresServer;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** One primary, two streaming replicas without delay, shared by the tests; each test leaves them healthy. */
class ReplicationGroupTest {

  @RegisterExtension
  static final TestCluster cluster = new TestCluster("group", 2, Map.of());

  @BeforeEach
  void replicasAreRunningAndReplaying() throws SQLException {
    for (PostgresServer replica : cluster.replicas) {
      if (!replica.isRunning()) {
        replica.start();
      }
      execute(replica, "SELECT pg_wal_replay_resume()");
    }
  }

  private static void awaitAllInRotation(ReplicationGroup group) {
    await().atMost(Duration.ofSeconds(10))
        .until(() -> group.replicaStatus().stream().allMatch(ReplicaStatus::inRotation));
  }

  private static ReplicaStatus status(ReplicationGroup group, int replica) {
    return group.replicaStatus().get(replica);
  }

  private static int port(PostgresServer server) {
    return server.address().getPort();
  }

  private static int servingPort(ReplicationGroup group) throws SQLException {
    return group.read(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT inet_server_port()")) {
        rows.next();
        return rows.getInt(1);
      }
    });
  }

  private static void touch(ReplicationGroup group, String table) throws SQLException {
    group.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement()) {
        return statement.execute("CREATE TABLE IF NOT EXISTS " + table + " (at timestamptz); INSERT INTO " + table
            + " VALUES (now())");
      }
    });
  }

  @Test
  void servesAtLeastNinetyPercentOfReadsFromReplicasWithoutDelay() throws SQLException {
    WritesThenReads.createTable(cluster, "counter_nodelay", 10);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (ReplicationGroup group = cluster.group().meterRegistry(registry).build()) {
      awaitAllInRotation(group);

      long started = System.nanoTime();
      WritesThenReads result = WritesThenReads.run(group, "counter_nodelay", 10, 1000);
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

      int onReplicas = result.readsOn(port(cluster.replicas.get(0))) + result.readsOn(port(cluster.replicas.get(1)));
      Timer catchUp = registry.get("scalestack.data.read.catch.up").timer();
      System.out.printf("FIGURE no delay: %d pairs in %d ms, %d stale, reads by port %s (replicas %d%%);"
              + " %d reads first asked their replica for its replay position (not known to have passed the token): mean %.2f ms, max %.2f ms%n",
          result.pairs, elapsedMillis, result.stale, result.readsByPort, onReplicas * 100 / result.pairs,
          catchUp.count(), catchUp.mean(TimeUnit.MILLISECONDS), catchUp.max(TimeUnit.MILLISECONDS));
      assertThat(result.stale).isZero();
      assertThat(onReplicas).isGreaterThanOrEqualTo(900);
    }
  }

  @Test
  void takesALaggingReplicaOutWithinOneSecondOfPassingTheBoundAndBackWhenItCatchesUp() throws SQLException {
    long maxLagMillis = 300;
    try (ReplicationGroup group = cluster.group().maxLagMillis(maxLagMillis).build()) {
      awaitAllInRotation(group);
      execute(cluster.replicas.get(0), "SELECT pg_wal_replay_pause()");

      long writeStarted = System.nanoTime();
      touch(group, "lag_probe");
      await().pollInterval(Duration.ofMillis(5)).atMost(Duration.ofSeconds(5))
          .until(() -> !status(group, 0).inRotation());
      long outAfterBoundMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - writeStarted) - maxLagMillis;

      System.out.printf("FIGURE lag: replica out %d ms after the write that made it lag (maxLagMillis %d): %s%n",
          outAfterBoundMillis + maxLagMillis, maxLagMillis, status(group, 0).reason());
      assertThat(outAfterBoundMillis).isLessThanOrEqualTo(1000);
      assertThat(status(group, 0).reason()).startsWith("lag ");
      assertThat(status(group, 1).inRotation()).isTrue();
      for (int i = 0; i < 20; i++) {
        assertThat(servingPort(group)).isNotEqualTo(port(cluster.replicas.get(0)));
      }

      execute(cluster.replicas.get(0), "SELECT pg_wal_replay_resume()");
      await().atMost(Duration.ofSeconds(5)).until(() -> status(group, 0).inRotation());
      assertThat(status(group, 0).lagMillis()).isLessThanOrEqualTo(maxLagMillis / 2);
    }
  }

  @Test
  void readsFallBackToThePrimaryWhenEveryReplicaIsOut() throws SQLException {
    try (ReplicationGroup group = cluster.group().maxLagMillis(200).build()) {
      awaitAllInRotation(group);
      for (PostgresServer replica : cluster.replicas) {
        execute(replica, "SELECT pg_wal_replay_pause()");
      }
      touch(group, "fallback_probe");
      await().atMost(Duration.ofSeconds(5))
          .until(() -> group.replicaStatus().stream().noneMatch(ReplicaStatus::inRotation));

      for (int i = 0; i < 20; i++) {
        assertThat(servingPort(group)).isEqualTo(port(cluster.primary));
      }

      for (PostgresServer replica : cluster.replicas) {
        execute(replica, "SELECT pg_wal_replay_resume()");
      }
      awaitAllInRotation(group);
      assertThat(servingPort(group)).isNotEqualTo(port(cluster.primary));
    }
  }

  /** Reads without a token from four threads until stopped, noting failures and which port served. */
  private static final class ReadLoad implements AutoCloseable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicInteger reads = new AtomicInteger();
    final ConcurrentLinkedQueue<Long> failuresAtNanos = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<SQLException> failures = new ConcurrentLinkedQueue<>();
    final Map<Integer, Long> lastReadAtByPort = new ConcurrentHashMap<>();
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<CompletableFuture<Void>> readers;

    ReadLoad(ReplicationGroup group) {
      readers = java.util.stream.IntStream.range(0, 4).mapToObj(i -> CompletableFuture.runAsync(() -> {
        while (!stop.get()) {
          try {
            int port = servingPort(group);
            lastReadAtByPort.put(port, System.nanoTime());
            reads.incrementAndGet();
          } catch (SQLException e) {
            failuresAtNanos.add(System.nanoTime());
            failures.add(e);
          }
        }
      }, threads)).toList();
    }

    /** Lets the readers run until {@code reads} more reads and {@code millis} have passed since {@code sinceNanos}. */
    void runUntil(int moreReads, long sinceNanos, long millis) {
      int start = reads.get();
      await().atMost(Duration.ofSeconds(15)).until(() -> reads.get() - start >= moreReads
          && System.nanoTime() - sinceNanos > TimeUnit.MILLISECONDS.toNanos(millis));
    }

    String firstFailure() {
      return failures.stream().findFirst().map(Throwable::getMessage).orElse("-");
    }

    @Override
    public void close() throws ExecutionException, TimeoutException {
      stop.set(true);
      try {
        CompletableFuture.allOf(readers.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while stopping the readers", e);
      }
      threads.close();
    }
  }

  @Test
  void readsKeepSucceedingWhenAReplicaIsKilled() throws Exception {
    PostgresServer victim = cluster.replicas.get(1);
    int victimPort = port(victim);
    try (ReplicationGroup group = cluster.group().build()) {
      awaitAllInRotation(group);
      long killedAt;
      int readsAfterKill;
      ReadLoad load = new ReadLoad(group);
      try (load) {
        await().atMost(Duration.ofSeconds(10)).until(() -> load.reads.get() >= 200 && load.lastReadAtByPort.containsKey(victimPort));
        killedAt = System.nanoTime();
        int readsBeforeKill = load.reads.get();
        victim.kill();
        load.runUntil(500, killedAt, 1500);
        readsAfterKill = load.reads.get() - readsBeforeKill;
      }

      long lastVictimReadMillis = TimeUnit.NANOSECONDS.toMillis(load.lastReadAtByPort.get(victimPort) - killedAt);
      System.out.printf("FIGURE kill: %d reads after kill -9, %d failed (%s), victim out of rotation: %s; "
              + "last read served by the victim %d ms after kill() was called (kill() returns once the processes are gone)%n",
          readsAfterKill, load.failures.size(), load.firstFailure(), status(group, 1).reason(), lastVictimReadMillis);
      assertThat(load.failuresAtNanos).allSatisfy(at -> assertThat(at - killedAt)
          .isLessThanOrEqualTo(TimeUnit.SECONDS.toNanos(1)));
      assertThat(status(group, 1).inRotation()).isFalse();

      victim.start(); // crash recovery over its own data directory, as a standby again
      await().atMost(Duration.ofSeconds(10)).until(() -> status(group, 1).inRotation());
      await().atMost(Duration.ofSeconds(10)).until(() -> servingPort(group) == victimPort);
    }
  }

  private static void signalAll(PostgresServer server, String signal) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("kill", "-" + signal, Long.toString(server.pid())));
    ProcessHandle.of(server.pid()).orElseThrow().descendants().forEach(p -> command.add(Long.toString(p.pid())));
    assertThat(new ProcessBuilder(command).inheritIO().start().waitFor()).isZero();
  }

  @Test
  void readsKeepSucceedingWhenAReplicaHangs() throws Exception {
    PostgresServer victim = cluster.replicas.get(0);
    int victimPort = port(victim);
    try (ReplicationGroup group = cluster.group().replicaReadTimeoutMillis(300).build()) {
      awaitAllInRotation(group);
      long stoppedAt;
      ReadLoad load = new ReadLoad(group);
      try (load) {
        await().atMost(Duration.ofSeconds(10)).until(() -> load.reads.get() >= 200 && load.lastReadAtByPort.containsKey(victimPort));
        stoppedAt = System.nanoTime();
        signalAll(victim, "STOP");
        try {
          load.runUntil(500, stoppedAt, 1500);
          await().atMost(Duration.ofSeconds(5)).until(() -> !status(group, 0).inRotation());
        } finally {
          signalAll(victim, "CONT");
        }
      }

      System.out.printf("FIGURE hang: %d reads while a replica was stopped (SIGSTOP), %d failed (%s), victim: %s%n",
          load.reads.get(), load.failures.size(), load.firstFailure(), status(group, 0).reason());
      assertThat(load.failuresAtNanos).allSatisfy(at -> assertThat(at - stoppedAt)
          .isLessThanOrEqualTo(TimeUnit.SECONDS.toNanos(1)));
      await().atMost(Duration.ofSeconds(10)).until(() -> status(group, 0).inRotation());
    }
  }

  @Test
  void writesDuringATopologySwitchWaitForTheNewTopology() throws Exception {
    try (ReplicationGroup group = cluster.group().build()) {
      awaitAllInRotation(group);
      group.suspendWrites();
      CompletableFuture<Void> write = CompletableFuture.runAsync(() -> {
        try {
          touch(group, "switch_probe");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      await().atMost(Duration.ofSeconds(5)).until(() -> group.waitingForPrimary() == 1);
      assertThat(write).isNotDone();

      group.updateTopology(Topology.of(cluster.primaryNode(), List.of(cluster.replicaNode(0))));

      write.get(5, TimeUnit.SECONDS);
      assertThat(group.topology().replicas()).containsExactly(cluster.replicaNode(0));
      await().atMost(Duration.ofSeconds(5)).until(() -> status(group, 0).inRotation());
      for (int i = 0; i < 20; i++) {
        assertThat(servingPort(group)).isNotEqualTo(port(cluster.replicas.get(1)));
      }
    }
  }

  @Test
  void aWriteFailsAfterTheSwitchTimeoutWhenNoTopologyComes() {
    try (ReplicationGroup group = cluster.group().switchTimeoutMillis(200).build()) {
      group.suspendWrites();

      assertThatThrownBy(() -> touch(group, "switch_timeout_probe"))
          .isInstanceOf(SQLTransientConnectionException.class)
          .hasMessage("group main: no primary within switchTimeoutMillis 200 (writes are suspended for a topology switch)");
    }
  }
}
