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
 */
public final class Topology {

  private final DataNode primary;
  private final List<DataNode> replicas;

  private Topology(DataNode primary, List<DataNode> replicas) {
    this.primary = primary;
    this.replicas = replicas;
  }

  /**
   * A topology; the replicas may be none.
   *
   * @throws IllegalArgumentException if two nodes share a name or a URL
   */
  public static Topology of(DataNode primary, List<DataNode> replicas) {
    Objects.requireNonNull(primary, "primary");
    List<DataNode> copy = List.copyOf(Objects.requireNonNull(replicas, "replicas"));
    Set<String> names = new HashSet<>();
    Set<String> urls = new HashSet<>();
    names.add(primary.name());
    urls.add(primary.jdbcUrl());
    for (DataNode replica : copy) {
      if (!names.add(replica.name()) || !urls.add(replica.jdbcUrl())) {
        throw new IllegalArgumentException("replicas: " + copy + " (expected: names and URLs distinct from each"
            + " other and from the primary " + primary + ")");
      }
    }
    return new Topology(primary, copy);
  }

  /** The node that takes writes. */
  public DataNode primary() {
    return primary;
  }

  /** The nodes that serve reads, in no particular order; may be empty. */
  public List<DataNode> replicas() {
    return replicas;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Topology topology && topology.primary.equals(primary) && topology.replicas.equals(replicas);
  }

  @Override
  public int hashCode() {
    return primary.hashCode() * 31 + replicas.hashCode();
  }

  @Override
  public String toString() {
    return "Topology{primary=" + primary + ", replicas=" + replicas + "}";
  }
}
