package io.scalestack.balancer.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.EventLoop;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A bounded pool of keep-alive connections to one backend.
 *
 * <p>At most {@code maxConnections} connections are open or opening at once; an acquirer beyond
 * that waits in a bounded queue for a released connection, at most {@code acquireTimeout} (like
 * HAProxy's {@code maxconn} and {@code timeout queue}). Idle connections are lent most recently
 * used first, preferring one on the requester's event loop (no thread hop per message), so that
 * surplus ones stay idle and are evicted by the per-connection idle timer (see {@link
 * BackendHandler}); one idle past its backend's announced keep-alive timeout is closed instead of
 * lent. A connection that the backend closes while idle leaves the pool
 * as soon as its event loop sees the close. After {@link #close()}, idle connections are closed at
 * once and connections in use are closed when released: in-flight requests finish.
 *
 * <p>Thread-safe: state is guarded by a private lock held only for bookkeeping, never across I/O
 * or while completing a promise.
 */
final class ConnectionPool {

  /** A lent connection; {@code reused} when it already carried a request. */
  record Lease(Channel channel, boolean reused) {}

  private record Waiter(EventLoop loop, Promise<Lease> promise) {}

  // set once the pool stopped counting a channel, so that it is uncounted exactly once
  private static final AttributeKey<AtomicBoolean> UNCOUNTED = AttributeKey.valueOf("scalestack.pool.uncounted");

  private final String backendName;
  private final InetSocketAddress address;
  private final Bootstrap bootstrap;
  private final int maxConnections;
  private final int maxWaiters;
  private final long acquireTimeoutNanos;

  // how many idle connections are searched for one on the requester's event loop
  private static final int SAME_LOOP_SCAN = 8;

  private final Object lock = new Object();
  private final ArrayDeque<Channel> idle = new ArrayDeque<>();
  private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
  private int open;
  private boolean closed;

  /**
   * @param bootstrap a configured bootstrap (channel type, options); its handler is replaced by
   *     the backend pipeline {@code installer} builds for each connection
   */
  ConnectionPool(
      String backendName,
      InetSocketAddress address,
      Bootstrap bootstrap,
      BackendHandler.Installer installer,
      int maxConnections,
      int maxWaiters,
      Duration acquireTimeout) {
    this.backendName = backendName;
    this.address = address;
    this.bootstrap = bootstrap.clone().handler(installer.initializer(this));
    this.maxConnections = maxConnections;
    this.maxWaiters = maxWaiters;
    this.acquireTimeoutNanos = acquireTimeout.toNanos();
  }

  /**
   * Lends an idle connection at once, or returns null when none is idle (or the pool is closed):
   * the common case under load, without the promise and listener of {@link #acquire}.
   */
  Channel pollIdle(EventLoop loop) {
    Channel reuse;
    List<Channel> expired = new ArrayList<>(0);
    synchronized (lock) {
      if (closed) {
        return null;
      }
      reuse = pollIdleLocked(loop, expired);
    }
    expired.forEach(Channel::close);
    return reuse;
  }

  /**
   * Lends a connection, on {@code loop}'s promise. Fails with the connect exception when a new
   * connection cannot be opened, or with {@link PoolUnavailableException}.
   *
   * @param fresh drop the idle connections and open a new one (after a pooled connection turned
   *     out to be stale)
   */
  Future<Lease> acquire(EventLoop loop, boolean fresh) {
    Promise<Lease> promise = loop.newPromise();
    List<Channel> dropped = new ArrayList<>(0);
    Channel reuse = null;
    boolean connect = false;
    Waiter waiter = null;
    String failure = null;
    synchronized (lock) {
      if (closed) {
        failure = "backend " + backendName + " was removed";
      } else {
        if (fresh) {
          dropped.addAll(idle);
          idle.clear();
          dropped.forEach(this::uncountLocked);
        }
        reuse = pollIdleLocked(loop, dropped);
        if (reuse == null) {
          if (open < maxConnections) {
            open++;
            connect = true;
          } else if (waiters.size() < maxWaiters) {
            waiter = new Waiter(loop, promise);
            waiters.add(waiter);
          } else {
            failure = "backend " + backendName + " has " + maxConnections + " connections busy and "
                + maxWaiters + " requests waiting";
          }
        }
      }
    }
    dropped.forEach(Channel::close);
    if (failure != null) {
      promise.setFailure(new PoolUnavailableException(failure));
    } else if (reuse != null) {
      promise.setSuccess(new Lease(reuse, true));
    } else if (connect) {
      connect(loop, promise);
    } else {
      Waiter queued = waiter;
      ScheduledFuture<?> timer = loop.schedule(() -> {
        boolean removed;
        synchronized (lock) {
          removed = waiters.remove(queued);
        }
        if (removed) {
          promise.tryFailure(new PoolUnavailableException("no connection to backend " + backendName
              + " freed up within " + TimeUnit.NANOSECONDS.toMillis(acquireTimeoutNanos) + " ms"));
        }
      }, acquireTimeoutNanos, TimeUnit.NANOSECONDS);
      promise.addListener(f -> timer.cancel(false));
    }
    return promise;
  }

  /**
   * The idle connection to lend: the most recently used one on {@code loop} among the last few
   * (so that the request and its backend connection share a thread), else the most recently used.
   * Connections idle past the backend's keep-alive timeout go to {@code expired} (uncounted).
   */
  private Channel pollIdleLocked(EventLoop loop, List<Channel> expired) {
    if (idle.isEmpty()) {
      return null;
    }
    long now = System.nanoTime();
    Channel fallback = null;
    int scanned = 0;
    var it = idle.descendingIterator();
    while (it.hasNext() && scanned < SAME_LOOP_SCAN) {
      Channel candidate = it.next();
      if (!candidate.isActive()) {
        // uncounted by its close listener
        it.remove();
        continue;
      }
      BackendHandler handler = BackendHandler.of(candidate);
      if (handler != null && handler.expired(now)) {
        it.remove();
        uncountLocked(candidate);
        expired.add(candidate);
        continue;
      }
      scanned++;
      if (candidate.eventLoop() == loop) {
        it.remove();
        return candidate;
      }
      if (fallback == null) {
        fallback = candidate;
      }
    }
    if (fallback != null) {
      idle.remove(fallback);
    }
    return fallback;
  }

  /**
   * Takes back a lent connection: pooled (or handed to a waiter) when {@code reusable}, closed
   * otherwise.
   */
  void release(Channel channel, boolean reusable) {
    Waiter waiter = null;
    boolean close = false;
    synchronized (lock) {
      if (!reusable || closed || !channel.isActive()) {
        close = true;
      } else {
        do {
          waiter = waiters.poll();
        } while (waiter != null && waiter.promise().isDone());
        if (waiter == null) {
          idle.addLast(channel);
        }
      }
    }
    if (close) {
      channel.close();
    } else if (waiter != null && !waiter.promise().trySuccess(new Lease(channel, true))) {
      release(channel, true);
    }
  }

  /** Closes {@code channel} if it is idle in the pool (its idle timer fired). */
  void evictIdle(Channel channel) {
    boolean removed;
    synchronized (lock) {
      removed = idle.remove(channel);
    }
    if (removed) {
      channel.close();
    }
  }

  /** Open or opening connections. */
  int activeConnections() {
    synchronized (lock) {
      return open;
    }
  }

  /** Connections idle in the pool. */
  int idleConnections() {
    synchronized (lock) {
      return idle.size();
    }
  }

  /** Closes idle connections now and lent ones when released; fails waiters. Idempotent. */
  void close() {
    List<Channel> toClose;
    List<Waiter> toFail;
    synchronized (lock) {
      closed = true;
      toClose = new ArrayList<>(idle);
      idle.clear();
      toFail = new ArrayList<>(waiters);
      waiters.clear();
    }
    toClose.forEach(Channel::close);
    for (Waiter waiter : toFail) {
      waiter.promise().tryFailure(new PoolUnavailableException("backend " + backendName + " was removed"));
    }
  }

  private void connect(EventLoop loop, Promise<Lease> promise) {
    ChannelFuture connected = bootstrap.clone(loop).connect(address);
    Channel channel = connected.channel();
    channel.closeFuture().addListener(f -> closed(channel));
    connected.addListener(f -> {
      if (f.isSuccess()) {
        if (!promise.trySuccess(new Lease(channel, false))) {
          release(channel, true);
        }
      } else {
        promise.tryFailure(f.cause());
      }
    });
  }

  private void closed(Channel channel) {
    synchronized (lock) {
      idle.remove(channel);
      uncountLocked(channel);
    }
    serveWaiters();
  }

  private void uncountLocked(Channel channel) {
    if (channel.attr(UNCOUNTED).setIfAbsent(new AtomicBoolean(true)) == null) {
      open--;
    }
  }

  // a slot freed up: open a connection for the first waiter still waiting
  private void serveWaiters() {
    while (true) {
      Waiter waiter;
      synchronized (lock) {
        if (closed || open >= maxConnections) {
          return;
        }
        waiter = waiters.poll();
        if (waiter == null) {
          return;
        }
        if (waiter.promise().isDone()) {
          continue;
        }
        open++;
      }
      connect(waiter.loop(), waiter.promise());
    }
  }
}
