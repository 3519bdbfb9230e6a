package io.scalestack.data;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * Which replication group holds each user: a version, a {@link ShardFunction} and the shards in
 * order (each named by the group that holds it). User {@code id} lives on {@code
 * shards.get(function.shardOf(id, shards.size()))}, and so does everything the user owns: a
 * user's rows are never split over shards, so no query needs a join across them.
 *
 * <p>Versions only grow; the {@link ShardCatalog} stores every version durably and a resharding
 * publishes the next one at its cut-over. Immutable and thread-safe.
 *
 * @param version 1 for the first map, then one more for each resharding
 * @param function how ids map to shard numbers
 * @param shards the group of each shard number, distinct names
 */
public record ShardMap(long version, ShardFunction function, List<String> shards) {

  public ShardMap {
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(shards, "shards");
    if (version < 1) {
      throw new IllegalArgumentException("version: " + version + " (expected: >= 1)");
    }
    if (shards.isEmpty() || shards.size() > 1024) {
      throw new IllegalArgumentException("shards: " + shards.size() + " (expected: 1..1024 groups)");
    }
    shards = List.copyOf(shards);
    if (new HashSet<>(shards).size() != shards.size()) {
      throw new IllegalArgumentException("shards: " + shards + " (expected: distinct group names)");
    }
    for (String shard : shards) {
      if (!shard.matches("[a-z0-9][a-z0-9_-]{0,62}")) {
        throw new IllegalArgumentException("shards: '" + shard
            + "' (expected: a group name of lower-case letters, digits, - and _, up to 63 characters)");
      }
    }
  }

  /** The first map: version 1. */
  public static ShardMap first(ShardFunction function, List<String> shards) {
    return new ShardMap(1, function, shards);
  }

  /** The shard number of {@code userId}. */
  public int shardOf(long userId) {
    return function.shardOf(userId, shards.size());
  }

  /** The group that holds {@code userId}. */
  public String groupOf(long userId) {
    return shards.get(shardOf(userId));
  }

  /** The map after a resharding: the next version, with {@code shards} (and the same function). */
  public ShardMap reshardedTo(List<String> shards) {
    return new ShardMap(version + 1, function, shards);
  }
}
