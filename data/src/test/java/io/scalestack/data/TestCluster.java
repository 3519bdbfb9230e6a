package io.scalestack.data;

import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.testing.TestEngines;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** A real PostgreSQL primary with streaming replicas for one test class, and SQL helpers. */
final class TestCluster implements AutoCloseable {

  final PostgresServer primary;
  final List<PostgresServer> replicas;

  private TestCluster(PostgresServer primary, List<PostgresServer> replicas) {
    this.primary = primary;
    this.replicas = replicas;
  }

  static TestCluster start(String name, int replicaCount, Map<String, String> replicaSettings) {
    PostgresServer primary = TestEngines.postgresBuilder(name + "-primary").build().start();
    List<PostgresServer> replicas = new ArrayList<>();
    for (int i = 0; i < replicaCount; i++) {
      PostgresServer.Builder builder = TestEngines.postgresBuilder(name + "-replica" + i)
          .replicaOf(primary).standbyName(name.replace('-', '_') + "_replica" + i);
      replicaSettings.forEach(builder::setting);
      replicas.add(builder.build().start());
    }
    return new TestCluster(primary, List.copyOf(replicas));
  }

  static DataNode node(String name, PostgresServer server) {
    return DataNode.of(name, server.jdbcUrl());
  }

  DataNode primaryNode() {
    return node("primary", primary);
  }

  DataNode replicaNode(int index) {
    return node("replica" + index, replicas.get(index));
  }

  Topology topology() {
    List<DataNode> nodes = new ArrayList<>();
    for (int i = 0; i < replicas.size(); i++) {
      nodes.add(replicaNode(i));
    }
    return Topology.of(primaryNode(), nodes);
  }

  ReplicationGroup.Builder group() {
    return ReplicationGroup.builder().topology(topology()).user(primary.user()).password(primary.password());
  }

  static void execute(PostgresServer server, String sql) throws SQLException {
    try (Connection connection = DriverManager.getConnection(server.jdbcUrl(), server.user(), server.password());
        Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }

  static String query(PostgresServer server, String sql) throws SQLException {
    try (Connection connection = DriverManager.getConnection(server.jdbcUrl(), server.user(), server.password());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      return rows.next() ? rows.getString(1) : null;
    }
  }

  @Override
  public void close() {
    replicas.forEach(PostgresServer::close);
    primary.close();
  }
}
