package io.scalestack.controlplane.internal;

import java.util.concurrent.CompletableFuture;

/** One started incarnation of a member: its process, and how to stop it. Thread-safe. */
public interface Running {

  /** The operating-system process id. */
  long pid();

  /** Completes when the process has exited, for whatever reason. */
  CompletableFuture<?> exited();

  /** Graceful stop; returns once the process is gone. */
  void stop();

  /** {@code kill -9}; returns once the process is gone. */
  void kill();

  /** How long a member JVM has to stop after TERM before it is killed, unless told otherwise. */
  java.time.Duration DEFAULT_STOP_GRACE = java.time.Duration.ofSeconds(10);

  /** A running process we started ourselves (a member JVM). */
  static Running of(Process process) {
    return of(process, DEFAULT_STOP_GRACE);
  }

  /** A running process we started ourselves, which gets {@code stopGrace} between TERM and KILL. */
  static Running of(Process process, java.time.Duration stopGrace) {
    return new Running() {
      @Override
      public long pid() {
        return process.pid();
      }

      @Override
      public CompletableFuture<?> exited() {
        return process.onExit();
      }

      @Override
      public void stop() {
        process.destroy(); // SIGTERM: the member's shutdown hook closes it gracefully
        try {
          if (!process.waitFor(stopGrace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            process.destroyForcibly().waitFor();
          }
        } catch (InterruptedException e) {
          process.destroyForcibly();
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void kill() {
        process.destroyForcibly();
        process.onExit().join();
      }
    };
  }
}
