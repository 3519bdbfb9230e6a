package io.scalestack.data;

import java.util.Objects;

/**
 * One PostgreSQL server of a {@link Topology}: a name for logs, metrics and status, and its JDBC
 * URL ({@code jdbc:postgresql://host:port/database}). Two nodes are equal when name and URL are.
 *
 * <p>Immutable and thread-safe.
 */
public final class DataNode {

  private final String name;
  private final String jdbcUrl;

  private DataNode(String name, String jdbcUrl) {
    this.name = name;
    this.jdbcUrl = jdbcUrl;
  }

  /**
   * A node.
   *
   * @throws IllegalArgumentException if the name is blank or the URL is not a PostgreSQL JDBC URL
   */
  public static DataNode of(String name, String jdbcUrl) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    if (name.isBlank() || name.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException("name: '" + name + "' (expected: not blank, no white space)");
    }
    if (!jdbcUrl.startsWith("jdbc:postgresql://")) {
      throw new IllegalArgumentException("jdbcUrl: '" + jdbcUrl + "' (expected: jdbc:postgresql://host:port/database)");
    }
    return new DataNode(name, jdbcUrl);
  }

  /** The node's name. */
  public String name() {
    return name;
  }

  /** The node's JDBC URL. */
  public String jdbcUrl() {
    return jdbcUrl;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof DataNode node && node.name.equals(name) && node.jdbcUrl.equals(jdbcUrl);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + jdbcUrl.hashCode();
  }

  @Override
  public String toString() {
    return name + "(" + jdbcUrl + ")";
  }
}
