package io.scalestack.controlplane.internal;

import io.scalestack.controlplane.MemberStatus;
import io.scalestack.controlplane.MemberStatus.MemberState;
import io.scalestack.controlplane.SupervisorListener;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One supervised member: starts it, waits for it to be healthy, watches its process and starts it
 * again when it dies (unless it is being stopped), with a back-off that doubles while it keeps
 * dying young.
 *
 * <p>State changes happen under this object's lock; blocking work (start, health wait, stop) runs
 * on the injected executor (virtual threads), delays on the injected scheduler.
 */
public final class ManagedMember {

  /** Launches one incarnation; returns once the process runs (not yet healthy). */
  @FunctionalInterface
  public interface Starter {
    Running start() throws Exception;
  }

  /** Blocks until the incarnation is healthy, or throws. */
  @FunctionalInterface
  public interface Readiness {
    void await(Running running, Duration timeout) throws Exception;
  }

  /** Called, on the executor, when an incarnation becomes healthy or dies. */
  public interface Hooks {
    default void healthy(ManagedMember member) throws Exception {}

    default void died(ManagedMember member) throws Exception {}
  }

  private static final Logger log = LoggerFactory.getLogger(ManagedMember.class);
  private static final Duration YOUNG = Duration.ofSeconds(10);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final String name;
  private final String role;
  private final String address;
  private final Starter starter;
  private final Readiness readiness;
  private final Hooks hooks;
  private final boolean restart;
  private final Duration restartDelay;
  private final Duration startupTimeout;
  private final Executor executor;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final SupervisorListener listener;

  private MemberState state = MemberState.STOPPED;
  private Running running;
  private Instant startedAt;
  private int restarts;
  private Duration backoff;
  private boolean stopping;

  public ManagedMember(
      String name,
      String role,
      String address,
      Starter starter,
      Readiness readiness,
      Hooks hooks,
      boolean restart,
      Duration restartDelay,
      Duration startupTimeout,
      Executor executor,
      ScheduledExecutorService scheduler,
      Clock clock,
      SupervisorListener listener) {
    this.name = name;
    this.role = role;
    this.address = address;
    this.starter = starter;
    this.readiness = readiness;
    this.hooks = hooks;
    this.restart = restart;
    this.restartDelay = restartDelay;
    this.startupTimeout = startupTimeout;
    this.executor = executor;
    this.scheduler = scheduler;
    this.clock = clock;
    this.listener = listener;
    this.backoff = restartDelay;
  }

  public String name() {
    return name;
  }

  public String role() {
    return role;
  }

  public String address() {
    return address;
  }

  /** Starts the member and blocks until it is healthy; on failure it is left FAILED and this throws. */
  public void start() throws Exception {
    synchronized (this) {
      stopping = false;
    }
    launch();
  }

  private void launch() throws Exception {
    transition(MemberState.STARTING, "starting");
    Running incarnation;
    try {
      incarnation = starter.start();
    } catch (Exception e) {
      transition(MemberState.FAILED, "failed to start: " + e.getMessage());
      throw e;
    }
    synchronized (this) {
      running = incarnation;
      startedAt = clock.instant();
    }
    incarnation.exited().whenComplete((ignored, error) -> executor.execute(() -> onExit(incarnation)));
    try {
      readiness.await(incarnation, startupTimeout);
    } catch (Exception e) {
      synchronized (this) {
        if (running == incarnation) {
          running = null; // so that its exit is not taken for a crash to recover from
        }
      }
      incarnation.kill();
      transition(MemberState.FAILED, "not healthy: " + e.getMessage());
      throw e;
    }
    synchronized (this) {
      if (running != incarnation || stopping) {
        return; // stopped or died while we waited
      }
    }
    hooks.healthy(this);
    transition(MemberState.HEALTHY, "pid " + incarnation.pid());
  }

  private void onExit(Running incarnation) {
    boolean again;
    Duration delay;
    synchronized (this) {
      if (running != incarnation) {
        return;
      }
      running = null;
      if (stopping) {
        return;
      }
      boolean young = startedAt != null && Duration.between(startedAt, clock.instant()).compareTo(YOUNG) < 0;
      backoff = young ? min(backoff.multipliedBy(2), MAX_BACKOFF) : restartDelay;
      delay = young ? backoff : restartDelay;
      again = restart && state != MemberState.FAILED;
    }
    try {
      hooks.died(this);
    } catch (Exception e) {
      log.warn("{}: cleaning up after its death failed: {}", name, e.toString());
    }
    if (!again) {
      transition(MemberState.FAILED, "process " + incarnation.pid() + " died; restart is off");
      return;
    }
    transition(MemberState.RESTARTING, "process " + incarnation.pid() + " died; restarting in " + delay.toMillis() + " ms");
    scheduler.schedule(() -> executor.execute(this::restart), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void restart() {
    synchronized (this) {
      if (stopping) {
        return;
      }
      restarts++;
    }
    try {
      launch();
    } catch (Exception e) {
      log.warn("{}: restart failed: {}", name, e.toString());
      synchronized (this) {
        if (stopping) {
          return;
        }
        state = MemberState.RESTARTING;
      }
      scheduler.schedule(() -> executor.execute(this::restart), backoff.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Stops the member gracefully and for good; returns once its process is gone. */
  public void stop() {
    Running incarnation;
    synchronized (this) {
      stopping = true;
      incarnation = running;
      running = null;
    }
    if (incarnation != null) {
      incarnation.stop();
    }
    transition(MemberState.STOPPED, "stopped");
  }

  /** {@code kill -9} of the current process; the supervisor then restarts it as after any crash. */
  public boolean kill() {
    Running incarnation;
    synchronized (this) {
      incarnation = running;
    }
    if (incarnation == null) {
      return false;
    }
    log.info("{}: chaos: kill -9 {}", name, incarnation.pid());
    incarnation.kill();
    return true;
  }

  /** A snapshot, without the balancer's view. */
  public synchronized MemberStatus status() {
    Duration uptime = running == null || startedAt == null ? Duration.ZERO : Duration.between(startedAt, clock.instant());
    return new MemberStatus(name, role, address, state, running == null ? -1 : running.pid(), restarts, uptime, "", 0, 0);
  }

  private void transition(MemberState next, String detail) {
    synchronized (this) {
      state = next;
    }
    log.info("{}: {} ({})", name, next, detail);
    listener.onMemberEvent(name, next, detail);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
