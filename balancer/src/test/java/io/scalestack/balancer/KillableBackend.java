package io.scalestack.balancer;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link KillableBackendMain} running as a child process of the test JVM (same {@code java},
 * same class path), which {@link #kill} ends with SIGKILL. Not thread-safe.
 */
final class KillableBackend implements AutoCloseable {

  final String name;
  final Path postLog;
  private final Process process;
  private InetSocketAddress address;

  private KillableBackend(String name, Path postLog, Process process) {
    this.name = name;
    this.postLog = postLog;
    this.process = process;
  }

  /**
   * Launches the process; {@link #awaitAddress} waits for it to listen. Its POST log and its
   * standard error go to {@code dir}.
   */
  static KillableBackend launch(String name, Path dir, int maxDelayMillis) throws IOException {
    Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    Path postLog = dir.resolve(name + ".posts");
    Files.createFile(postLog);
    Process process = new ProcessBuilder(List.of(java.toString(),
        "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"),
        KillableBackendMain.class.getName(), name, postLog.toString(), Integer.toString(maxDelayMillis)))
        .redirectError(dir.resolve(name + ".stderr").toFile())
        .start();
    return new KillableBackend(name, postLog, process);
  }

  /** Waits until the process printed its port. */
  InetSocketAddress awaitAddress() throws IOException, InterruptedException {
    if (address != null) {
      return address;
    }
    BufferedReader out = process.inputReader();
    CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
      try {
        return out.readLine();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    String portLine;
    try {
      portLine = line.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("backend " + name + " did not print its port (alive: " + process.isAlive() + ")", e);
    }
    if (portLine == null || !portLine.startsWith("PORT ")) {
      throw new IOException("backend " + name + " printed '" + portLine + "' (expected: PORT <n>)");
    }
    address = new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(portLine.substring(5)));
    return address;
  }

  long pid() {
    return process.pid();
  }

  /**
   * {@code kill -9}: {@link Process#destroyForcibly()} sends SIGKILL on Linux, so the process
   * gets no chance to answer, flush or close anything; the kernel closes its sockets.
   */
  void kill() {
    process.destroyForcibly();
  }

  /** Waits for the process to end and returns its exit code (128 + 9 after a SIGKILL). */
  int awaitExit() throws InterruptedException {
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      throw new IllegalStateException("backend " + name + " still running 10 s after kill");
    }
    return process.exitValue();
  }

  /** The request ids of the POSTs this backend received, in order. */
  List<String> postIds() throws IOException {
    return Files.readAllLines(postLog);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }
}
