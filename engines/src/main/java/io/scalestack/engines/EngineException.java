package io.scalestack.engines;

/**
 * An engine (Redis, PostgreSQL) could not be prepared, started, reached or stopped. The message
 * says what failed and, when the engine wrote a log, ends with the tail of that log.
 *
 * <p>Immutable and thread-safe.
 */
public final class EngineException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception with a message that names what failed. */
  public EngineException(String message) {
    super(message);
  }

  /** Creates an exception with a message that names what failed and the underlying cause. */
  public EngineException(String message, Throwable cause) {
    super(message, cause);
  }
}
