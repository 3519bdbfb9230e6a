package io.scalestack.app.internal;

import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.ReplicationGroup;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The {@code users} table (migration {@code V1__users.sql}) through plain JDBC on a {@link
 * ReplicationGroup}: writes on the primary, a profile read on a replica that has the caller's own
 * last write and login (their {@link ConsistencyToken}), a login's lookup on the primary.
 *
 * <p>Every method blocks the calling thread, which is meant to be a virtual thread. Thread-safe.
 */
final class UserRepository {

  /** A user's public profile. */
  record User(long id, String username, String displayName, String bio) {}

  /** What a login compares against, and whom it logs in. */
  record Credentials(User user, String passwordHash) {}

  private final ReplicationGroup database;

  UserRepository(ReplicationGroup database) {
    this.database = database;
  }

  /**
   * Creates the user, or answers empty when the username is taken (also under a race); {@code
   * token} moves to the write.
   */
  Optional<User> create(ConsistencyToken token, String username, String passwordHash, String displayName)
      throws SQLException {
    String sql =
        "INSERT INTO users (username, password_hash, display_name) VALUES (?, ?, ?)"
            + " ON CONFLICT (username) DO NOTHING"
            + " RETURNING id, username, display_name, bio";
    return database.write(token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(sql)) {
        statement.setString(1, username);
        statement.setString(2, passwordHash);
        statement.setString(3, displayName);
        return single(statement);
      }
    });
  }

  /**
   * The account, read on the primary: a login must find an account created a moment ago through
   * another web server. Run as a (read-only) transaction so that {@code token} moves to the
   * primary's position: the session's later reads on replicas see everything the login saw.
   */
  Optional<Credentials> credentials(ConsistencyToken token, String username) throws SQLException {
    return database.write(token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "SELECT id, username, display_name, bio, password_hash FROM users WHERE username = ?")) {
        statement.setString(1, username);
        try (ResultSet rows = statement.executeQuery()) {
          return rows.next() ? Optional.of(new Credentials(user(rows), rows.getString(5))) : Optional.empty();
        }
      }
    });
  }

  /** The profile as of at least {@code token}'s last write. */
  Optional<User> find(ConsistencyToken token, long id) throws SQLException {
    return database.read(token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "SELECT id, username, display_name, bio FROM users WHERE id = ?")) {
        statement.setLong(1, id);
        return single(statement);
      }
    });
  }

  /** Replaces the profile fields; empty when the user no longer exists. {@code token} moves to the write. */
  Optional<User> updateProfile(ConsistencyToken token, long id, String displayName, String bio) throws SQLException {
    return database.write(token, connection -> {
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
