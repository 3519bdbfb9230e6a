package io.scalestack.app;

import io.scalestack.app.internal.ShardedDatabase;
import io.scalestack.data.DataNode;
import io.scalestack.data.ReplicationGroup;
import io.scalestack.data.Resharder;
import io.scalestack.data.ShardCatalog;
import io.scalestack.data.ShardMap;
import io.scalestack.data.Topology;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Online resharding of the photo service's users ({@code scalestack reshard --to K}): the shard
 * map in the catalog at {@code primaryJdbcUrl} goes from its K shards to {@code toShards}, new
 * shards being databases {@code <database>_sN} of the same cluster, while the web servers keep
 * serving (see {@link Resharder} for the steps; a coordinator that dies is run again and resumes).
 * Every table a user owns moves with the user: today {@code users}.
 *
 * <p>One call at a time per catalog.
 */
public final class Resharding {

  private Resharding() {}

  /**
   * Runs (or resumes) a resharding to {@code toShards} shards, writing progress lines to {@code
   * progress}; returns what it did, including the write pause of the cut-over.
   *
   * @throws IllegalArgumentException if {@code toShards} is out of 1..64 or equals the current count
   *     while no job is unfinished
   */
  public static Resharder.Result run(String primaryJdbcUrl, String user, String password, int toShards,
      Consumer<String> progress) throws SQLException {
    Objects.requireNonNull(primaryJdbcUrl, "primaryJdbcUrl");
    if (toShards < 1 || toShards > 64) {
      throw new IllegalArgumentException("shards: " + toShards + " (expected: 1..64)");
    }
    String database = ShardedDatabase.databaseOf(primaryJdbcUrl);
    Map<String, ReplicationGroup> groups = new ConcurrentHashMap<>();
    ReplicationGroup catalogGroup = open("reshard-catalog", primaryJdbcUrl, user, password);
    try {
      ShardCatalog catalog = ShardCatalog.open(catalogGroup);
      ShardMap current = catalog.current().orElseThrow(() -> new IllegalStateException(
          "catalog at " + database + ": no shard map yet (expected: a web server has started once)"));
      List<String> target = new ArrayList<>();
      for (int n = 0; n < toShards; n++) {
        target.add(n < current.shards().size() ? current.shards().get(n) : database + "_s" + n);
      }
      return Resharder.builder()
          .catalog(catalog, catalogGroup)
          .groups(shard -> groups.computeIfAbsent(shard, name -> {
            try {
              ShardedDatabase.provision(primaryJdbcUrl, user, password, name);
            } catch (SQLException e) {
              throw new IllegalStateException("cannot create shard database " + name + ": " + e.getMessage(), e);
            }
            return open("reshard-" + name, ShardedDatabase.withDatabase(primaryJdbcUrl, name), user, password);
          }))
          .table(new Resharder.MovedTable("users", "id", "id"))
          .table(new Resharder.MovedTable("photos", "user_id", "id"))
          .progress(progress)
          .build()
          .run(target);
    } finally {
      groups.values().forEach(ReplicationGroup::close);
      catalogGroup.close();
    }
  }

  private static ReplicationGroup open(String name, String jdbcUrl, String user, String password) {
    // a batch job on a busy machine: wait for a connection longer than a request would
    return ReplicationGroup.builder().name(name).topology(Topology.of(DataNode.of(name, jdbcUrl), List.of()))
        .user(user).password(password).poolSize(4).connectionTimeoutMillis(30_000).build();
  }
}
