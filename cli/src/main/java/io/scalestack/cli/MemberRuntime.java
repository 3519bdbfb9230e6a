package io.scalestack.cli;

import io.scalestack.observability.JsonLogging;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every long-running member process does around its server: JSON logs to its file, exit
 * when the control plane that started it dies (a second line of defence after the parent-death
 * signal), and a graceful stop on SIGTERM that is cut short after a deadline.
 */
final class MemberRuntime {

  private static final Logger log = LoggerFactory.getLogger(MemberRuntime.class);
  /** A member must be gone within 5 s of its control plane's death; leave a margin. */
  private static final long STOP_DEADLINE_MILLIS = 3_500;

  private MemberRuntime() {}

  static void logTo(String member, Path logFile) {
    if (logFile != null) {
      JsonLogging.toFile(member, logFile);
    }
  }

  /** Blocks until the process is asked to stop, then runs {@code stop} within the deadline. */
  static void runUntilStopped(String member, long parentPid, AutoCloseable server) throws InterruptedException {
    runUntilStopped(member, parentPid, server, java.time.Duration.ofMillis(STOP_DEADLINE_MILLIS));
  }

  /** As above, with the time a graceful stop may take before the JVM halts. */
  static void runUntilStopped(String member, long parentPid, AutoCloseable server, java.time.Duration stopDeadline)
      throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      Thread deadline = Thread.ofPlatform().daemon().start(() -> {
        try {
          Thread.sleep(stopDeadline.toMillis());
          log.warn("{}: graceful stop took over {} ms; halting", member, stopDeadline.toMillis());
          Runtime.getRuntime().halt(1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      try {
        server.close();
        log.info("{}: stopped", member);
      } catch (Exception e) {
        log.warn("{}: stop failed: {}", member, e.toString());
      } finally {
        deadline.interrupt();
        JsonLogging.flushAndStop();
        stopped.countDown();
      }
    }, member + "-shutdown"));
    if (parentPid > 0) {
      ProcessHandle.of(parentPid).ifPresentOrElse(
          parent -> parent.onExit().thenRun(() -> {
            log.warn("{}: control plane (pid {}) is gone; stopping", member, parentPid);
            System.exit(0);
          }),
          () -> {
            log.warn("{}: control plane (pid {}) is already gone; stopping", member, parentPid);
            System.exit(0);
          });
    }
    stopped.await();
  }
}
