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

  private final Map<String, ReplicationGroup> groups;
  private final Executor executor;
  private volatile ShardMap map;

  /**
   * @param map the current map; every shard it names must be among {@code groups}
   * @param groups group name to group; the caller owns (and closes) them
   * @param executor runs {@link #scatter}'s per-shard queries (which block): virtual threads, say
   */
  public ShardedGroups(ShardMap map, Map<String, ReplicationGroup> groups, Executor executor) {
    this.groups = Map.copyOf(Objects.requireNonNull(groups, "groups"));
    this.executor = Objects.requireNonNull(executor, "executor");
    this.map = check(map);
  }

  /** With a virtual thread per scatter query. */
  public ShardedGroups(ShardMap map, Map<String, ReplicationGroup> groups) {
    this(map, groups, Executors.newVirtualThreadPerTaskExecutor());
  }

  private ShardMap check(ShardMap candidate) {
    Objects.requireNonNull(candidate, "map");
    for (String shard : candidate.shards()) {
      if (!groups.containsKey(shard)) {
        throw new IllegalArgumentException("map: shard '" + shard + "' (expected: one of the groups " + new java.util.TreeSet<>(groups.keySet()) + ")");
      }
    }
    return candidate;
  }

  /** The group holding {@code userId} under the current map. */
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
