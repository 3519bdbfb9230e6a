package io.scalestack.balancer;

import io.scalestack.balancer.internal.TaskScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A {@link TaskScheduler} whose tasks run only when the test says so, whatever their delay. */
final class ManualScheduler implements TaskScheduler {

  private final List<Task> pending = new ArrayList<>();

  private static final class Task {
    final Runnable runnable;
    volatile boolean cancelled;

    Task(Runnable runnable) {
      this.runnable = runnable;
    }
  }

  @Override
  public synchronized Cancellable schedule(Runnable runnable, Duration delay) {
    Task task = new Task(runnable);
    pending.add(task);
    return () -> task.cancelled = true;
  }

  /** Tasks scheduled and neither run nor cancelled. */
  synchronized int pending() {
    return (int) pending.stream().filter(t -> !t.cancelled).count();
  }

  /** Runs every task scheduled so far (tasks they schedule wait for the next call). */
  void runPending() {
    List<Task> due;
    synchronized (this) {
      due = new ArrayList<>(pending);
      pending.clear();
    }
    for (Task task : due) {
      if (!task.cancelled) {
        task.runnable.run();
      }
    }
  }
}
