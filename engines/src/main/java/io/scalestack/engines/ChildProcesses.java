package io.scalestack.engines;

import io.scalestack.engines.internal.OsUser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts child processes that die with their parent (the JVM), even when the parent is killed with
 * {@code kill -9} and has no chance to run shutdown hooks.
 *
 * <h2>Mechanism</h2>
 *
 * <p>On Linux the command is wrapped as {@code setpriv --pdeathsig SIG -- command...} (util-linux).
 * {@code setpriv} sets {@code PR_SET_PDEATHSIG} and then {@code exec}s the command, so the returned
 * {@link Process#pid()} is the engine's own pid. When the JVM runs as root and the child must run as
 * another user, the same {@code setpriv} call also switches the real and effective uid and gid and
 * initializes the supplementary groups; it sets the death signal after those changes (the kernel
 * clears it on a credential change).
 *
 * <p>The child also gets a session of its own ({@code setsid}, which {@code exec}s in place: a
 * child of the JVM is never a process-group leader, so it does not fork). A terminal's Ctrl-C then
 * reaches only the parent, which stops its children in its own order — the balancer before the
 * web servers before the engines — instead of every process at once.
 *
 * <h2>Why one launcher thread</h2>
 *
 * <p>{@code PR_SET_PDEATHSIG} fires when the <em>thread</em> that forked the child exits, not when
 * the process exits. Virtual-thread carriers, pool threads and request threads come and go, and a
 * child forked by one of them would be signalled as soon as that thread ended. Therefore every
 * {@link ProcessBuilder#start()} made here runs on one dedicated, long-lived platform daemon thread
 * ({@code scalestack-child-launcher}), created on first use and never stopped; callers block until
 * their process has been started. This thread is the only global state of this module.
 *
 * <p>Without {@code setpriv} (macOS, minimal Linux images) children are started plainly and a
 * warning is logged once: they then survive a {@code kill -9} of the JVM.
 *
 * <p>Thread-safe: any thread, including virtual threads, may call {@link #start}.
 */
public final class ChildProcesses {

  private static final Logger log = LoggerFactory.getLogger(ChildProcesses.class);
  private static final AtomicBoolean warnedNoSetpriv = new AtomicBoolean();

  private ChildProcesses() {}

  /**
   * Starts {@code builder}'s command so that the child receives {@code signal} when this JVM dies.
   * The builder is not modified; its directory, environment and redirects are used as they are.
   *
   * @throws EngineException if the process could not be started
   */
  public static Process start(ProcessBuilder builder, ParentDeathSignal signal) {
    return start(builder, signal, null);
  }

  /** Whether this JVM runs as root (uid 0). */
  public static boolean isRoot() {
    return Root.IS_ROOT;
  }

  /**
   * As {@link #start(ProcessBuilder, ParentDeathSignal)}, and when {@code runAs} is not null the
   * child runs as that user (only possible as root).
   */
  static Process start(ProcessBuilder builder, ParentDeathSignal signal, OsUser runAs) {
    Objects.requireNonNull(builder, "builder");
    Objects.requireNonNull(signal, "signal");
    List<String> original = List.copyOf(builder.command());
    if (original.isEmpty()) {
      throw new IllegalArgumentException("command: [] (expected: a program and its arguments)");
    }
    // setpriv would start and then fail to exec; check first so a typo fails here, clearly.
    checkExecutable(original.get(0), builder);
    List<String> command = new ArrayList<>();
    Optional<Path> setpriv = Setpriv.PATH;
    if (setpriv.isPresent()) {
      command.add(setpriv.get().toString());
      if (runAs != null) {
        command.add("--reuid=" + runAs.uid());
        command.add("--regid=" + runAs.gid());
        command.add("--init-groups");
      }
      command.add("--pdeathsig=" + signal.name());
      command.add("--");
      Setsid.PATH.ifPresent(setsid -> command.add(setsid.toString()));
    } else if (runAs != null) {
      throw new EngineException("cannot start " + original.get(0) + " as user " + runAs.name()
          + ": setpriv (util-linux) was not found on this host (expected: setpriv on the PATH,"
          + " or run the JVM as a non-root user)");
    } else if (warnedNoSetpriv.compareAndSet(false, true)) {
      log.warn("setpriv (util-linux) not found: child processes such as {} will not die"
          + " if this JVM is killed with kill -9", original.get(0));
    }
    command.addAll(original);

    ProcessBuilder copy = new ProcessBuilder(command)
        .directory(builder.directory())
        .redirectInput(builder.redirectInput())
        .redirectOutput(builder.redirectOutput())
        .redirectError(builder.redirectError())
        .redirectErrorStream(builder.redirectErrorStream());
    copy.environment().clear();
    copy.environment().putAll(builder.environment());
    return Launcher.INSTANCE.start(copy, original.get(0));
  }

  private static void checkExecutable(String program, ProcessBuilder builder) {
    if (program.indexOf('/') >= 0) {
      Path path = builder.directory() == null ? Path.of(program) : builder.directory().toPath().resolve(program);
      if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
        throw new EngineException("could not start " + program + ": no such executable file");
      }
      return;
    }
    String path = builder.environment().getOrDefault("PATH", "");
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return;
      }
    }
    throw new EngineException("could not start " + program + ": not found on the PATH (" + path + ")");
  }

  /** The one thread that forks every child; see the class Javadoc for why. */
  private static final class Launcher {

    static final Launcher INSTANCE = new Launcher();

    private final BlockingQueue<FutureTask<Process>> tasks = new LinkedBlockingQueue<>();

    private Launcher() {
      Thread.ofPlatform().name("scalestack-child-launcher").daemon(true).start(this::run);
    }

    private void run() {
      while (true) {
        FutureTask<Process> task;
        try {
          task = tasks.take();
        } catch (InterruptedException e) {
          // Nobody should interrupt this thread; it must outlive every child, so keep serving.
          log.warn("child launcher thread was interrupted; ignoring, children depend on it", e);
          continue;
        }
        task.run(); // FutureTask captures every Throwable, so this thread never dies
      }
    }

    Process start(ProcessBuilder builder, String program) {
      FutureTask<Process> task = new FutureTask<>(builder::start);
      tasks.add(task);
      boolean interrupted = false;
      try {
        while (true) {
          try {
            return task.get();
          } catch (InterruptedException e) {
            // The process may be forked already; wait for it rather than leak an unowned child.
            interrupted = true;
          } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw new EngineException("could not start " + program + ": " + cause.getMessage(), cause);
          }
        }
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  private static final class Setpriv {
    static final Optional<Path> PATH = find("setpriv");
  }

  private static final class Setsid {
    static final Optional<Path> PATH = find("setsid");
  }

  /** A util-linux program on the PATH or in /usr/bin, /bin; only on Linux. */
  private static Optional<Path> find(String program) {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      return Optional.empty();
    }
    List<Path> candidates = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      for (String dir : path.split(java.io.File.pathSeparator)) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, program));
        }
      }
    }
    candidates.add(Path.of("/usr/bin", program));
    candidates.add(Path.of("/bin", program));
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }

  private static final class Root {
    static final boolean IS_ROOT = detect();

    private static boolean detect() {
      try {
        // /proc/self belongs to the process's effective uid.
        return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
      } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
        log.debug("cannot read /proc/self owner; falling back to user.name", e);
        return "root".equals(System.getProperty("user.name"));
      }
    }
  }
}
