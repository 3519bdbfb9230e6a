package io.scalestack.cli;

import io.scalestack.controlplane.MemberLauncher;
import java.util.ArrayList;
import java.util.List;

/**
 * Launches members as JVMs running this very command line with this very class path: whatever
 * started the control plane (the {@code scalestack} script, a test, an IDE) starts its members.
 * Thread-safe (immutable).
 */
final class JvmMemberLauncher implements MemberLauncher {

  private final String java;
  private final String classPath;

  JvmMemberLauncher() {
    this(ProcessHandle.current().info().command().orElse(System.getProperty("java.home") + "/bin/java"),
        System.getProperty("java.class.path"));
  }

  JvmMemberLauncher(String java, String classPath) {
    this.java = java;
    this.classPath = classPath;
  }

  @Override
  public ProcessBuilder command(String member, int heapMegabytes, List<String> arguments) {
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-Xmx" + heapMegabytes + "m");
    // Small heaps, many JVMs on one laptop: the serial collector has the smallest footprint.
    command.add("-XX:+UseSerialGC");
    command.add("-XX:+ExitOnOutOfMemoryError");
    command.add("-Dscalestack.member=" + member);
    command.add("-cp");
    command.add(classPath);
    command.add(Main.class.getName());
    command.addAll(arguments);
    return new ProcessBuilder(command);
  }
}
