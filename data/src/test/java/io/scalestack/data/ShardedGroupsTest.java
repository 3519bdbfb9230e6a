package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.testing.TestEngines;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A catalog and three shards, each a database of the shared PostgreSQL, through replication groups. */
class ShardedGroupsTest {

  private final PostgresServer postgres = TestEngines.postgres();
  private final String prefix = "t" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
  private final Map<String, ReplicationGroup> groups = new LinkedHashMap<>();
  private ReplicationGroup catalogGroup;

  private ReplicationGroup group(String database) throws Exception {
    try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
    }
    String url = postgres.jdbcUrl().substring(0, postgres.jdbcUrl().lastIndexOf('/') + 1) + database;
    return ReplicationGroup.builder().name(database).topology(Topology.of(DataNode.of(database, url), List.of()))
        .user(postgres.user()).password(postgres.password()).poolSize(2).build();
  }

  @BeforeEach
  void createDatabases() throws Exception {
    catalogGroup = group(prefix + "_catalog");
    for (String shard : List.of("shard-a", "shard-b", "shard-c")) {
      ReplicationGroup group = group(prefix + "_" + shard.replace('-', '_'));
      group.write(ConsistencyToken.create(), connection -> {
        try (Statement statement = connection.createStatement()) {
          statement.execute("CREATE TABLE users (id bigint PRIMARY KEY, username text NOT NULL, created_at bigint NOT NULL)");
        }
        return null;
      });
      groups.put(shard, group);
    }
  }

  @AfterEach
  void closeGroups() {
    groups.values().forEach(ReplicationGroup::close);
    catalogGroup.close();
  }

  @Test
  void theMapIsVersionedAndDurableAndOnlyTheNextVersionCanBePublished() throws Exception {
    ShardCatalog catalog = ShardCatalog.open(catalogGroup);
    assertThat(catalog.current()).isEmpty();

    ShardMap first = ShardMap.first(ShardFunction.CONSISTENT, List.of("shard-a", "shard-b"));
    catalog.publish(first);
    assertThatThrownBy(() -> catalog.publish(first))
        .isInstanceOf(ShardCatalog.StaleShardMapException.class)
        .hasMessage("shard map version: 1 (expected: 2, one more than the newest stored)");
    catalog.publish(first.reshardedTo(List.of("shard-a", "shard-b", "shard-c")));

    ShardCatalog reopened = ShardCatalog.open(catalogGroup); // what a restarted web server does
    assertThat(reopened.current()).contains(new ShardMap(2, ShardFunction.CONSISTENT, List.of("shard-a", "shard-b", "shard-c")));
    assertThat(reopened.history()).extracting(ShardMap::version).containsExactly(1L, 2L);
  }

  @Test
  void aUsersRowsGoToTheirShardAndTheirNameToTheDirectory() throws Exception {
    ShardCatalog catalog = ShardCatalog.open(catalogGroup);
    ShardMap map = ShardMap.first(ShardFunction.MODULO, List.of("shard-a", "shard-b", "shard-c"));
    catalog.publish(map);
    ShardedGroups sharded = new ShardedGroups(catalog.current().orElseThrow(), groups);
    SnowflakeIds ids = SnowflakeIds.builder().workerId(1).build();
    ConsistencyToken token = ConsistencyToken.create();
    List<Long> created = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      long id = ids.next();
      String username = "user" + i;
      assertThat(catalog.register(token, username, id)).isTrue();
      sharded.group(id).write(token, connection -> {
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO users VALUES (?, ?, ?)")) {
          insert.setLong(1, id);
          insert.setString(2, username);
          insert.setLong(3, id);
          return insert.executeUpdate();
        }
      });
      created.add(id);
    }
    assertThat(catalog.register(token, "user7", 12345)).as("a taken name").isFalse();

    // each row is on exactly the shard the map names, and the directory leads back to it
    for (int i = 0; i < 30; i++) {
      long id = created.get(i);
      OptionalLong found = catalog.lookup(token, "user" + i, true);
      assertThat(found).hasValue(id);
      for (Map.Entry<String, ReplicationGroup> shard : groups.entrySet()) {
        long rows = shard.getValue().read(token, connection -> count(connection, id));
        assertThat(rows).as("user %d on %s", i, shard.getKey()).isEqualTo(shard.getKey().equals(map.groupOf(id)) ? 1 : 0);
      }
    }
    assertThat(catalog.lookup(token, "nobody", false)).isEmpty();
    catalog.unregister(token, "user7", created.get(7));
    assertThat(catalog.lookup(token, "user7", true)).isEmpty();

    // the newest 5 users over all shards: one query per shard, merged
    List<Long> newest = sharded.scatter(connection -> {
      List<Long> found = new ArrayList<>();
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT id FROM users ORDER BY created_at DESC LIMIT 5")) {
        while (rows.next()) {
          found.add(rows.getLong(1));
        }
      }
      return found;
    }, Comparator.<Long>reverseOrder(), 5);
    assertThat(newest).containsExactlyElementsOf(created.reversed().subList(0, 5));
  }

  @Test
  void aMapNamingAnUnknownGroupOrAnOlderVersionIsRefused() {
    ShardedGroups sharded = new ShardedGroups(ShardMap.first(ShardFunction.MODULO, List.of("shard-a")), groups);
    assertThatThrownBy(() -> sharded.updateMap(new ShardMap(2, ShardFunction.MODULO, List.of("shard-a", "shard-x"))))
        .hasMessage("map: shard 'shard-x' (expected: one of the groups [shard-a, shard-b, shard-c])");
    sharded.updateMap(new ShardMap(3, ShardFunction.MODULO, List.of("shard-a", "shard-b")));
    assertThatThrownBy(() -> sharded.updateMap(new ShardMap(2, ShardFunction.MODULO, List.of("shard-a"))))
        .hasMessage("map: version 2 (expected: >= the current 3)");
    assertThatThrownBy(() -> new ShardMap(1, ShardFunction.MODULO, List.of("a", "a")))
        .hasMessage("shards: [a, a] (expected: distinct group names)");
  }

  private static long count(Connection connection, long id) throws java.sql.SQLException {
    try (PreparedStatement select = connection.prepareStatement("SELECT count(*) FROM users WHERE id = ?")) {
      select.setLong(1, id);
      try (ResultSet rows = select.executeQuery()) {
        rows.next();
        return rows.getLong(1);
      }
    }
  }
}
