package io.scalestack.app.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.ReplicationGroup;
import io.scalestack.data.ShardCatalog;
import io.scalestack.data.ShardFunction;
import io.scalestack.data.ShardMap;
import io.scalestack.data.ShardedGroups;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's sharded PostgreSQL on one cluster: the configured database is the catalog (shard
 * map and username directory, {@link ShardCatalog}) and shard 0; shards 1..K-1 are databases
 * {@code <database>_s<N>} of the same cluster, so that the one primary-with-replicas group, and its
 * failover, carry them all. The shard map comes from the catalog; only when the catalog has none
 * yet does this server publish the first one from its configuration (shard count and function),
 * so servers started later, or with another count, use the stored map (a resharding changes it).
 *
 * <p>Thread-safe once opened; close it to close every group.
 */
public final class ShardedDatabase implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ShardedDatabase.class);
  private static final Pattern JDBC_URL = Pattern.compile("^(jdbc:postgresql://[^/?]+/)([^?]*)(.*)$");
  /** SQLSTATE 42P04, duplicate_database. */
  private static final String DUPLICATE_DATABASE = "42P04";
  /** SQLSTATE 23505, unique_violation. */
  private static final String UNIQUE_VIOLATION = "23505";

  /** How often a server looks for a newer shard map (a resharding's cut-over). */
  static final Duration MAP_REFRESH = Duration.ofMillis(500);
  /** How long a write fenced by a cut-over waits for the new map. */
  static final Duration FENCE_WAIT = Duration.ofSeconds(5);

  private final ReplicationGroup catalogGroup;
  private final ShardCatalog catalog;
  private final ShardedGroups shards;
  private final String catalogDatabase;
  private final java.util.concurrent.ScheduledExecutorService refresher;
  private volatile String primaryJdbcUrl;
  private volatile List<String> replicaJdbcUrls;

  private ShardedDatabase(ReplicationGroup catalogGroup, ShardCatalog catalog, ShardedGroups shards,
      String catalogDatabase, java.util.concurrent.ScheduledExecutorService refresher) {
    this.catalogGroup = catalogGroup;
    this.catalog = catalog;
    this.shards = shards;
    this.catalogDatabase = catalogDatabase;
    this.refresher = refresher;
  }

  /**
   * Opens the catalog group at {@code jdbcUrl} (with {@code replicaJdbcUrls}), migrates it, reads
   * or publishes the shard map, creates and migrates missing shard databases and opens a group
   * for each.
   */
  public static ShardedDatabase open(String member, String jdbcUrl, List<String> replicaJdbcUrls, String user,
      String password, int poolSize, Duration maxLag, MeterRegistry registry, int shardCount, ShardFunction function)
      throws SQLException {
    String catalogDatabase = databaseOf(jdbcUrl);
    Map<String, ReplicationGroup> groups = new java.util.concurrent.ConcurrentHashMap<>();
    ReplicationGroup catalogGroup = Database.open(member, Database.topology(jdbcUrl, replicaJdbcUrls), user, password,
        poolSize, maxLag, registry);
    groups.put(catalogDatabase, catalogGroup);
    ShardedDatabase[] self = new ShardedDatabase[1];
    // a shard's group: made (database, schema) and opened when a map first names it, on the
    // servers' current primary and replicas
    java.util.function.Function<String, ReplicationGroup> opener = shard -> {
      ShardedDatabase opened = self[0];
      String primary = opened == null ? jdbcUrl : opened.primaryJdbcUrl;
      List<String> replicas = opened == null ? replicaJdbcUrls : opened.replicaJdbcUrls;
      try {
        provision(primary, user, password, shard);
      } catch (SQLException e) {
        throw new IllegalStateException("cannot create shard database " + shard + ": " + e.getMessage(), e);
      }
      return Database.open(member + "-" + shard, Database.topology(withDatabase(primary, shard),
          replicas.stream().map(replica -> withDatabase(replica, shard)).toList()), user, password, poolSize, maxLag,
          registry);
    };
    try {
      Database.migrate(jdbcUrl, user, password);
      ShardCatalog catalog = ShardCatalog.open(catalogGroup);
      backfillDirectory(catalogGroup);
      ShardMap map = mapOf(catalog, catalogDatabase, shardCount, function);
      ShardedGroups shards = new ShardedGroups(map, groups, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor(),
          catalog, opener, FENCE_WAIT.toMillis());
      log.info("{}: shard map version {}: {} over {}", member, map.version(), map.function().name(), map.shards());
      var refresher = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name(member + "-shard-map").factory());
      ShardedDatabase database = new ShardedDatabase(catalogGroup, catalog, shards, catalogDatabase, refresher);
      database.primaryJdbcUrl = jdbcUrl;
      database.replicaJdbcUrls = List.copyOf(replicaJdbcUrls);
      self[0] = database;
      refresher.scheduleWithFixedDelay(database::refreshMap, MAP_REFRESH.toMillis(), MAP_REFRESH.toMillis(),
          java.util.concurrent.TimeUnit.MILLISECONDS);
      return database;
    } catch (SQLException | RuntimeException e) {
      groups.values().forEach(ReplicationGroup::close);
      throw e;
    }
  }

  /** A resharding publishes new maps: this server switches within {@link #MAP_REFRESH} (and at once when fenced). */
  private void refreshMap() {
    try {
      long before = shards.map().version();
      shards.refresh();
      if (shards.map().version() != before) {
        log.info("shard map version {}: {} over {}", shards.map().version(), shards.map().function().name(),
            shards.map().shards());
      }
    } catch (SQLException | RuntimeException e) {
      log.debug("cannot read the shard map now: {}", e.toString());
    }
  }

  /**
   * Makes shard database {@code shard} of the cluster at {@code primaryJdbcUrl} ready: created if
   * missing, migrated. Idempotent; for the first map and for a resharding's new shards.
   */
  public static void provision(String primaryJdbcUrl, String user, String password, String shard) throws SQLException {
    if (!shard.equals(databaseOf(primaryJdbcUrl))) {
      createDatabase(primaryJdbcUrl, user, password, shard);
    }
    Database.migrate(withDatabase(primaryJdbcUrl, shard), user, password);
  }

  private static ShardMap mapOf(ShardCatalog catalog, String catalogDatabase, int shardCount, ShardFunction function)
      throws SQLException {
    var stored = catalog.current();
    if (stored.isEmpty()) {
      List<String> names = new ArrayList<>();
      names.add(catalogDatabase);
      for (int n = 1; n < shardCount; n++) {
        names.add(catalogDatabase + "_s" + n);
      }
      try {
        catalog.publish(ShardMap.first(function, names));
      } catch (ShardCatalog.StaleShardMapException e) {
        log.info("another server published the first shard map at the same time; using it");
      }
      stored = catalog.current();
    }
    ShardMap map = stored.orElseThrow();
    if (map.shards().size() != shardCount || !map.function().equals(function)) {
      log.warn("shards {} ({}) configured, but the stored shard map version {} has {} ({}): using the stored map;"
          + " a resharding changes it", shardCount, function.name(), map.version(), map.shards().size(),
          map.function().name());
    }
    return map;
  }

  /**
   * Users made before sharding (bigserial ids, all in the catalog's database, which is shard 0 of
   * the first map) get their directory rows; once, while the directory is empty.
   */
  private static void backfillDirectory(ReplicationGroup catalogGroup) throws SQLException {
    catalogGroup.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT EXISTS (SELECT 1 FROM user_directory)")) {
        rows.next();
        if (rows.getBoolean(1)) {
          return 0;
        }
      }
      try (PreparedStatement insert = connection.prepareStatement("INSERT INTO user_directory (username, user_id)"
          + " SELECT username, id FROM users ON CONFLICT DO NOTHING")) {
        return insert.executeUpdate();
      }
    });
  }

  private static void createDatabase(String jdbcUrl, String user, String password, String database) throws SQLException {
    try (Connection connection = DriverManager.getConnection(jdbcUrl, user, password);
        PreparedStatement exists = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, database);
      try (ResultSet rows = exists.executeQuery()) {
        if (rows.next()) {
          return;
        }
      }
      try (Statement create = connection.createStatement()) {
        // a new database has no tables yet: nothing for a synchronous standby to confirm
        create.execute("SET synchronous_commit = local");
        create.execute("CREATE DATABASE \"" + database + "\""); // a ShardMap name: [a-z0-9_-]
        log.info("created shard database {}", database);
      } catch (SQLException e) {
        // two servers creating it at once: the later one fails on the catalog's unique index
        // (23505) rather than with duplicate_database, depending on when it looked
        if (!DUPLICATE_DATABASE.equals(e.getSQLState()) && !UNIQUE_VIOLATION.equals(e.getSQLState())) {
          throw e;
        }
      }
    }
  }

  /** The database of a {@code jdbc:postgresql://host:port/database?…} URL. */
  public static String databaseOf(String jdbcUrl) {
    Matcher matcher = JDBC_URL.matcher(jdbcUrl);
    if (!matcher.matches() || matcher.group(2).isEmpty()) {
      throw new IllegalArgumentException("jdbcUrl: " + Redact.uri(jdbcUrl)
          + " (expected: jdbc:postgresql://host:port/database, with a database)");
    }
    return matcher.group(2);
  }

  /** {@code jdbcUrl} with its database replaced, parameters kept. */
  public static String withDatabase(String jdbcUrl, String database) {
    Matcher matcher = JDBC_URL.matcher(jdbcUrl);
    if (!matcher.matches()) {
      throw new IllegalArgumentException("jdbcUrl: " + Redact.uri(jdbcUrl) + " (expected: jdbc:postgresql://host:port/database)");
    }
    return matcher.group(1) + database + matcher.group(3);
  }

  /** The catalog's group (also shard 0): for the health check. */
  public ReplicationGroup catalogGroup() {
    return catalogGroup;
  }

  public ShardCatalog catalog() {
    return catalog;
  }

  public ShardedGroups shards() {
    return shards;
  }

  /** Points every shard's group at a new primary and replicas (a failover): the same servers, each its database. */
  public void updateTopology(String primaryJdbcUrl, List<String> replicaJdbcUrls) {
    this.primaryJdbcUrl = primaryJdbcUrl;
    this.replicaJdbcUrls = List.copyOf(replicaJdbcUrls);
    shards.groups().forEach((database, group) -> group.updateTopology(Database.topology(
        withDatabase(primaryJdbcUrl, database), replicaJdbcUrls.stream().map(replica -> withDatabase(replica, database)).toList())));
  }

  @Override
  public void close() {
    refresher.shutdownNow();
    shards.groups().values().forEach(ReplicationGroup::close);
  }

  @Override
  public String toString() {
    return "ShardedDatabase{catalog " + catalogDatabase + ", " + shards.map() + "}";
  }
}
