package io.scalestack.balancer.internal;

import io.scalestack.balancer.BackendState;
import io.scalestack.balancer.BackendStatus;
import io.scalestack.balancer.Pool;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

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
 * <p>On top of health: outlier ejection (passive checks, see {@link Membership}) keeps a backend
 * out until a deadline; slow start ramps its effective weight after it comes up.
 *
 * <p>Thread-safe: the health state machine is guarded by {@code this}; the flags read when
 * selecting are volatile and the counters atomic, so selection never locks.
 */
final class Backend {

  /** What one health-check result or ejection changed. */
  enum Change { NONE, WENT_UP, WENT_DOWN }

  /** For {@link #recordOutcome(int)}: the connection failed or closed before a response. */
  static final int CONNECT_FAILURE = -1;

  /** Weights are scaled by this for slow start, so that 10% of weight 1 is still an integer. */
  static final int WEIGHT_SCALE = 100;

  private final String name;
  private final InetSocketAddress address;
  private final ConnectionPool pool;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong bytesInFlight = new AtomicLong();
  private final LongAdder requests = new LongAdder();
  private final ResponseTime responseTime = new ResponseTime();

  private final LongSupplier ticker;
  private volatile int weight = 1;
  // fixed: a retry stays in the pool of the backends it tried, so a move makes a new Backend
  private final String poolName;
  private volatile String stickyId = "";

  // slow start: when the backend last came up; 0 when it is warm (never ramps)
  private volatile long upSinceNanos;
  private volatile boolean warm;

  // outlier detection
  private final AtomicInteger consecutiveErrors = new AtomicInteger();
  private volatile long ejectedUntilNanos;
  private int ejections; // guarded by this

  // smooth weighted round robin's running weight; guarded by the pool's selector
  long smoothCurrent;

  private volatile boolean up;
  private volatile boolean draining;
  private volatile boolean removed;

  // guarded by this
  private boolean everUp;
  private int successes;
  private int failures;

  Backend(String name, InetSocketAddress address, ConnectionPool pool) {
    this(name, address, pool, 1, Pool.DEFAULT, System::nanoTime);
  }

  /**
   * @param pool the connection pool; null only in tests that never send
   * @param ticker {@link System#nanoTime()} or a test's clock
   */
  Backend(String name, InetSocketAddress address, ConnectionPool pool, int weight, String poolName,
      LongSupplier ticker) {
    this.name = name;
    this.address = address;
    this.pool = pool;
    this.ticker = ticker;
    weight(weight);
    this.poolName = poolName;
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

  /** Whether a new request may be sent here: up, not draining, not removed, not ejected as an outlier. */
  boolean selectable() {
    return up && !draining && !removed && !ejected();
  }

  /** Whether the backend may be used in panic (Envoy): anything not draining or removed. */
  boolean usableInPanic() {
    return !draining && !removed;
  }

  /** Whether passive health checking keeps the backend out at the moment. */
  boolean ejected() {
    long until = ejectedUntilNanos;
    return until != 0 && ticker.getAsLong() - until < 0;
  }

  /** The pool the backend belongs to; fixed for this object (see {@link #movedTo}). */
  String poolName() {
    return poolName;
  }

  /**
   * This backend in pool {@code pool} with {@code weight}: a new object sharing the connection
   * pool and carrying over health, drain and slow-start state, so that the move needs no new
   * health check and drops no connection. This object is then retired without closing the
   * shared connection pool; requests in flight on it finish.
   */
  synchronized Backend movedTo(String pool, int newWeight) {
    Backend moved = new Backend(name, address, this.pool, newWeight, pool, ticker);
    synchronized (moved) {
      moved.up = up;
      moved.everUp = everUp;
      moved.successes = successes;
      moved.failures = failures;
    }
    moved.draining = draining;
    moved.warm = warm;
    moved.upSinceNanos = upSinceNanos;
    moved.stickyId = stickyId;
    return moved;
  }

  /** The signed id that sticky cookies carry ({@code name.mac}); empty until the membership sets it. */
  String stickyId() {
    return stickyId;
  }

  void stickyId(String stickyId) {
    this.stickyId = stickyId;
  }

  /** Marks the backend warm: its next coming up does not slow-start (backends present at start). */
  void warm() {
    this.warm = true;
  }

  /**
   * The weight the weighted algorithms use, times {@link #WEIGHT_SCALE}: during {@code
   * slowStartNanos} after the backend came up, it ramps linearly from 10% to 100% of {@link
   * #weight()} (HAProxy's {@code slowstart}, Envoy's slow start), so a cold JVM is not flooded.
   */
  int effectiveWeight(long slowStartNanos, long nowNanos) {
    int full = weight * WEIGHT_SCALE;
    long since = upSinceNanos;
    if (slowStartNanos <= 0 || since == 0) {
      return full;
    }
    long elapsed = nowNanos - since;
    if (elapsed >= slowStartNanos) {
      return full;
    }
    double share = Math.max(0.1, elapsed <= 0 ? 0 : (double) elapsed / slowStartNanos);
    return Math.max(1, (int) (full * share));
  }

  long nowNanos() {
    return ticker.getAsLong();
  }

  /**
   * Counts the outcome of one request for passive health checking: {@code status} is the response
   * status, or {@link #CONNECT_FAILURE}. A 5xx or a failure adds to the run of consecutive
   * errors, anything else ends it.
   *
   * @return the length of the run of consecutive errors (0 after a success)
   */
  int recordOutcome(int status) {
    if (status == CONNECT_FAILURE || status >= 500) {
      return consecutiveErrors.incrementAndGet();
    }
    if (consecutiveErrors.get() != 0) {
      consecutiveErrors.set(0);
    }
    return 0;
  }

  /**
   * Ejects the backend as an outlier for {@code baseNanos} times the number of times it was
   * ejected so far (this one included), at most {@code maxNanos}.
   *
   * @return how long it is out, in nanoseconds; 0 if it already was
   */
  synchronized long ejectOutlier(long baseNanos, long maxNanos) {
    if (ejected()) {
      return 0;
    }
    ejections++;
    long nanos = Math.min(maxNanos, baseNanos * ejections);
    consecutiveErrors.set(0);
    long until = ticker.getAsLong() + nanos;
    ejectedUntilNanos = until == 0 ? 1 : until;
    return nanos;
  }

  /** How many times the backend was ejected as an outlier. */
  synchronized int outlierEjections() {
    return ejections;
  }

  BackendState state() {
    if (draining) {
      return BackendState.DRAINING;
    }
    // an outlier ejection shows as DOWN: it gets no traffic, like a failed health check
    return up && !ejected() ? BackendState.UP : BackendState.DOWN;
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
        if (warm && !everUp) {
          upSinceNanos = 0;
        } else {
          long now = ticker.getAsLong();
          upSinceNanos = now == 0 ? 1 : now;
        }
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
    return new BackendStatus(name, address, state(), inFlight.get(), pool.activeConnections(), requests.sum(),
        weight, poolName);
  }

  @Override
  public String toString() {
    return name + "@" + HostPort.format(address);
  }
}
