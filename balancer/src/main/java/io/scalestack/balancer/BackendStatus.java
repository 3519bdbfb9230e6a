package io.scalestack.balancer;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * The balancer's view of one backend at one moment.
 *
 * <p>An immutable snapshot; thread-safe.
 *
 * @param name the backend's name, for example {@code web-1}
 * @param address where the balancer connects to it
 * @param state whether it gets new requests
 * @param inFlight requests sent (or being sent) to it that have not yet been answered
 * @param activeConnections open or opening connections from the balancer to it (pooled ones
 *     included; health checks excluded)
 * @param requests requests sent to it since it was added, retried attempts included
 */
public record BackendStatus(
    String name,
    InetSocketAddress address,
    BackendState state,
    int inFlight,
    int activeConnections,
    long requests) {

  /** Checks that every reference is present. */
  public BackendStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(state, "state");
  }
}
