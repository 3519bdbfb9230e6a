package io.scalestack.data;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A sharded database as the web tier uses it: one {@link ReplicationGroup} per shard and the
 * {@link ShardMap} that says which holds each user. {@link #group(long)} routes all of a user's
 * work (their rows, their photos, their jobs live on their shard), so a request touches one shard;
 * {@link #scatter(SqlWork, Comparator, int)} asks every shard at once for what spans them (a
 * "latest photos" listing) and merges the answers, with a limit per shard and overall.
 *
 * <p>Thread-safe: the map is swapped atomically by {@link #updateMap(ShardMap)} (a resharding's
 * cut-over); a call routes by the map it read when it started.
 */
public final class ShardedGroups {

  /**
   * SQLSTATE of a write refused by a shard that a resharding fenced: the writer routed with an
   * older map than the one being published ({@link Resharder}).
   */
  public static final String FENCED = "SS001";
  /** The session setting a write carries: the map version it was routed with. */
  static final String MAP_VERSION_SETTING = "scalestack.map_version";

  private final Map<String, ReplicationGroup> groups;
  private final Executor executor;
  private final ShardCatalog catalog;
  private final java.util.function.Function<String, ReplicationGroup> opener;
  private final long fenceWaitMillis;
  private volatile ShardMap map;

  /**
   * @param map the current map; every shard it names must be among {@code groups}
   * @param groups group name to group; the caller owns (and closes) them
   * @param executor runs {@link #scatter}'s per-shard queries (which block): virtual threads, say
   */
  public ShardedGroups(ShardMap map, Map<String, ReplicationGroup> groups, Executor executor) {
    this(map, groups, executor, null, null, 0);
  }

  /** With a virtual thread per scatter query. */
  public ShardedGroups(ShardMap map, Map<String, ReplicationGroup> groups) {
    this(map, groups, Executors.newVirtualThreadPerTaskExecutor());
  }

  /**
   * A sharded database that follows reshardings: a {@link #write} refused by a fenced shard waits
   * (up to {@code fenceWaitMillis}) for {@code catalog} to hold a newer map, switches to it and runs
   * again; groups of shards the new map adds are opened with {@code opener} (and owned by the
   * caller, who closes {@link #groups()}).
   */
  public ShardedGroups(ShardMap map, Map<String, ReplicationGroup> groups, Executor executor, ShardCatalog catalog,
      java.util.function.Function<String, ReplicationGroup> opener, long fenceWaitMillis) {
    this.groups = new java.util.concurrent.ConcurrentHashMap<>(Objects.requireNonNull(groups, "groups"));
    this.executor = Objects.requireNonNull(executor, "executor");
    this.catalog = catalog;
    this.opener = opener;
    this.fenceWaitMillis = fenceWaitMillis;
    this.map = check(map);
  }

  /** Every group opened so far, by shard name (the caller closes them). */
  public Map<String, ReplicationGroup> groups() {
    return Map.copyOf(groups);
  }

  /**
   * Runs {@code work} in a transaction on the primary of {@code userId}'s shard, marked with the
   * map version it was routed by. If a resharding fenced that shard, waits for the next map and
   * runs it again where that map puts the user: the write waits, it does not fail.
   */
  public <T> T write(long userId, ConsistencyToken token, SqlWork<T> work) throws SQLException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(fenceWaitMillis);
    while (true) {
      ShardMap routed = map;
      ReplicationGroup group = groups.get(routed.groupOf(userId));
      try {
        return group.write(token, connection -> {
          try (java.sql.PreparedStatement mark = connection.prepareStatement("SELECT set_config(?, ?, true)")) {
            mark.setString(1, MAP_VERSION_SETTING);
            mark.setString(2, Long.toString(routed.version()));
            mark.execute();
          }
          return work.run(connection);
        });
      } catch (SQLException e) {
        if (!FENCED.equals(e.getSQLState()) || catalog == null || !awaitNewerMap(routed.version(), deadline)) {
          throw e;
        }
      }
    }
  }

  /** Runs read-only {@code work} on {@code userId}'s shard (a replica that has {@code token}, else the primary). */
  public <T> T read(long userId, ConsistencyToken token, SqlWork<T> work) throws SQLException {
    return groups.get(map.groupOf(userId)).read(token, work);
  }

  /**
   * Reads the catalog's newest map and switches to it if it is newer: for a periodic refresh, and
   * for a read that found nothing where the map it routed by said (a cut-over this server has not
   * seen yet may have moved the user). Returns whether the map changed.
   */
  public boolean refresh() throws SQLException {
    if (catalog == null) {
      return false;
    }
    var newest = catalog.current();
    if (newest.isPresent() && newest.get().version() > map.version()) {
      updateMap(newest.get());
      return true;
    }
    return false;
  }

  /**
   * Makes sure this server routes by map {@code version} or newer (a session's last write was
   * routed by it on another server): refreshes, waiting up to the fence wait for the catalog.
   */
  public void awaitMap(long version) throws SQLException {
    if (map.version() >= version || catalog == null) {
      return;
    }
    awaitNewerMap(version - 1, System.nanoTime() + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(fenceWaitMillis));
  }

  private boolean awaitNewerMap(long version, long deadlineNanos) throws SQLException {
    while (System.nanoTime() - deadlineNanos < 0) {
      refresh();
      if (map.version() > version) {
        return true;
      }
      try {
        Thread.sleep(10); // a virtual thread: the cut-over takes tens of milliseconds
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private ShardMap check(ShardMap candidate) {
    Objects.requireNonNull(candidate, "map");
    for (String shard : candidate.shards()) {
      if (!groups.containsKey(shard) && opener != null) {
        groups.computeIfAbsent(shard, opener);
      }
      if (!groups.containsKey(shard)) {
        throw new IllegalArgumentException("map: shard '" + shard + "' (expected: one of the groups " + new java.util.TreeSet<>(groups.keySet()) + ")");
      }
    }
    return candidate;
  }

  /** The group holding {@code userId} under the current map (for work that needs no fence: reads). */
  public ReplicationGroup group(long userId) {
    return groups.get(map.groupOf(userId));
  }

  /** The current map. */
  public ShardMap map() {
    return map;
  }

  /**
   * Replaces the map (a resharding's cut-over, or a map another server published).
   *
   * @throws IllegalArgumentException if it is older than the current one or names an unknown group
   */
  public void updateMap(ShardMap next) {
    check(next);
    synchronized (this) {
      if (next.version() < map.version()) {
        throw new IllegalArgumentException("map: version " + next.version() + " (expected: >= the current "
            + map.version() + ")");
      }
      map = next;
    }
  }

  /**
   * Runs {@code work} (a read returning at most {@code limit} items, in {@code order}) on every
   * shard of the current map at once and merges the answers: the first {@code limit} in {@code
   * order} overall. Each shard's work runs through {@link ReplicationGroup#read} with a fresh token
   * (any replica in rotation).
   *
   * @throws SQLException the first shard's failure, with the others' as suppressed
   */
  public <T> List<T> scatter(SqlWork<List<T>> work, Comparator<? super T> order, int limit) throws SQLException {
    Objects.requireNonNull(work, "work");
    Objects.requireNonNull(order, "order");
    if (limit < 1) {
      throw new IllegalArgumentException("limit: " + limit + " (expected: >= 1)");
    }
    List<Future<List<T>>> answers = new ArrayList<>();
    for (String shard : map.shards()) {
      ReplicationGroup group = groups.get(shard);
      answers.add(CompletableFuture.supplyAsync(() -> {
        try {
          return group.read(ConsistencyToken.create(), work);
        } catch (SQLException e) {
          throw new CompletionException(e);
        }
      }, executor));
    }
    List<T> merged = new ArrayList<>();
    SQLException failure = null;
    for (Future<List<T>> answer : answers) {
      try {
        merged.addAll(answer.get());
      } catch (ExecutionException e) {
        SQLException cause = e.getCause() instanceof SQLException sql ? sql : new SQLException(e.getCause());
        if (failure == null) {
          failure = cause;
        } else {
          failure.addSuppressed(cause);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new SQLException("interrupted while waiting for the shards", "57014", e);
      }
    }
    if (failure != null) {
      throw failure;
    }
    merged.sort(order);
    return List.copyOf(merged.subList(0, Math.min(limit, merged.size())));
  }
}
