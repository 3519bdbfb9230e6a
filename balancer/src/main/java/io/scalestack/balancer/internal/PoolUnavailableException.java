package io.scalestack.balancer.internal;

/**
 * A connection pool could not lend a connection for a reason other than a failed connect: it was
 * closed (its backend removed), its wait queue was full, or no connection freed up in time. The
 * request never reached the backend, so it may be retried elsewhere; the backend is not ejected.
 */
final class PoolUnavailableException extends Exception {
  PoolUnavailableException(String message) {
    super(message, null, false, false);
  }
}
