package io.scalestack.engines;

import static io.scalestack.engines.EngineTestSupport.engineCache;
import static io.scalestack.engines.EngineTestSupport.newDirectory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class PostgresReplicationTest {

  private static PostgresServer.Builder builder(String name) {
    return PostgresServer.builder().port(0).dataDirectory(newDirectory(name)).engineCache(engineCache());
  }

  private static Connection connect(PostgresServer server) throws SQLException {
    return DriverManager.getConnection(server.jdbcUrl(), server.user(), server.password());
  }

  private static String query(PostgresServer server, String sql) throws SQLException {
    try (Connection connection = connect(server); Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      return rows.next() ? rows.getString(1) : null;
    }
  }

  private static void execute(PostgresServer server, String sql) throws SQLException {
    try (Connection connection = connect(server); Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  @Test
  @SuppressWarnings("try") // closing inside try-with-resources is what is tested
  void aReplicaMadeByBaseBackupStreamsWhatThePrimaryCommitsAndCatchesUpAfterARestart() throws Exception {
    try (PostgresServer primary = builder("pg-primary").database("photos").build().start()) {
      execute(primary, "CREATE TABLE photo (id int PRIMARY KEY)");
      execute(primary, "INSERT INTO photo VALUES (1)");
      try (PostgresServer replica = builder("pg-replica").replicaOf(primary).standbyName("replica_one")
          .setting("recovery_min_apply_delay", "10ms").build().start()) {
        assertThat(replica.jdbcUrl()).endsWith("/photos");
        assertThat(query(replica, "SELECT pg_is_in_recovery()")).isEqualTo("t");
        assertThat(query(replica, "SHOW recovery_min_apply_delay")).isEqualTo("10ms");
        assertThat(query(replica, "SELECT count(*) FROM photo")).isEqualTo("1");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(query(primary,
            "SELECT state FROM pg_stat_replication WHERE application_name = 'replica_one'")).isEqualTo("streaming"));

        execute(primary, "INSERT INTO photo VALUES (2)");
        await().atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> assertThat(query(replica, "SELECT count(*) FROM photo")).isEqualTo("2"));
        assertThatThrownBy(() -> execute(replica, "INSERT INTO photo VALUES (3)"))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("read-only transaction");

        replica.close();
        execute(primary, "INSERT INTO photo VALUES (3)"); // kept for the replica by its slot
        assertThat(query(primary, "SELECT active FROM pg_replication_slots WHERE slot_name = 'replica_one'"))
            .isEqualTo("f");
        replica.start();
        await().atMost(Duration.ofSeconds(10))
            .untilAsserted(() -> assertThat(query(replica, "SELECT count(*) FROM photo")).isEqualTo("3"));

        replica.close();
        replica.dropReplicationSlot();
        assertThat(query(primary, "SELECT count(*) FROM pg_replication_slots")).isEqualTo("0");
      }
    }
  }

  @Test
  @SuppressWarnings("try") // closing inside try-with-resources is what is tested
  void aPromotedReplicaTakesWritesAndStaysAPrimaryAfterARestart() throws Exception {
    try (PostgresServer primary = builder("pg-old-primary").build().start();
        PostgresServer replica = builder("pg-promoted").replicaOf(primary).build().start()) {
      assertThatThrownBy(primary::promote)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageEndingWith("(expected: a running replica)");
      primary.kill();

      replica.promote();

      assertThat(query(replica, "SELECT pg_is_in_recovery()")).isEqualTo("f");
      execute(replica, "CREATE TABLE after_failover AS SELECT 1 AS id");
      replica.close();
      replica.start();
      assertThat(query(replica, "SELECT pg_is_in_recovery()")).isEqualTo("f");
      assertThat(query(replica, "SELECT count(*) FROM after_failover")).isEqualTo("1");
    }
  }

  @Test
  void afterAPromotionTheOtherReplicaFollowsTheNewPrimaryAndTheFencedOldPrimaryComesBackAsAReplica() throws Exception {
    try (PostgresServer primary = builder("pg-fenced").build().start();
        PostgresServer promoted = builder("pg-next").replicaOf(primary).standbyName("next")
            .setting("wal_retrieve_retry_interval", "100ms").build().start();
        PostgresServer follower = builder("pg-follower").replicaOf(primary).standbyName("follower")
            .setting("wal_retrieve_retry_interval", "100ms").build().start()) {
      execute(primary, "CREATE TABLE photo (id int PRIMARY KEY)");
      execute(primary, "INSERT INTO photo VALUES (1)");
      String written = query(primary, "SELECT pg_current_wal_flush_lsn()");
      for (PostgresServer replica : java.util.List.of(promoted, follower)) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(query(replica,
            "SELECT pg_last_wal_replay_lsn() >= '" + written + "'::pg_lsn")).isEqualTo("t"));
      }
      primary.kill();

      promoted.promote();
      follower.follow(promoted);
      execute(promoted, "INSERT INTO photo VALUES (2)");

      assertThat(promoted.replicaOf()).isNull();
      assertThat(follower.replicaOf()).isSameAs(promoted);
      await().atMost(Duration.ofSeconds(10))
          .untilAsserted(() -> assertThat(query(follower, "SELECT count(*) FROM photo")).isEqualTo("2"));
      assertThat(query(promoted, "SELECT state FROM pg_stat_replication WHERE application_name = 'follower'"))
          .isEqualTo("streaming");

      assertThat(PostgresServer.holdsPrimaryCluster(primary.dataDirectory())).isTrue();
      assertThat(primary.fenceCluster()).isTrue();
      assertThat(PostgresServer.holdsPrimaryCluster(primary.dataDirectory())).isFalse();
      try (PostgresServer rebuilt = PostgresServer.builder().port(primary.address().getPort())
          .dataDirectory(primary.dataDirectory()).engineCache(engineCache())
          .replicaOf(promoted).standbyName("old_primary").build().start()) {
        assertThat(query(rebuilt, "SELECT pg_is_in_recovery()")).isEqualTo("t");
        assertThat(query(rebuilt, "SELECT count(*) FROM photo")).isEqualTo("2");
        assertThatThrownBy(() -> execute(rebuilt, "INSERT INTO photo VALUES (3)"))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("read-only transaction");
      }
      assertThat(java.nio.file.Files.isDirectory(primary.dataDirectory().resolve("data.fenced"))).isTrue();
    }
  }

  @Test
  void alterSystemChangesASettingAtRuntime() throws Exception {
    try (PostgresServer primary = builder("pg-alter").build().start()) {
      primary.alterSystem("synchronous_standby_names", "ANY 1 (a, b)");

      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThat(query(primary, "SHOW synchronous_standby_names")).isEqualTo("ANY 1 (a, b)"));
      assertThatThrownBy(() -> primary.alterSystem("no_such_setting", "1"))
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("cannot set no_such_setting on jdbc:postgresql://");
    }
  }

  @Test
  void aSynchronousCommitWaitsUntilANamedStandbyHasItsWal() throws Exception {
    try (PostgresServer primary = builder("pg-sync-primary").synchronousStandbyNames("ANY 1 (sync_standby)")
        .build().start()) {
      CompletableFuture<Void> create = CompletableFuture.runAsync(() -> {
        try {
          execute(primary, "CREATE TABLE photo AS SELECT 1 AS id");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });

      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(query(primary,
          "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'")).isEqualTo("1"));
      assertThat(create).isNotDone();

      try (PostgresServer standby = builder("pg-sync-standby").replicaOf(primary).standbyName("sync_standby")
          .build().start()) {
        create.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(query(primary, "SELECT sync_state FROM pg_stat_replication")).isEqualTo("quorum");
        // The table itself may stay invisible on the standby for a while: its creator was still in the
        // primary's proc array (waiting for us) when the backup's checkpoint logged the running xacts.
        // (the flush position: the insert position may point past the header of a page no record is on yet)
        String committed = query(primary, "SELECT pg_current_wal_flush_lsn()");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(query(standby,
            "SELECT pg_last_wal_replay_lsn() >= '" + committed + "'::pg_lsn")).isEqualTo("t"));
      }
    }
  }

  @Test
  void rejectsReplicationSettingsThatCannotWork() {
    assertThatThrownBy(() -> PostgresServer.builder().setting("Recovery Delay", "1s"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("setting: 'Recovery Delay' (expected: a lower-case PostgreSQL setting name)");
    assertThatThrownBy(() -> PostgresServer.builder().setting("work_mem", "1MB\nfsync=off"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("setting work_mem: '1MB\\nfsync=off' (expected: a value without line breaks or NUL)");
    assertThatThrownBy(() -> PostgresServer.builder().standbyName("Replica"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("standbyName: 'Replica' (expected: a lower-case letter or _");
    assertThatThrownBy(() -> PostgresServer.builder().dataDirectory(newDirectory("pg-no-primary"))
        .standbyName("lonely").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("standbyName: lonely (expected: set only with replicaOf)");
  }

  @Test
  void aReplicaOfAPrimaryThatIsNotRunningFailsClearly() {
    PostgresServer primary = builder("pg-stopped-primary").build();
    PostgresServer replica = builder("pg-orphan").replicaOf(primary).build();

    assertThatThrownBy(replica::start)
        .isInstanceOf(EngineException.class)
        .hasMessageStartingWith("replicaOf: PostgresServer{")
        .hasMessageEndingWith("(expected: a primary started by this JVM, to copy)");
  }
}
