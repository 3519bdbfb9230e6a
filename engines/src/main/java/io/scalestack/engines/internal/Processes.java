package io.scalestack.engines.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Stopping engine processes: a graceful signal first, SIGKILL when that does not work in time. */
public final class Processes {

  private static final Logger log = LoggerFactory.getLogger(Processes.class);
  private static final Duration DESCENDANT_EXIT = Duration.ofSeconds(5);

  private Processes() {}

  /**
   * Sends {@code gracefulSignal} ({@code TERM} through {@link Process#destroy()}, anything else with
   * {@code kill(1)}), waits up to {@code grace}, then kills the process and any descendant it left
   * behind. Returns only when the process has exited; an interrupt shortens the wait to a SIGKILL
   * and is kept set on return.
   */
  public static void stop(Process process, String gracefulSignal, Duration grace, String name) {
    if (!process.isAlive()) {
      return;
    }
    List<ProcessHandle> descendants = process.descendants().toList();
    boolean interrupted = false;
    try {
      if ("TERM".equals(gracefulSignal)) {
        process.destroy();
      } else {
        signal(process.pid(), gracefulSignal);
      }
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("{} (pid {}) did not stop within {} after SIG{}; killing it", name, process.pid(), grace, gracefulSignal);
      }
    } catch (InterruptedException e) {
      interrupted = true;
      log.warn("interrupted while stopping {} (pid {}); killing it", name, process.pid());
    } finally {
      killAndWait(process, descendants);
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** SIGKILLs the process now, then any descendant it had, and waits until the process has exited. */
  public static void kill(Process process) {
    killAndWait(process, process.descendants().toList());
  }

  private static void killAndWait(Process process, List<ProcessHandle> descendants) {
    boolean interrupted = false;
    process.destroyForcibly();
    while (true) {
      try {
        process.waitFor();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the SIGKILL is sent; finishing the wait is quick and keeps the contract
      }
    }
    // Children of an engine (PostgreSQL backends, a Redis rewrite child) notice the parent's death
    // only eventually; a restart over the same data needs them gone now.
    for (ProcessHandle descendant : descendants) {
      if (descendant.isAlive()) {
        descendant.destroyForcibly();
        try {
          descendant.onExit().get(DESCENDANT_EXIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException | TimeoutException e) {
          log.warn("descendant pid {} of pid {} did not exit after SIGKILL", descendant.pid(), process.pid(), e);
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Sends {@code signal} (a name such as {@code INT}) to {@code pid} with {@code kill(1)}. */
  public static void signal(long pid, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(pid))
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      kill.getOutputStream().close();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        log.warn("kill -s {} {} did not finish within 10 s", signal, pid);
      } else if (kill.exitValue() != 0) {
        log.warn("kill -s {} {} exited with {}", signal, pid, kill.exitValue());
      }
    } catch (IOException e) {
      log.warn("cannot run kill -s {} {}", signal, pid, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
