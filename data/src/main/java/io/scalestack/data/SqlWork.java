package io.scalestack.data;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Work done with a connection of a {@link ReplicationGroup} node. The connection belongs to the
 * group: do not close it or keep it after returning. The group calls the work on the calling
 * thread, and may call it again (on another node) after a connection failure, so it must not have
 * effects outside the database; a read must not write.
 *
 * @param <T> the result
 */
@FunctionalInterface
public interface SqlWork<T> {

  /** Does the work on {@code connection} and returns its result. */
  T run(Connection connection) throws SQLException;
}
