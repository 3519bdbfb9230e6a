package io.scalestack.balancer.internal;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a task once after a delay. The health checker paces its checks with one, so tests can
 * replace real time with a scheduler they advance by hand.
 *
 * <p>Implementations must be thread-safe and must not run the task on the calling thread from
 * within {@link #schedule}.
 */
public interface TaskScheduler {

  /** Runs {@code task} once, {@code delay} from now. */
  Cancellable schedule(Runnable task, Duration delay);

  /** A scheduled task that may be cancelled before it runs. */
  @FunctionalInterface
  interface Cancellable {
    /** Cancels the task if it has not started; idempotent. */
    void cancel();
  }

  /** A scheduler backed by {@code executor} (for example a Netty event loop group). */
  static TaskScheduler of(ScheduledExecutorService executor) {
    Objects.requireNonNull(executor, "executor");
    return (task, delay) -> {
      ScheduledFuture<?> future = executor.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS);
      return () -> future.cancel(false);
    };
  }
}
