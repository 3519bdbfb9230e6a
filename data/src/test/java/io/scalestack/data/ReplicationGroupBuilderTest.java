package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicationGroupBuilderTest {

  private static final DataNode PRIMARY = DataNode.of("primary", "jdbc:postgresql://127.0.0.1:5432/app");

  @Test
  void rejectsNegativeOrTooSmallDurations() {
    assertThatThrownBy(() -> ReplicationGroup.builder().maxLagMillis(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxLagMillis: -1 (expected: >= 0)");
    assertThatThrownBy(() -> ReplicationGroup.builder().pollIntervalMillis(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pollIntervalMillis: 0 (expected: >= 1)");
    assertThatThrownBy(() -> ReplicationGroup.builder().connectionTimeoutMillis(100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectionTimeoutMillis: 100 (expected: >= 250)");
    assertThatThrownBy(() -> ReplicationGroup.builder().catchUpWaitMillis(-5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("catchUpWaitMillis: -5 (expected: >= 0)");
    assertThatThrownBy(() -> ReplicationGroup.builder().poolSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("poolSize: 0 (expected: >= 1)");
  }

  @Test
  void requiresTopologyAndCredentials() {
    assertThatThrownBy(() -> ReplicationGroup.builder().user("u").password("p").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("topology: not set (expected: a primary and its replicas)");
    assertThatThrownBy(() -> ReplicationGroup.builder().topology(Topology.of(PRIMARY, List.of())).password("p").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("user: not set (expected: the database user)");
  }

  @Test
  void rejectsTopologiesWithRepeatedNodesAndNodesThatAreNotPostgres() {
    assertThatThrownBy(() -> Topology.of(PRIMARY, List.of(DataNode.of("replica", PRIMARY.jdbcUrl()))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("replicas: [replica(jdbc:postgresql://127.0.0.1:5432/app)] (expected: names and URLs distinct");
    assertThatThrownBy(() -> DataNode.of("mysql", "jdbc:mysql://127.0.0.1/app"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("jdbcUrl: 'jdbc:mysql://127.0.0.1/app' (expected: jdbc:postgresql://host:port/database)");
  }
}
