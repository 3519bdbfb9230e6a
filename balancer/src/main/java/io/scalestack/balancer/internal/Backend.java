package io.scalestack.balancer.internal;

import io.scalestack.balancer.BackendState;
import io.scalestack.balancer.BackendStatus;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * One backend: its address, its connection pool, its request counters and its health state
 * machine.
 *
 * <p>Health (HAProxy semantics): a new backend starts DOWN and goes UP on its first successful
 * check ({@code init-state down}); after that, an UP backend goes DOWN after {@code fall}
 * consecutive failed checks, or at once when ejected after a connection failure, and a DOWN
 * backend goes UP after {@code rise} consecutive successful checks. Draining is an administrative
 * flag on top of health.
 *
 * <p>Thread-safe: the health state machine is guarded by {@code this}; the flags read when
 * selecting are volatile and the counters atomic, so selection never locks.
 */
final class Backend {

  /** What one health-check result or ejection changed. */
  enum Change { NONE, WENT_UP, WENT_DOWN }

  private final String name;
  private final InetSocketAddress address;
  private final ConnectionPool pool;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong bytesInFlight = new AtomicLong();
  private final LongAdder requests = new LongAdder();
  private final ResponseTime responseTime = new ResponseTime();

  private volatile int weight = 1;

  private volatile boolean up;
  private volatile boolean draining;
  private volatile boolean removed;

  // guarded by this
  private boolean everUp;
  private int successes;
  private int failures;

  Backend(String name, InetSocketAddress address, ConnectionPool pool) {
    this.name = name;
    this.address = address;
    this.pool = pool;
  }

  String name() {
    return name;
  }

  InetSocketAddress address() {
    return address;
  }

  ConnectionPool pool() {
    return pool;
  }

  /** Whether a new request may be sent here. */
  boolean selectable() {
    return up && !draining && !removed;
  }

  BackendState state() {
    if (draining) {
      return BackendState.DRAINING;
    }
    return up ? BackendState.UP : BackendState.DOWN;
  }

  int inFlight() {
    return inFlight.get();
  }

  long requests() {
    return requests.sum();
  }

  /** The backend's share relative to the others (1..256, default 1), for the weighted algorithms. */
  int weight() {
    return weight;
  }

  void weight(int weight) {
    if (weight < 1 || weight > 256) {
      throw new IllegalArgumentException("weight: " + weight + " (expected: 1..256)");
    }
    this.weight = weight;
  }

  /** Request and response bytes on their way through this backend, for bandwidth balancing. */
  long bytesInFlight() {
    return bytesInFlight.get();
  }

  void addBytesInFlight(long delta) {
    bytesInFlight.addAndGet(delta);
  }

  /** How long this backend takes to start answering, for response-time balancing. */
  ResponseTime responseTime() {
    return responseTime;
  }

  /** An attempt to send a request here starts (counted before a connection is acquired). */
  void beginRequest() {
    inFlight.incrementAndGet();
    requests.increment();
  }

  /** An attempt ends, whatever its outcome; exactly once per {@link #beginRequest()}. */
  void endRequest() {
    inFlight.decrementAndGet();
  }

  void drain(boolean draining) {
    this.draining = draining;
  }

  boolean draining() {
    return draining;
  }

  void markRemoved() {
    this.removed = true;
  }

  /** Applies one health-check result. */
  synchronized Change recordCheck(boolean ok, int rise, int fall) {
    if (ok) {
      failures = 0;
      successes++;
      if (!up && (successes >= rise || !everUp)) {
        up = true;
        everUp = true;
        return Change.WENT_UP;
      }
    } else {
      successes = 0;
      failures++;
      if (up && failures >= fall) {
        up = false;
        return Change.WENT_DOWN;
      }
    }
    return Change.NONE;
  }

  /**
   * Takes the backend DOWN at once after a connection failure; only {@code rise} successful
   * checks bring it back.
   *
   * @return whether it was UP
   */
  synchronized boolean eject() {
    successes = 0;
    everUp = true;
    if (up) {
      up = false;
      return true;
    }
    return false;
  }

  BackendStatus status() {
    return new BackendStatus(name, address, state(), inFlight.get(), pool.activeConnections(), requests.sum());
  }

  @Override
  public String toString() {
    return name + "@" + HostPort.format(address);
  }
}
