package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two replicas that apply every commit 2 s late ({@code recovery_min_apply_delay}). */
class ReadYourWritesWithDelayedReplicasTest {

  @RegisterExtension
  static final TestCluster cluster = new TestCluster("delayed", 2, Map.of("recovery_min_apply_delay", "2s"));

  @Test
  void readYourWritesHoldsForAThousandPairsWhileReplicasAreDelayed() throws SQLException {
    WritesThenReads.createTable(cluster, "counter_delayed", 10);
    for (var replica : cluster.replicas) { // 2 s later, for the tokenless read at the end
      await().atMost(Duration.ofSeconds(15)).until(() -> "t".equals(
          TestCluster.query(replica, "SELECT to_regclass('counter_delayed') IS NOT NULL")));
    }
    // A lag bound far above the delay keeps both replicas in rotation: only the token keeps reads fresh.
    try (ReplicationGroup group = cluster.group().maxLagMillis(60_000).build()) {
      await().atMost(Duration.ofSeconds(15))
          .until(() -> group.replicaStatus().stream().allMatch(ReplicaStatus::inRotation));

      long started = System.nanoTime();
      WritesThenReads result = WritesThenReads.run(group, "counter_delayed", 10, 1000);
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      // Without a token, a replica answers: 2 s behind, it has not seen the last writes yet.
      long latestOnAReplica = group.read(ConsistencyToken.create(), connection -> {
        try (PreparedStatement select = connection.prepareStatement(
            "SELECT CASE WHEN pg_is_in_recovery() THEN value ELSE -1 END FROM counter_delayed WHERE user_id = 9")) {
          try (ResultSet rows = select.executeQuery()) {
            rows.next();
            return rows.getLong(1);
          }
        }
      });

      int onPrimary = result.readsOn(cluster.primary.address().getPort());
      System.out.printf("FIGURE 2 s delay: %d pairs in %d ms, %d stale, reads by port %s (primary %d), "
              + "a tokenless replica read saw %d of user 9's 100 writes, replicas %s%n",
          result.pairs, elapsedMillis, result.stale, result.readsByPort, onPrimary, latestOnAReplica,
          group.replicaStatus());
      assertThat(result.stale).isZero();
      assertThat(onPrimary).isGreaterThanOrEqualTo(990);
      assertThat(group.replicaStatus()).allMatch(ReplicaStatus::inRotation);
      assertThat(latestOnAReplica).isBetween(0L, 99L);
    }
  }
}
