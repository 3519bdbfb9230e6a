package io.scalestack.balancer;

/**
 * Whether a backend gets new requests.
 *
 * <p>Only {@link #UP} backends are chosen. An administrative drain wins over health: a drained
 * backend is reported {@link #DRAINING} whatever its health checks say, and goes back to its
 * health state when made ready again.
 *
 * <p>Immutable; thread-safe.
 */
public enum BackendState {
  /** Healthy and chosen for new requests. */
  UP,
  /**
   * Not chosen: not yet confirmed by a health check, failing its health checks, or ejected after
   * a connection failure.
   */
  DOWN,
  /** Chosen for no new request; the requests already in flight to it finish. */
  DRAINING
}
