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
 * @param state whether it gets new requests ({@link BackendState#DOWN} also while ejected as an
 *     outlier)
 * @param inFlight requests sent (or being sent) to it that have not yet been answered
 * @param activeConnections open or opening connections from the balancer to it (pooled ones
 *     included; health checks excluded)
 * @param requests requests sent to it since it was added, retried attempts included
 * @param weight its share relative to the other backends of its pool, 1..256
 * @param pool the name of the pool it belongs to
 */
public record BackendStatus(
    String name,
    InetSocketAddress address,
    BackendState state,
    int inFlight,
    int activeConnections,
    long requests,
    int weight,
    String pool) {

  /** Checks that every reference is present. */
  public BackendStatus {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(pool, "pool");
  }

  /** A backend of weight 1 in the {@link Pool#DEFAULT default} pool. */
  public BackendStatus(String name, InetSocketAddress address, BackendState state, int inFlight,
      int activeConnections, long requests) {
    this(name, address, state, inFlight, activeConnections, requests, 1, Pool.DEFAULT);
  }
}
