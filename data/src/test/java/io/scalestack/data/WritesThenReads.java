package io.scalestack.data;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;

/**
 * Write-then-read pairs through a group: each of {@code users} users increments its own counter
 * (a write with its token) and reads it back at once (a read with the same token), noting which
 * server port served the read and whether it saw its own write.
 */
final class WritesThenReads {

  final Map<Integer, Integer> readsByPort = new TreeMap<>();
  int stale;
  int pairs;

  static void createTable(TestCluster cluster, String table, int users) throws SQLException {
    TestCluster.execute(cluster.primary, "CREATE TABLE " + table + " (user_id int PRIMARY KEY, value bigint NOT NULL)");
    TestCluster.execute(cluster.primary, "INSERT INTO " + table + " SELECT g, 0 FROM generate_series(0, " + (users - 1) + ") g");
  }

  static WritesThenReads run(ReplicationGroup group, String table, int users, int pairs) throws SQLException {
    WritesThenReads result = new WritesThenReads();
    ConsistencyToken[] tokens = new ConsistencyToken[users];
    for (int u = 0; u < users; u++) {
      tokens[u] = ConsistencyToken.create();
    }
    for (int i = 0; i < pairs; i++) {
      int user = i % users;
      long written = group.write(tokens[user], connection -> {
        try (PreparedStatement update = connection.prepareStatement(
            "UPDATE " + table + " SET value = value + 1 WHERE user_id = ? RETURNING value")) {
          update.setInt(1, user);
          try (ResultSet rows = update.executeQuery()) {
            rows.next();
            return rows.getLong(1);
          }
        }
      });
      long[] read = group.read(tokens[user], connection -> {
        try (PreparedStatement select = connection.prepareStatement(
            "SELECT value, inet_server_port() FROM " + table + " WHERE user_id = ?")) {
          select.setInt(1, user);
          try (ResultSet rows = select.executeQuery()) {
            rows.next();
            return new long[] {rows.getLong(1), rows.getLong(2)};
          }
        }
      });
      if (read[0] != written) {
        result.stale++;
      }
      result.readsByPort.merge((int) read[1], 1, Integer::sum);
      result.pairs++;
    }
    return result;
  }

  int readsOn(int port) {
    return readsByPort.getOrDefault(port, 0);
  }
}
