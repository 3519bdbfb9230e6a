package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.testing.TestEngines;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * Resharding 2 -> 4 shards (databases of one PostgreSQL) under continuous sign-ups and profile
 * writes, and with the coordinator killed after each step: afterwards every acknowledged user is
 * on exactly one shard, the one the new map names, with their last acknowledged profile.
 */
class ResharderTest {

  private final PostgresServer postgres = TestEngines.postgres();
  private final String prefix = "rs" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
  private final Map<String, ReplicationGroup> groups = new ConcurrentHashMap<>();
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor();
  private ReplicationGroup catalogGroup;
  private ShardCatalog catalog;
  private ShardedGroups sharded;

  @AfterEach
  void close() {
    refresher.shutdownNow();
    executor.shutdownNow();
    groups.values().forEach(ReplicationGroup::close);
    if (catalogGroup != null) {
      catalogGroup.close();
    }
  }

  private String url(String database) {
    return postgres.jdbcUrl().substring(0, postgres.jdbcUrl().lastIndexOf('/') + 1) + database;
  }

  private void createDatabase(String database) throws SQLException {
    try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
        Statement statement = connection.createStatement();
        ResultSet exists = statement.executeQuery("SELECT count(*) FROM pg_database WHERE datname = '" + database + "'")) {
      exists.next();
      if (exists.getLong(1) == 0) {
        statement.execute("CREATE DATABASE " + database);
      }
    }
  }

  private ReplicationGroup open(String database) {
    return ReplicationGroup.builder().name(database).topology(Topology.of(DataNode.of(database, url(database)), List.of()))
        .user(postgres.user()).password(postgres.password()).poolSize(4).build();
  }

  /** The provisioner: a shard's database with its schema, and its group. */
  private ReplicationGroup shard(String name) {
    return groups.computeIfAbsent(name, database -> {
      try {
        createDatabase(database);
        ReplicationGroup group = open(database);
        group.write(ConsistencyToken.create(), connection -> {
          try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS users (id bigint PRIMARY KEY, username text NOT NULL,"
                + " display_name text NOT NULL, version int NOT NULL)");
          }
          return null;
        });
        return group;
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  private List<String> names(int count) {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      names.add(prefix + "_s" + i);
    }
    return names;
  }

  private void setUp() throws SQLException {
    createDatabase(prefix + "_catalog");
    catalogGroup = open(prefix + "_catalog");
    catalog = ShardCatalog.open(catalogGroup);
    ShardMap first = ShardMap.first(ShardFunction.CONSISTENT, names(2));
    catalog.publish(first);
    Map<String, ReplicationGroup> initial = new HashMap<>();
    for (String name : first.shards()) {
      initial.put(name, shard(name));
    }
    sharded = new ShardedGroups(first, initial, executor, catalog, this::shard, 10_000);
    // as web servers do: look for a newer map twice a second
    refresher.scheduleWithFixedDelay(() -> {
      try {
        sharded.refresh();
      } catch (SQLException | RuntimeException e) {
        // the next round tries again
      }
    }, 500, 500, TimeUnit.MILLISECONDS);
  }

  /** Writers: sign-ups and profile updates, their acknowledged state recorded. */
  private final class Load {
    final Map<Long, Integer> acknowledged = new ConcurrentHashMap<>(); // user -> last acknowledged version
    final Map<Long, Set<Integer>> unknown = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final List<Future<?>> loops = new ArrayList<>();
    final SnowflakeIds ids = SnowflakeIds.builder().workerId(9).build();

    Load start(int writers) {
      for (int w = 0; w < writers; w++) {
        loops.add(executor.submit(() -> {
          ThreadLocalRandom random = ThreadLocalRandom.current();
          List<Long> mine = new ArrayList<>();
          Map<Long, Integer> versions = new HashMap<>();
          while (running.get()) {
            boolean signUp = mine.isEmpty() || random.nextInt(3) == 0;
            long id = signUp ? ids.next() : mine.get(random.nextInt(mine.size()));
            int version = signUp ? 1 : versions.get(id) + 1;
            try {
              sharded.write(id, ConsistencyToken.create(), connection -> {
                String sql = signUp
                    ? "INSERT INTO users (id, username, display_name, version) VALUES (?, ?, ?, ?)"
                    : "UPDATE users SET display_name = ?, version = ? WHERE id = ?";
                try (PreparedStatement statement = connection.prepareStatement(sql)) {
                  if (signUp) {
                    statement.setLong(1, id);
                    statement.setString(2, "u" + id);
                    statement.setString(3, "v" + version);
                    statement.setInt(4, version);
                  } else {
                    statement.setString(1, "v" + version);
                    statement.setInt(2, version);
                    statement.setLong(3, id);
                  }
                  if (statement.executeUpdate() != 1) {
                    throw new SQLException("user " + id + " not found on " + connection.getCatalog(), "02000");
                  }
                }
                return null;
              });
              acknowledged.put(id, version);
              versions.put(id, version);
              if (signUp) {
                mine.add(id);
              }
            } catch (SQLException e) {
              failures.add(e.getSQLState() + " " + e.getMessage());
              unknown.computeIfAbsent(id, k -> ConcurrentHashMap.newKeySet()).add(version);
            }
          }
          return null;
        }));
      }
      return this;
    }

    void stop() throws Exception {
      running.set(false);
      for (Future<?> loop : loops) {
        loop.get(30, TimeUnit.SECONDS);
      }
    }
  }

  /** Every row of every shard: id -> (shard, version) pairs. */
  private Map<Long, List<String>> everyRow(List<String> shards) throws SQLException {
    Map<Long, List<String>> rows = new HashMap<>();
    for (String shard : shards) {
      try (Connection connection = DriverManager.getConnection(url(shard), postgres.user(), postgres.password());
          Statement statement = connection.createStatement();
          ResultSet found = statement.executeQuery("SELECT id, version FROM users")) {
        while (found.next()) {
          rows.computeIfAbsent(found.getLong(1), k -> new ArrayList<>()).add(shard + ":" + found.getInt(2));
        }
      }
    }
    return rows;
  }

  private void assertNothingLostOrDuplicated(Load load, ShardMap map) throws SQLException {
    Map<Long, List<String>> rows = everyRow(map.shards());
    int lost = 0;
    int duplicated = 0;
    int wrongShard = 0;
    int stale = 0;
    for (Map.Entry<Long, Integer> user : load.acknowledged.entrySet()) {
      List<String> copies = rows.get(user.getKey());
      if (copies == null) {
        lost++;
        continue;
      }
      if (copies.size() > 1) {
        duplicated++;
      }
      String[] copy = copies.get(0).split(":");
      if (!copy[0].equals(map.groupOf(user.getKey()))) {
        wrongShard++;
      }
      int version = Integer.parseInt(copy[1]);
      if (version != user.getValue() && !load.unknown.getOrDefault(user.getKey(), Set.of()).contains(version)) {
        stale++;
      }
    }
    assertThat(List.of(lost, duplicated, wrongShard, stale)).as("lost, duplicated, on the wrong shard, stale")
        .containsExactly(0, 0, 0, 0);
    assertThat(rows.keySet()).as("no row nobody wrote").allMatch(id -> load.acknowledged.containsKey(id)
        || load.unknown.containsKey(id));
  }

  @Test
  void reshardingTwoToFourUnderWritesLosesAndDuplicatesNothingWithASubSecondPause() throws Exception {
    setUp();
    Load load = new Load().start(4);
    Thread.sleep(1000);
    List<String> progress = new ArrayList<>();
    Resharder.Result result = Resharder.builder().catalog(catalog, catalogGroup).groups(this::shard)
        .table(new Resharder.MovedTable("users", "id", "id")).settle(Duration.ofSeconds(1))
        .progress(progress::add).build().run(names(4));
    Thread.sleep(500); // writes on the new map
    load.stop();

    System.out.printf("resharding 2 -> 4: %d rows moved, %d changes applied, write pause %d ms, %d users"
        + " acknowledged, %d writes failed %s%n", result.movedRows(), result.appliedChanges(),
        result.writePause().toMillis(), load.acknowledged.size(), load.failures.size(), progress);
    assertThat(catalog.current().orElseThrow().version()).isEqualTo(2);
    assertThat(sharded.map().version()).isEqualTo(2);
    assertThat(result.writePause()).isLessThan(Duration.ofSeconds(1));
    assertThat(load.failures).isEmpty(); // fenced writes waited for the new map and ran again
    assertNothingLostOrDuplicated(load, catalog.current().orElseThrow());

    // a writer still on map 1 cannot write a moved user on the old shard: fenced for good
    long moved = load.acknowledged.keySet().stream()
        .filter(id -> !result.from().groupOf(id).equals(result.to().groupOf(id))).findFirst().orElseThrow();
    assertThatThrownBy(() -> shard(result.from().groupOf(moved)).write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement()) {
        statement.execute("SELECT set_config('scalestack.map_version', '1', true)");
        return statement.executeUpdate("INSERT INTO users VALUES (" + moved + ", 'again', 'x', 1)");
      }
    })).isInstanceOf(SQLException.class).hasMessageContaining("shard fenced");
  }

  @ParameterizedTest
  @EnumSource(value = Resharder.Step.class, names = {"PLANNED", "CAPTURING", "COPIED", "CAUGHT_UP", "VERIFIED", "CUT_OVER"})
  void aCoordinatorKilledAfterAnyStepResumesWithoutLosingOrDuplicatingARow(Resharder.Step step) throws Exception {
    setUp();
    Load load = new Load().start(2);
    Thread.sleep(300);
    Resharder.Builder coordinator = Resharder.builder().catalog(catalog, catalogGroup).groups(this::shard)
        .table(new Resharder.MovedTable("users", "id", "id")).settle(Duration.ofMillis(700));
    assertThatThrownBy(() -> coordinator.crashAfter(step).build().run(names(4)))
        .isInstanceOf(Resharder.Crash.class);
    Thread.sleep(300); // writes go on while no coordinator runs
    Resharder.Result result = coordinator.crashAfter(null).build().run(names(4));
    Thread.sleep(300);
    load.stop();

    System.out.printf("coordinator killed after %s: resumed, write pause %d ms, %d users, %d writes failed%n", step,
        result.writePause().toMillis(), load.acknowledged.size(), load.failures.size());
    assertThat(catalog.current().orElseThrow().version()).isEqualTo(2);
    assertThat(load.failures).isEmpty();
    assertNothingLostOrDuplicated(load, catalog.current().orElseThrow());
  }
}
