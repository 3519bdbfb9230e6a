package io.scalestack.app.internal;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The {@code users} table (migration {@code V1__users.sql}) through plain JDBC.
 *
 * <p>Every method borrows a pooled connection for one statement and blocks the calling thread,
 * which is meant to be a virtual thread. Thread-safe.
 */
final class UserRepository {

  /** A user's public profile. */
  record User(long id, String username, String displayName, String bio) {}

  /** What a login compares against, and whom it logs in. */
  record Credentials(User user, String passwordHash) {}

  private final DataSource dataSource;

  UserRepository(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Creates the user, or answers empty when the username is taken (also under a race). */
  Optional<User> create(String username, String passwordHash, String displayName)
      throws SQLException {
    String sql =
        "INSERT INTO users (username, password_hash, display_name) VALUES (?, ?, ?)"
            + " ON CONFLICT (username) DO NOTHING"
            + " RETURNING id, username, display_name, bio";
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, username);
      statement.setString(2, passwordHash);
      statement.setString(3, displayName);
      return single(statement);
    }
  }

  Optional<Credentials> credentials(String username) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT id, username, display_name, bio, password_hash FROM users WHERE username = ?")) {
      statement.setString(1, username);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? Optional.of(new Credentials(user(rows), rows.getString(5))) : Optional.empty();
      }
    }
  }

  Optional<User> find(long id) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT id, username, display_name, bio FROM users WHERE id = ?")) {
      statement.setLong(1, id);
      return single(statement);
    }
  }

  /** Replaces the profile fields; empty when the user no longer exists. */
  Optional<User> updateProfile(long id, String displayName, String bio) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "UPDATE users SET display_name = ?, bio = ? WHERE id = ?"
                    + " RETURNING id, username, display_name, bio")) {
      statement.setString(1, displayName);
      statement.setString(2, bio);
      statement.setLong(3, id);
      return single(statement);
    }
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
