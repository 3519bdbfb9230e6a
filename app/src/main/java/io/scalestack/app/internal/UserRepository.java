package io.scalestack.app.internal;

import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.ReplicationGroup;
import io.scalestack.data.ShardCatalog;
import io.scalestack.data.ShardedGroups;
import io.scalestack.data.SnowflakeIds;
import io.scalestack.data.SqlWork;
import java.util.OptionalLong;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The {@code users} table (migration {@code V1__users.sql}) of every shard, through plain JDBC on
 * each shard's {@link ReplicationGroup}: a user's row lives on the shard the {@link ShardedGroups}
 * map names for their id (a Snowflake id this server makes), their name in the catalog's
 * directory. Writes on the primary, a profile read on a replica that has the caller's own last
 * write and login (their {@link ConsistencyToken}; every shard is a database of one cluster, so
 * one WAL position orders them all), a login's lookups on the primary.
 *
 * <p>Every method blocks the calling thread, which is meant to be a virtual thread. Thread-safe.
 */
final class UserRepository {

  /** A user's public profile. */
  record User(long id, String username, String displayName, String bio) {}

  /** What a login compares against, and whom it logs in. */
  record Credentials(User user, String passwordHash) {}

  private final ShardCatalog catalog;
  private final ShardedGroups shards;
  private final SnowflakeIds ids;

  UserRepository(ShardCatalog catalog, ShardedGroups shards, SnowflakeIds ids) {
    this.catalog = catalog;
    this.shards = shards;
    this.ids = ids;
  }

  /**
   * Creates the user, or answers empty when the username is taken (also under a race); {@code
   * token} moves to the writes. The name is claimed in the directory first (whoever claims it first
   * has it), then the row is written on the id's shard; if that fails the claim is given back. (A
   * crash between the two leaves the name claimed by an id without a row: that name stays taken.)
   */
  Optional<User> create(ConsistencyToken token, String username, String passwordHash, String displayName)
      throws SQLException {
    long id = ids.next();
    if (!catalog.register(token, username, id)) {
      return Optional.empty();
    }
    String sql =
        "INSERT INTO users (id, username, password_hash, display_name) VALUES (?, ?, ?, ?)"
            + " RETURNING id, username, display_name, bio";
    try {
      return shards.write(id, token, connection -> {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
          statement.setLong(1, id);
          statement.setString(2, username);
          statement.setString(3, passwordHash);
          statement.setString(4, displayName);
          return single(statement);
        }
      });
    } catch (SQLException | RuntimeException e) {
      try {
        catalog.unregister(token, username, id);
      } catch (SQLException undo) {
        e.addSuppressed(undo);
      }
      throw e;
    }
  }

  /**
   * The account, read on the primary: a login must find an account created a moment ago through
   * another web server. Run as a (read-only) transaction so that {@code token} moves to the
   * primary's position: the session's later reads on replicas see everything the login saw.
   */
  Optional<Credentials> credentials(ConsistencyToken token, String username) throws SQLException {
    OptionalLong id = catalog.lookup(token, username, true);
    if (id.isEmpty()) {
      return Optional.empty();
    }
    Optional<Credentials> found = credentialsOnShard(token, id.getAsLong());
    // not where this server's map says: a cut-over it has not seen yet may have moved the user
    return found.isEmpty() && shards.refresh() ? credentialsOnShard(token, id.getAsLong()) : found;
  }

  private Optional<Credentials> credentialsOnShard(ConsistencyToken token, long userId) throws SQLException {
    return shards.write(userId, token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "SELECT id, username, display_name, bio, password_hash FROM users WHERE id = ?")) {
        statement.setLong(1, userId);
        try (ResultSet rows = statement.executeQuery()) {
          return rows.next() ? Optional.of(new Credentials(user(rows), rows.getString(5))) : Optional.empty();
        }
      }
    });
  }

  /**
   * The profile as the primary has it: the newest committed state, what a cache may be filled
   * with after an invalidation (a replica's could be older than the write that invalidated it).
   */
  Optional<User> findOnPrimary(long id) throws SQLException {
    SqlWork<Optional<User>> select = connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "SELECT id, username, display_name, bio FROM users WHERE id = ?")) {
        statement.setLong(1, id);
        return single(statement);
      }
    };
    Optional<User> found = shards.write(id, ConsistencyToken.create(), select);
    return found.isEmpty() && shards.refresh() ? shards.write(id, ConsistencyToken.create(), select) : found;
  }

  /** The profile as of at least {@code token}'s last write. */
  Optional<User> find(ConsistencyToken token, long id) throws SQLException {
    Optional<User> found = findOnShard(token, id);
    return found.isEmpty() && shards.refresh() ? findOnShard(token, id) : found;
  }

  /** The map version this server routes by: a session remembers it with its last write. */
  long mapVersion() {
    return shards.map().version();
  }

  /** Routes by map {@code version} or newer from now on (the session's last write was routed by it). */
  void awaitMap(long version) throws SQLException {
    shards.awaitMap(version);
  }

  private Optional<User> findOnShard(ConsistencyToken token, long id) throws SQLException {
    return shards.read(id, token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "SELECT id, username, display_name, bio FROM users WHERE id = ?")) {
        statement.setLong(1, id);
        return single(statement);
      }
    });
  }

  /** A profile read and where it was served: a replica, or the primary. */
  record Read(Optional<User> user, boolean fromReplica) {}

  /**
   * Like {@link #find}, and says which kind of node answered ({@code pg_is_in_recovery()} in the
   * same statement): a replica that has {@code token}, else the primary.
   */
  Read read(ConsistencyToken token, long id) throws SQLException {
    Read found = readOnShard(token, id);
    return found.user().isEmpty() && shards.refresh() ? readOnShard(token, id) : found;
  }

  private Read readOnShard(ConsistencyToken token, long id) throws SQLException {
    return shards.read(id, token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "SELECT id, username, display_name, bio, pg_is_in_recovery() FROM users WHERE id = ?")) {
        statement.setLong(1, id);
        try (ResultSet rows = statement.executeQuery()) {
          if (!rows.next()) {
            return new Read(Optional.empty(), false);
          }
          return new Read(Optional.of(user(rows)), rows.getBoolean(5));
        }
      }
    });
  }

  /** Replaces the profile fields; empty when the user no longer exists. {@code token} moves to the write. */
  Optional<User> updateProfile(ConsistencyToken token, long id, String displayName, String bio) throws SQLException {
    return shards.write(id, token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "UPDATE users SET display_name = ?, bio = ? WHERE id = ? RETURNING id, username, display_name, bio")) {
        statement.setString(1, displayName);
        statement.setString(2, bio);
        statement.setLong(3, id);
        return single(statement);
      }
    });
  }

  private static Optional<User> single(PreparedStatement statement) throws SQLException {
    try (ResultSet rows = statement.executeQuery()) {
      if (!rows.next()) {
        return Optional.empty();
      }
      return Optional.of(user(rows));
    }
  }

  private static User user(ResultSet rows) throws SQLException {
    return new User(rows.getLong(1), rows.getString(2), rows.getString(3), rows.getString(4));
  }
}
