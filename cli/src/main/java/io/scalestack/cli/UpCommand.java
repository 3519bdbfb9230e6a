package io.scalestack.cli;

import io.scalestack.controlplane.ConfigException;
import io.scalestack.controlplane.ConfigLoader;
import io.scalestack.controlplane.ControlPlane;
import io.scalestack.controlplane.MemberStatus;
import io.scalestack.controlplane.Supervisor;
import io.scalestack.controlplane.TopologyConfig;
import io.scalestack.observability.JsonLogging;
import io.scalestack.observability.Telemetry;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code scalestack up}: boot the whole topology and supervise it until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Boot the topology (engines, balancer, web servers, control plane) and run until Ctrl-C.")
final class UpCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-c", "--config"}, description = "Topology file (default: ./scalestack.yaml if present, else the built-in topology).")
  Path config;

  @Option(names = "--detach", description = "Start in the background and return once healthy; stop it with `scalestack down`.")
  boolean detach;

  @Override
  public Integer call() throws Exception {
    TopologyConfig topology = load(config);
    PrintWriter out = spec.commandLine().getOut();
    return detach ? detach(topology, out) : runInForeground(topology, out);
  }

  static TopologyConfig load(Path file) {
    try {
      if (file != null) {
        return ConfigLoader.load(file);
      }
      Path fallback = Path.of(ConfigLoader.DEFAULT_FILE);
      return Files.exists(fallback) ? ConfigLoader.load(fallback) : ConfigLoader.defaults();
    } catch (ConfigException e) {
      throw new BadInputException(e.getMessage(), e);
    }
  }

  private int runInForeground(TopologyConfig topology, PrintWriter out) throws Exception {
    long began = System.nanoTime();
    Path home = topology.home().toAbsolutePath();
    JsonLogging.toFile("controlplane", home.resolve("logs/controlplane.log"));
    Telemetry telemetry = Telemetry.forMember("controlplane");
    AtomicBoolean up = new AtomicBoolean();
    Supervisor supervisor = Supervisor.builder()
        .config(topology)
        .launcher(new JvmMemberLauncher())
        .listener((member, state, detail) -> {
          if (!up.get() || state != MemberStatus.MemberState.STARTING) {
            out.printf("  %-12s %-10s %s%n", member, state, detail);
            out.flush();
          }
        })
        .build();
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    ControlPlane[] plane = new ControlPlane[1];
    Runnable stopAll = () -> {
      if (stopping.compareAndSet(false, true)) {
        out.println("scalestack: stopping every member…");
        out.flush();
        if (plane[0] != null) {
          plane[0].close();
        }
        supervisor.close();
        out.println("scalestack: stopped.");
        out.flush();
        stopped.countDown();
      }
    };
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopAll.run();
      try {
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      JsonLogging.flushAndStop();
    }, "scalestack-stop"));

    try {
      plane[0] = ControlPlane.start(supervisor, telemetry, resolved(topology.controlPlane()), stopAll);
    } catch (IOException e) {
      throw new IOException("controlPlane.listen: " + hostPort(topology.controlPlane()) + " cannot be bound: " + e.getMessage()
          + " (is another `scalestack up` running? try `scalestack down`)", e);
    }
    out.println("scalestack: starting the topology of " + (config == null ? "the built-in configuration" : config) + " (logs in " + home.resolve("logs") + ")");
    out.flush();
    try {
      supervisor.start();
    } catch (Exception e) {
      stopAll.run();
      throw new IOException("start-up failed: " + e.getMessage() + " (see " + home.resolve("logs") + ")", e);
    }
    up.set(true);
    Files.createDirectories(home.resolve("run"));
    Files.writeString(home.resolve("run/controlplane.pid"), ProcessHandle.current().pid() + "\n");
    printUrls(topology, out, Duration.ofNanos(System.nanoTime() - began));
    out.println("Ctrl-C stops everything.");
    out.flush();
    stopped.await();
    return 0;
  }

  private int detach(TopologyConfig topology, PrintWriter out) throws Exception {
    Path home = topology.home().toAbsolutePath();
    Files.createDirectories(home.resolve("logs"));
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      command.add("/usr/bin/setsid"); // out of the terminal's session: Ctrl-C and hang-up there do not reach it
    }
    command.addAll(new JvmMemberLauncher().command("controlplane", 256, config == null ? List.of("up") : List.of("up", "-c", config.toString())).command());
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(home.resolve("logs/controlplane.out").toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .start();
    ControlPlaneClient client = new ControlPlaneClient("http://" + hostPort(topology.controlPlane()));
    long deadline = System.nanoTime() + topology.supervisor().startupTimeout().toNanos() + Duration.ofSeconds(30).toNanos();
    out.println("scalestack: starting in the background (pid " + process.pid() + ", output in " + home.resolve("logs/controlplane.out") + ")");
    out.flush();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("the background control plane exited with " + process.exitValue() + "; see " + home.resolve("logs/controlplane.out"));
      }
      if (Files.exists(home.resolve("run/controlplane.pid")) && client.reachable()
          && Files.readString(home.resolve("run/controlplane.pid")).trim().equals(String.valueOf(process.pid()))) {
        printUrls(topology, out, null);
        out.println("`scalestack down` stops it.");
        return 0;
      }
      Thread.sleep(200);
    }
    process.destroy();
    throw new IOException("the background control plane did not come up in time; see " + home.resolve("logs/controlplane.out"));
  }

  private static void printUrls(TopologyConfig topology, PrintWriter out, Duration took) {
    out.println();
    out.println("scalestack is up" + (took == null ? "" : String.format(" (%.1f s)", took.toMillis() / 1000.0)) + ":");
    out.println("  load balancer   http://" + hostPort(topology.balancer().listen()) + "/");
    out.println("  balancer admin  http://" + hostPort(topology.balancer().admin()) + "/backends");
    if (topology.edge().enabled()) {
      out.println("  CDN edge        http://" + hostPort(topology.edge().listen()) + "/");
    }
    out.println("  control plane   http://" + hostPort(topology.controlPlane()) + "/api/members");
    for (int i = 1; i <= topology.web().size(); i++) {
      out.println("  web-" + i + "           http://" + hostPort(topology.web().address(i)) + "/");
    }
    for (int i = 1; i <= topology.workers().size(); i++) {
      out.println("  worker-" + i + "        http://" + hostPort(topology.workers().address(i)) + "/health");
    }
    out.println("  redis           " + hostPort(topology.redis().listen()));
    out.println("  postgres        " + hostPort(topology.postgres().listen()) + "/" + topology.postgres().database());
    out.println();
  }

  private static String hostPort(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }

  private static InetSocketAddress resolved(InetSocketAddress address) {
    return new InetSocketAddress(address.getHostString(), address.getPort());
  }
}
