package io.scalestack.data;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The durable, global part of a sharded database, kept in one replication group (the catalog;
 * on one machine, the first shard's): every version of the {@link ShardMap}, and the directory
 * from username to user id — the one lookup that cannot know the shard yet, since ids, not
 * names, decide shards. Both are small and change rarely (a map per resharding, a directory row
 * per sign-up).
 *
 * <p>Tables, in the connection's schema ({@code search_path}; {@code public} by default): {@code
 * shard_map(version PRIMARY KEY, function, shards, published_at)} and {@code
 * user_directory(username PRIMARY KEY, user_id UNIQUE)}. Publishing a
 * map is a compare-and-set on its version (two coordinators cannot both publish version N), and a
 * username belongs to whoever inserted it first.
 *
 * <p>Thread-safe (all state is in PostgreSQL).
 */
public final class ShardCatalog {

  /** SQLSTATE 23505, unique_violation (PostgreSQL manual, appendix A). */
  private static final String UNIQUE_VIOLATION = "23505";

  private final ReplicationGroup group;

  private ShardCatalog(ReplicationGroup group) {
    this.group = group;
  }

  /** The catalog in {@code group}'s database, creating its schema if missing. */
  public static ShardCatalog open(ReplicationGroup group) throws SQLException {
    Objects.requireNonNull(group, "group");
    group.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement()) {
        // several web servers may open the catalog at once: the advisory lock serialises the DDL
        statement.execute("SELECT pg_advisory_xact_lock(7305061)");
        statement.execute("CREATE TABLE IF NOT EXISTS shard_map (version bigint PRIMARY KEY,"
            + " function text NOT NULL, shards text[] NOT NULL, published_at timestamptz NOT NULL DEFAULT now())");
        statement.execute("CREATE TABLE IF NOT EXISTS user_directory (username text PRIMARY KEY,"
            + " user_id bigint NOT NULL UNIQUE)");
      }
      return null;
    });
    return new ShardCatalog(group);
  }

  /** The newest map, read on the primary; empty before the first {@link #publish}. */
  public Optional<ShardMap> current() throws SQLException {
    return group.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery(
              "SELECT version, function, shards FROM shard_map ORDER BY version DESC LIMIT 1")) {
        if (!rows.next()) {
          return Optional.<ShardMap>empty();
        }
        String[] shards = (String[]) rows.getArray(3).getArray();
        return Optional.of(new ShardMap(rows.getLong(1), ShardFunction.named(rows.getString(2)), Arrays.asList(shards)));
      }
    });
  }

  /** Every version stored, oldest first: the history of reshardings. */
  public List<ShardMap> history() throws SQLException {
    return group.write(ConsistencyToken.create(), connection -> {
      List<ShardMap> maps = new ArrayList<>();
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT version, function, shards FROM shard_map ORDER BY version")) {
        while (rows.next()) {
          maps.add(new ShardMap(rows.getLong(1), ShardFunction.named(rows.getString(2)),
              Arrays.asList((String[]) rows.getArray(3).getArray())));
        }
      }
      return maps;
    });
  }

  /**
   * Stores {@code map} as the newest version: it must be version 1 of an empty catalog, or exactly
   * one more than the newest stored.
   *
   * @throws StaleShardMapException if another map was published first (or the version skips one)
   */
  public void publish(ShardMap map) throws SQLException {
    Objects.requireNonNull(map, "map");
    group.write(ConsistencyToken.create(), connection -> {
      try (Statement lock = connection.createStatement()) {
        lock.execute("LOCK TABLE shard_map IN EXCLUSIVE MODE"); // versions are handed out one at a time
      }
      long newest;
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT COALESCE(max(version), 0) FROM shard_map")) {
        rows.next();
        newest = rows.getLong(1);
      }
      if (map.version() != newest + 1) {
        throw new StaleShardMapException("shard map version: " + map.version() + " (expected: " + (newest + 1)
            + ", one more than the newest stored)");
      }
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO shard_map (version, function, shards) VALUES (?, ?, ?)")) {
        insert.setLong(1, map.version());
        insert.setString(2, map.function().name());
        insert.setArray(3, connection.createArrayOf("text", map.shards().toArray()));
        insert.executeUpdate();
      }
      return null;
    });
  }

  /**
   * Claims {@code username} for {@code userId}; false if the name is taken. Advances {@code token}
   * past the claim, so that the same session's lookups see it.
   */
  public boolean register(ConsistencyToken token, String username, long userId) throws SQLException {
    return group.write(token, connection -> {
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO user_directory (username, user_id) VALUES (?, ?) ON CONFLICT (username) DO NOTHING")) {
        insert.setString(1, username);
        insert.setLong(2, userId);
        return insert.executeUpdate() == 1;
      }
    });
  }

  /** Gives {@code username} up again, if {@code userId} holds it (a sign-up that failed after its claim). */
  public void unregister(ConsistencyToken token, String username, long userId) throws SQLException {
    group.write(token, connection -> {
      try (PreparedStatement delete = connection.prepareStatement(
          "DELETE FROM user_directory WHERE username = ? AND user_id = ?")) {
        delete.setString(1, username);
        delete.setLong(2, userId);
        return delete.executeUpdate();
      }
    });
  }

  /**
   * The user id of {@code username}. Read on the primary when {@code fresh} (a login right after a
   * sign-up on another server must find the name), else on a replica that has {@code token}.
   */
  public OptionalLong lookup(ConsistencyToken token, String username, boolean fresh) throws SQLException {
    SqlWork<OptionalLong> work = connection -> {
      try (PreparedStatement select = connection.prepareStatement(
          "SELECT user_id FROM user_directory WHERE username = ?")) {
        select.setString(1, username);
        try (ResultSet rows = select.executeQuery()) {
          return rows.next() ? OptionalLong.of(rows.getLong(1)) : OptionalLong.empty();
        }
      }
    };
    return fresh ? group.write(token, work) : group.read(token, work);
  }

  /** A map was published by someone else first: reread {@link #current()} and decide again. */
  public static final class StaleShardMapException extends SQLException {
    private static final long serialVersionUID = 1L;

    StaleShardMapException(String message) {
      super(message, UNIQUE_VIOLATION);
    }
  }
}
