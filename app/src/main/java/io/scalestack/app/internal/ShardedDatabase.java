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
import java.util.LinkedHashMap;
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

  private final ReplicationGroup catalogGroup;
  private final ShardCatalog catalog;
  private final ShardedGroups shards;
  private final Map<String, ReplicationGroup> groups;
  private final String catalogDatabase;

  private ShardedDatabase(ReplicationGroup catalogGroup, ShardCatalog catalog, ShardedGroups shards,
      Map<String, ReplicationGroup> groups, String catalogDatabase) {
    this.catalogGroup = catalogGroup;
    this.catalog = catalog;
    this.shards = shards;
    this.groups = groups;
    this.catalogDatabase = catalogDatabase;
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
    Map<String, ReplicationGroup> groups = new LinkedHashMap<>();
    ReplicationGroup catalogGroup = Database.open(member, Database.topology(jdbcUrl, replicaJdbcUrls), user, password,
        poolSize, maxLag, registry);
    groups.put(catalogDatabase, catalogGroup);
    try {
      Database.migrate(jdbcUrl, user, password);
      ShardCatalog catalog = ShardCatalog.open(catalogGroup);
      backfillDirectory(catalogGroup);
      ShardMap map = mapOf(catalog, catalogDatabase, shardCount, function);
      for (String shard : map.shards()) {
        if (!shard.equals(catalogDatabase)) {
          String url = withDatabase(jdbcUrl, shard);
          createDatabase(jdbcUrl, user, password, shard);
          Database.migrate(url, user, password);
          groups.put(shard, Database.open(member + "-" + shard, Database.topology(url,
              replicaJdbcUrls.stream().map(replica -> withDatabase(replica, shard)).toList()), user, password,
              poolSize, maxLag, registry));
        }
      }
      log.info("{}: shard map version {}: {} over {}", member, map.version(), map.function().name(), map.shards());
      return new ShardedDatabase(catalogGroup, catalog, new ShardedGroups(map, groups), Map.copyOf(groups),
          catalogDatabase);
    } catch (SQLException | RuntimeException e) {
      groups.values().forEach(ReplicationGroup::close);
      throw e;
    }
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
        if (!DUPLICATE_DATABASE.equals(e.getSQLState())) {
          throw e;
        }
      }
    }
  }

  /** The database of a {@code jdbc:postgresql://host:port/database?…} URL. */
  static String databaseOf(String jdbcUrl) {
    Matcher matcher = JDBC_URL.matcher(jdbcUrl);
    if (!matcher.matches() || matcher.group(2).isEmpty()) {
      throw new IllegalArgumentException("jdbcUrl: " + Redact.uri(jdbcUrl)
          + " (expected: jdbc:postgresql://host:port/database, with a database)");
    }
    return matcher.group(2);
  }

  /** {@code jdbcUrl} with its database replaced, parameters kept. */
  static String withDatabase(String jdbcUrl, String database) {
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
    groups.forEach((database, group) -> group.updateTopology(Database.topology(withDatabase(primaryJdbcUrl, database),
        replicaJdbcUrls.stream().map(replica -> withDatabase(replica, database)).toList())));
  }

  @Override
  public void close() {
    groups.values().forEach(ReplicationGroup::close);
  }

  @Override
  public String toString() {
    return "ShardedDatabase{catalog " + catalogDatabase + ", " + shards.map() + "}";
  }
}
