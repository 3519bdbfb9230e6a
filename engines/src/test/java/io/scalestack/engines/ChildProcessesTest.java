package io.scalestack.engines;

import static io.scalestack.engines.EngineTestSupport.engineCache;
import static io.scalestack.engines.EngineTestSupport.isDead;
import static io.scalestack.engines.EngineTestSupport.newDirectory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ChildProcessesTest {

  /** Starts {@link ParentJvmMain}, returns it and the pid it printed. */
  private static Process startParentJvm(List<String> arguments, long[] childPid) throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    // Surefire may run us from a manifest-only jar; its real test class path is in this property.
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command = new ArrayList<>(List.of(java, "-cp", classPath, ParentJvmMain.class.getName()));
    command.addAll(arguments);
    Path output = newDirectory("parent-jvm").resolve("output.log");
    Process parent = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
    parent.getOutputStream().close();
    await().atMost(Duration.ofSeconds(30)).until(() -> pidLine(output) != null || !parent.isAlive());
    String line = pidLine(output);
    if (line == null) {
      throw new AssertionError("parent JVM exited with " + parent.waitFor() + " before printing a pid:\n"
          + Files.readString(output));
    }
    childPid[0] = Long.parseLong(line.substring("PID ".length()).trim());
    return parent;
  }

  private static String pidLine(Path output) throws Exception {
    try (Stream<String> lines = Files.lines(output)) {
      return lines.filter(line -> line.startsWith("PID ")).findFirst().orElse(null);
    }
  }

  @Test
  void childDiesWhenItsParentJvmIsKilledWithSigkill() throws Exception {
    long[] child = new long[1];
    Process parent = startParentJvm(List.of("sleep"), child);
    try {
      assertThat(ProcessHandle.of(child[0]).flatMap(h -> h.info().command())).hasValueSatisfying(
          command -> assertThat(command).endsWith("sleep")); // setpriv exec'd: the pid is sleep's own
      assertThat(isDead(child[0])).isFalse();

      parent.destroyForcibly().waitFor();

      await().atMost(Duration.ofSeconds(5)).until(() -> isDead(child[0]));
    } finally {
      parent.destroyForcibly();
      ProcessHandle.of(child[0]).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void redisDiesWhenItsParentJvmIsKilledWithSigkill() throws Exception {
    long[] redis = new long[1];
    Path data = newDirectory("redis-orphan");
    Process parent = startParentJvm(List.of("redis", data.toString(), engineCache().toString()), redis);
    try {
      assertThat(isDead(redis[0])).isFalse();

      parent.destroyForcibly().waitFor();

      await().atMost(Duration.ofSeconds(5)).until(() -> isDead(redis[0]));
    } finally {
      parent.destroyForcibly();
      ProcessHandle.of(redis[0]).ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void childOutlivesTheThreadThatAskedForIt() throws Exception {
    AtomicReference<Process> child = new AtomicReference<>();
    Thread requester = Thread.ofPlatform().start(() ->
        child.set(ChildProcesses.start(new ProcessBuilder("sleep", "300"), ParentDeathSignal.KILL)));
    requester.join();
    try {
      // With a fork from the requester, PR_SET_PDEATHSIG would have fired when it ended just now.
      await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(2)).until(() -> child.get().isAlive());
    } finally {
      child.get().destroyForcibly().waitFor();
    }
  }

  @Test
  void childLeadsASessionOfItsOwnSoATerminalsCtrlCReachesOnlyTheParent() throws Exception {
    Process child = ChildProcesses.start(new ProcessBuilder("sleep", "300"), ParentDeathSignal.KILL);
    try {
      // /proc/PID/stat: "pid (comm) state ppid pgrp session ..." (proc(5)); comm has no spaces here.
      Path procStat = Path.of("/proc/" + child.pid() + "/stat");
      // setpriv and setsid exec in place, so the pid becomes the program's once both have run.
      await().atMost(Duration.ofSeconds(5)).until(() -> Files.readString(procStat).split(" ")[1].equals("(sleep)"));
      String[] stat = Files.readString(procStat).split(" ");
      String[] ours = Files.readString(Path.of("/proc/self/stat")).split(" ");

      assertThat(Long.parseLong(stat[5])).as("session id").isEqualTo(child.pid()).isNotEqualTo(Long.parseLong(ours[5]));
      assertThat(Long.parseLong(stat[3])).as("parent").isEqualTo(ProcessHandle.current().pid());
    } finally {
      child.destroyForcibly().waitFor();
    }
  }

  @Test
  void keepsTheBuildersRedirectsAndDoesNotModifyIt() throws Exception {
    Path out = newDirectory("child-output").resolve("out.txt");
    ProcessBuilder builder = new ProcessBuilder("sh", "-c", "echo hello from $0")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()));

    Process process = ChildProcesses.start(builder, ParentDeathSignal.TERM);

    assertThat(process.waitFor()).isZero();
    assertThat(out).content().isEqualTo("hello from sh\n");
    assertThat(builder.command()).containsExactly("sh", "-c", "echo hello from $0");
  }

  @Test
  void failsClearlyForAMissingProgram() {
    assertThatThrownBy(() -> ChildProcesses.start(new ProcessBuilder("/nonexistent/program"), ParentDeathSignal.TERM))
        .isInstanceOf(EngineException.class)
        .hasMessage("could not start /nonexistent/program: no such executable file");
    assertThatThrownBy(() -> ChildProcesses.start(new ProcessBuilder("no-such-program-here"), ParentDeathSignal.TERM))
        .isInstanceOf(EngineException.class)
        .hasMessageStartingWith("could not start no-such-program-here: not found on the PATH");
  }

  @Test
  void knowsWhetherItRunsAsRoot() throws Exception {
    Process id = new ProcessBuilder("id", "-u").start();
    String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();

    assertThat(ChildProcesses.isRoot()).isEqualTo(uid.equals("0"));
  }
}
