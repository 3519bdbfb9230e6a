package io.scalestack.app.internal;

import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.ShardedGroups;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code photos} table (migration {@code V2__photos.sql}) on the owner's shard: every query
 * names the owner, so it runs on one shard and never joins across shards. Writes on the primary;
 * the owner's reads on a replica that has their last write ({@link ConsistencyToken}).
 *
 * <p>Every method blocks the calling thread, which is meant to be a virtual thread. Thread-safe.
 */
final class PhotoRepository {

  /**
   * A photo's row: an upload ({@code sourceId} null) or an edited version of {@code sourceId},
   * made by job {@code jobId} ({@code bytes} null until the job is done: its size is in the job's
   * result).
   */
  record Photo(long id, long userId, Long sourceId, String jobId, String ops, String mediaType, int width,
      int height, Long bytes, String createdAt) {}

  private static final String COLUMNS =
      "id, user_id, source_id, job_id, ops, media_type, width, height, bytes, created_at";

  private final ShardedGroups shards;

  PhotoRepository(ShardedGroups shards) {
    this.shards = shards;
  }

  /** Inserts the row (an upload, or an edit's pending version); {@code token} moves to the write. */
  Photo insert(ConsistencyToken token, Photo photo) throws SQLException {
    return shards.write(photo.userId(), token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement(
          "INSERT INTO photos (id, user_id, source_id, job_id, ops, media_type, width, height, bytes)"
              + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " + COLUMNS)) {
        statement.setLong(1, photo.id());
        statement.setLong(2, photo.userId());
        if (photo.sourceId() == null) {
          statement.setNull(3, Types.BIGINT);
        } else {
          statement.setLong(3, photo.sourceId());
        }
        statement.setString(4, photo.jobId());
        statement.setString(5, photo.ops());
        statement.setString(6, photo.mediaType());
        statement.setInt(7, photo.width());
        statement.setInt(8, photo.height());
        if (photo.bytes() == null) {
          statement.setNull(9, Types.BIGINT);
        } else {
          statement.setLong(9, photo.bytes());
        }
        return all(statement).get(0);
      }
    });
  }

  /** The user's photo {@code id}, as of at least {@code token}; empty if it is not theirs or not there. */
  Optional<Photo> find(ConsistencyToken token, long userId, long id) throws SQLException {
    List<Photo> found = query(token, userId, "WHERE user_id = ? AND id = ?", id);
    return found.stream().findFirst();
  }

  /** The user's edited version made by job {@code jobId}; empty if no such job is theirs. */
  Optional<Photo> byJob(ConsistencyToken token, long userId, String jobId) throws SQLException {
    List<Photo> found = queryOnShard(token, userId, "WHERE user_id = ? AND job_id = ?", null, jobId);
    if (found.isEmpty() && shards.refresh()) {
      found = queryOnShard(token, userId, "WHERE user_id = ? AND job_id = ?", null, jobId);
    }
    return found.stream().findFirst();
  }

  /** The user's uploads, newest first, at most {@code limit}. */
  List<Photo> uploads(ConsistencyToken token, long userId, int limit) throws SQLException {
    return query(token, userId, "WHERE user_id = ? AND source_id IS NULL ORDER BY id DESC LIMIT " + limit, null);
  }

  /** The edited versions of the user's photo {@code sourceId}, oldest first. */
  List<Photo> versions(ConsistencyToken token, long userId, long sourceId) throws SQLException {
    return query(token, userId, "WHERE user_id = ? AND source_id = ? ORDER BY id", sourceId);
  }

  private List<Photo> query(ConsistencyToken token, long userId, String where, Long parameter) throws SQLException {
    List<Photo> found = queryOnShard(token, userId, where, parameter, null);
    // nothing where this server's map says: a cut-over it has not seen yet may have moved the user
    return found.isEmpty() && shards.refresh() ? queryOnShard(token, userId, where, parameter, null) : found;
  }

  private List<Photo> queryOnShard(ConsistencyToken token, long userId, String where, Long parameter,
      String textParameter) throws SQLException {
    return shards.read(userId, token, connection -> {
      try (PreparedStatement statement = connection.prepareStatement("SELECT " + COLUMNS + " FROM photos " + where)) {
        statement.setLong(1, userId);
        if (parameter != null) {
          statement.setLong(2, parameter);
        } else if (textParameter != null) {
          statement.setString(2, textParameter);
        }
        return all(statement);
      }
    });
  }

  private static List<Photo> all(PreparedStatement statement) throws SQLException {
    List<Photo> photos = new ArrayList<>();
    try (ResultSet rows = statement.executeQuery()) {
      while (rows.next()) {
        long source = rows.getLong(3);
        Long sourceId = rows.wasNull() ? null : source;
        long size = rows.getLong(9);
        Long bytes = rows.wasNull() ? null : size;
        photos.add(new Photo(rows.getLong(1), rows.getLong(2), sourceId, rows.getString(4), rows.getString(5),
            rows.getString(6), rows.getInt(7), rows.getInt(8), bytes,
            rows.getObject(10, java.time.OffsetDateTime.class).toInstant().toString()));
      }
    }
    return photos;
  }
}
