package io.scalestack.data;

import java.util.Objects;

/**
 * One PostgreSQL server of a {@link Topology}: a name for logs, metrics and status, and its JDBC
 * URL ({@code jdbc:postgresql://host:port/database}). Two nodes are equal when name and URL are.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name the node's name: not blank, no white space
 * @param jdbcUrl the node's JDBC URL
 */
public record DataNode(String name, String jdbcUrl) {

  /**
   * A node.
   *
   * @throws IllegalArgumentException if the name is blank or the URL is not a PostgreSQL JDBC URL
   */
  public DataNode {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    if (name.isBlank() || name.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("name: '" + name + "' (expected: not blank, no white space)");
    }
    if (!jdbcUrl.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException("jdbcUrl: '" + jdbcUrl + "' (expected: jdbc:postgresql://host:port/database)");
    }
  }

  /** The same as the constructor. */
  public static DataNode of(String name, String jdbcUrl) {
    return new DataNode(name, jdbcUrl);
  }

  @Override
  public String toString() {
    return name + "(" + jdbcUrl + ")";
  }
}
