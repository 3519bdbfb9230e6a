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
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real PostgreSQL primary with streaming replicas for one test class, started before its first
 * test and stopped after its last ({@code @RegisterExtension static final TestCluster cluster}),
 * and SQL helpers.
 */
final class TestCluster implements BeforeAllCallback, AfterAllCallback {

  private final String name;
  private final int replicaCount;
  private final Map<String, String> replicaSettings;
  PostgresServer primary;
  List<PostgresServer> replicas = List.of();

  TestCluster(String name, int replicaCount, Map<String, String> replicaSettings) {
    this.name = name;
    this.replicaCount = replicaCount;
    this.replicaSettings = replicaSettings;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    primary = TestEngines.postgresBuilder(name + "-primary").build().start();
    List<PostgresServer> started = new ArrayList<>();
    for (int i = 0; i < replicaCount; i++) {
      PostgresServer.Builder builder = TestEngines.postgresBuilder(name + "-replica" + i)
          .replicaOf(primary).standbyName(name + "_replica" + i);
      replicaSettings.forEach(builder::setting);
      started.add(builder.build().start());
      replicas = List.copyOf(started);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    replicas.forEach(PostgresServer::close);
    if (primary != null) {
      primary.close();
    }
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
}
