package io.scalestack.engines.internal;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
    // All at once, as a crash of the machine would: the engine's children (PostgreSQL backends, a
    // Redis rewrite child) would notice the parent's death only eventually, and one that lingers
    // could still answer a client; a restart over the same data needs them gone too.
    process.destroyForcibly();
    descendants.forEach(ProcessHandle::destroyForcibly);
    while (true) {
      try {
        process.waitFor();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // the SIGKILL is sent; finishing the wait is quick and keeps the contract
      }
    }
    long deadline = System.nanoTime() + DESCENDANT_EXIT.toNanos();
    for (ProcessHandle descendant : descendants) {
      // Exited is enough: an orphan's exit status is for init to reap, which may take seconds, and a
      // zombie holds no memory, sockets or files (ProcessHandle.onExit() would wait for the reaping).
      while (descendant.isAlive() && !isZombie(descendant.pid())) {
        if (System.nanoTime() - deadline > 0) {
          log.warn("descendant pid {} of pid {} did not exit within {} after SIGKILL", descendant.pid(),
              process.pid(), DESCENDANT_EXIT);
          break;
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether {@code pid} has exited and waits to be reaped: state Z in /proc/PID/stat (proc(5)); false elsewhere. */
  private static boolean isZombie(long pid) {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "stat"));
      int afterName = stat.lastIndexOf(')'); // the name, in parentheses, may itself hold spaces and parentheses
      return afterName >= 0 && afterName + 2 < stat.length() && stat.charAt(afterName + 2) == 'Z';
    } catch (IOException | RuntimeException e) {
      return false; // gone (isAlive decides), or not Linux
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
