package io.scalestack.app.internal;

import io.lettuce.core.RedisException;
import io.scalestack.session.SessionStoreException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.EOFException;
import java.io.IOException;
import java.sql.SQLTransientConnectionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a failure that escaped an endpoint into an answer: 503 when a backing service (the
 * database, the session store) is unavailable, so the balancer and the client know to retry
 * elsewhere or later; 500 for anything else. Nothing internal is echoed to the client.
 *
 * <p>Stateless and thread-safe.
 */
final class Failures {

  static final String DATABASE_UNAVAILABLE = "The database is unavailable; try again later.";
  static final String SESSION_STORE_UNAVAILABLE = "The session store is unavailable; try again later.";
  static final String QUEUE_UNAVAILABLE = "The job queue is unavailable; try again later.";
  static final String BLOB_STORE_UNAVAILABLE = "The photo store is unavailable; try again later.";
  static final String INTERNAL_ERROR = "The server failed to handle the request; the failure is logged.";

  private static final Logger log = LoggerFactory.getLogger(Failures.class);

  private Failures() {}

  static void answer(HttpServletRequest request, HttpServletResponse response, Throwable failure)
      throws IOException {
    String what = request.getMethod() + " " + request.getRequestURI();
    if (has(failure, EOFException.class)) {
      // Jetty's EofException: the client went away mid-exchange; there is no one to answer.
      log.debug("{}: client disconnected", what, failure);
      return;
    }
    int status;
    String message;
    if (has(failure, SQLTransientConnectionException.class)) {
      // HikariCP's "no connection within connectionTimeout": the database is down or saturated.
      status = HttpServletResponse.SC_SERVICE_UNAVAILABLE;
      message = DATABASE_UNAVAILABLE;
      logUnavailable(what, message, failure);
    } else if (has(failure, io.scalestack.queue.QueueException.class)) {
      status = HttpServletResponse.SC_SERVICE_UNAVAILABLE;
      message = QUEUE_UNAVAILABLE;
      logUnavailable(what, message, failure);
    } else if (has(failure, io.scalestack.blob.BlobStoreException.class)) {
      status = HttpServletResponse.SC_SERVICE_UNAVAILABLE;
      message = BLOB_STORE_UNAVAILABLE;
      logUnavailable(what, message, failure);
    } else if (has(failure, SessionStoreException.class) || has(failure, RedisException.class)) {
      status = HttpServletResponse.SC_SERVICE_UNAVAILABLE;
      message = SESSION_STORE_UNAVAILABLE;
      logUnavailable(what, message, failure);
    } else {
      status = HttpServletResponse.SC_INTERNAL_SERVER_ERROR;
      message = INTERNAL_ERROR;
      log.error("{}: unexpected failure", what, failure);
    }
    if (response.isCommitted()) {
      return;
    }
    response.resetBuffer();
    response.setHeader("Cache-Control", "no-store");
    Json.writeError(response, status, message, null);
  }

  /** An outage fails every request alike: one line each, the stack trace only at debug. */
  private static void logUnavailable(String what, String message, Throwable failure) {
    log.warn("{}: answered 503, {} ({})", what, message, failure.toString());
    log.debug("{}: failure", what, failure);
  }

  private static boolean has(Throwable failure, Class<? extends Throwable> type) {
    int depth = 0;
    for (Throwable t = failure; t != null && depth++ < 32; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }
}
