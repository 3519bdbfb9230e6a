package io.scalestack.cache;

/**
 * A {@link Loader} failed with a checked exception (its cause), or the wait for a load was
 * interrupted. Unchecked exceptions of a loader reach the callers unchanged. Every caller that
 * waited for the failed load gets the same exception. Immutable.
 */
public final class CacheLoadException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** With the cache's name and the key in the message. */
  public CacheLoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
