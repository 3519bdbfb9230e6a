package io.scalestack.data;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The nodes of one replication group: a primary that takes writes and its streaming replicas
 * that serve reads. A shard is one more group with its own topology.
 *
 * <p>Immutable and thread-safe.
 *
 * @param primary the node that takes writes
 * @param replicas the nodes that serve reads, in no particular order; may be empty
 */
public record Topology(DataNode primary, List<DataNode> replicas) {

  /**
   * A topology; the replicas are copied.
   *
   * @throws IllegalArgumentException if two nodes share a name or a URL
   */
  public Topology {
    Objects.requireNonNull(primary, "primary");
    replicas = List.copyOf(Objects.requireNonNull(replicas, "replicas"));
    Set<String> names = new HashSet<>(Set.of(primary.name()));
    Set<String> urls = new HashSet<>(Set.of(primary.jdbcUrl()));
    for (DataNode replica : replicas) {
      if (!names.add(replica.name()) || !urls.add(replica.jdbcUrl())) {
        throw new IllegalArgumentException("replicas: " + replicas + " (expected: names and URLs distinct from each"
            + " other and from the primary " + primary + ")");
      }
    }
  }

  /** The same as the constructor. */
  public static Topology of(DataNode primary, List<DataNode> replicas) {
    return new Topology(primary, replicas);
  }
}
