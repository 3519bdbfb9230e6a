package io.scalestack.data.internal;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;

/** Which failures mean "this node cannot be used now" rather than "this statement is wrong". Stateless. */
public final class SqlStates {

  private SqlStates() {}

  /**
   * Whether {@code e} (or a cause) says the connection or the server is gone: SQLSTATE class 08
   * (connection exception), 57P01..57P03 (admin or crash shutdown, cannot connect now), 53300 (too
   * many connections) or a pool timeout.
   */
  public static boolean isNodeFailure(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException
          || t instanceof SQLRecoverableException) {
        return true;
      }
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        String state = sql.getSQLState();
        if (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")
            || state.equals("53300")) {
          return true;
        }
      }
    }
    return false;
  }
}
