package io.scalestack.session;

/**
 * The session store could not be reached or failed (connection refused, command timed out,
 * error reply, a local store full). The message names the store and the operation; the cause is the client's own
 * exception. An application typically answers such a request with 503 Service Unavailable.
 *
 * <p>Immutable, as exceptions are once thrown.
 */
public final class SessionStoreException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates the exception with its message, for a failure of the store itself (no cause). */
  public SessionStoreException(String message) {
    super(message);
  }

  /** Creates the exception with its message and cause. */
  public SessionStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
