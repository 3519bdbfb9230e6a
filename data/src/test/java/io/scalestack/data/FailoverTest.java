package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A primary with one replica; the test kills the primary, so the cluster is its own. */
class FailoverTest {

  @RegisterExtension
  static final TestCluster cluster = new TestCluster("failover", 1, Map.of());

  private static long insert(ReplicationGroup group, ConsistencyToken token, String name) throws SQLException {
    return group.write(token, connection -> {
      try (PreparedStatement insert = connection.prepareStatement("INSERT INTO account (name) VALUES (?) RETURNING id")) {
        insert.setString(1, name);
        try (ResultSet rows = insert.executeQuery()) {
          rows.next();
          return rows.getLong(1);
        }
      }
    });
  }

  @Test
  void aWriteDuringAFailoverWaitsAndCommitsOnThePromotedReplica() throws Exception {
    TestCluster.execute(cluster.primary, "CREATE TABLE account (id bigserial PRIMARY KEY, name text NOT NULL)");
    try (ReplicationGroup group = cluster.group().switchTimeoutMillis(20_000).build()) {
      ConsistencyToken token = ConsistencyToken.create();
      insert(group, token, "before");
      await().atMost(Duration.ofSeconds(10))
          .until(() -> group.replicaStatus().get(0).replayLsn().isAtLeast(token.lsn()));

      cluster.primary.kill();
      CompletableFuture<Long> during = CompletableFuture.supplyAsync(() -> {
        try {
          return insert(group, token, "during");
        } catch (SQLException e) {
          throw new IllegalStateException(e);
        }
      });
      await().atMost(Duration.ofSeconds(10)).until(() -> group.waitingForPrimary() == 1);
      assertThat(during).isNotDone();

      cluster.replicas.get(0).promote(); // what a failover orchestrator does
      // a promoted replica takes writes now: it leaves read rotation at the next probe (pgjdbc's multi-host
      // mode would keep it as a "secondary" for up to 10 s)
      await().atMost(Duration.ofSeconds(2)).until(() -> !group.replicaStatus().get(0).inRotation());
      assertThat(group.replicaStatus().get(0).reason()).isEqualTo("not in recovery (promoted?)");
      group.updateTopology(Topology.of(cluster.replicaNode(0), List.of()));

      during.get(20, TimeUnit.SECONDS);
      List<String> names = group.read(token, connection -> {
        try (PreparedStatement select = connection.prepareStatement(
            "SELECT name FROM account WHERE NOT pg_is_in_recovery() ORDER BY id");
            ResultSet rows = select.executeQuery()) {
          List<String> found = new java.util.ArrayList<>();
          while (rows.next()) {
            found.add(rows.getString(1));
          }
          return found;
        }
      });
      assertThat(names).containsExactly("before", "during");
    }
  }
}
