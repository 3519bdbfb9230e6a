package io.scalestack.engines;

import java.nio.file.Path;

/**
 * A parent JVM for the parent-death tests: starts a child through {@link ChildProcesses} (or a
 * {@link RedisServer}), prints {@code PID <pid>} and waits to be killed.
 *
 * <p>Arguments: {@code sleep} or {@code redis <dataDirectory> <engineCache>}.
 */
public final class ParentJvmMain {

  private ParentJvmMain() {}

  public static void main(String[] args) throws Exception {
    long pid;
    if (args[0].equals("sleep")) {
      // Started from a thread that ends at once: the child must survive that thread (see ChildProcesses).
      long[] started = new long[1];
      Thread starter = Thread.ofVirtual().start(() ->
          started[0] = ChildProcesses.start(new ProcessBuilder("sleep", "300"), ParentDeathSignal.TERM).pid());
      starter.join();
      pid = started[0];
    } else {
      pid = RedisServer.builder()
          .port(0)
          .dataDirectory(Path.of(args[1]))
          .engineCache(Path.of(args[2]))
          .build()
          .start()
          .pid();
    }
    System.out.println("PID " + pid);
    System.out.flush();
    Thread.sleep(300_000);
  }
}
