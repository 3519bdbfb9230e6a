package io.scalestack.controlplane;

import java.util.List;

/**
 * Turns a member's {@code scalestack} command-line arguments (for example {@code web --name web-1
 * --listen 127.0.1.11:8080 …}) into a process to start: which {@code java}, which class path, which
 * JVM options. The CLI supplies it, so the control plane need not know how it was itself launched.
 *
 * <p>Implementations must be thread-safe.
 */
@FunctionalInterface
public interface MemberLauncher {

  /**
   * The process for member {@code member} running the CLI with {@code arguments}. The supervisor
   * sets redirects and environment on the returned builder and starts it.
   *
   * @param heapMegabytes the member's maximum heap
   */
  ProcessBuilder command(String member, int heapMegabytes, List<String> arguments);
}
