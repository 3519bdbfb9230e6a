package io.scalestack.cli;

import io.scalestack.edge.EdgeServer;
import io.scalestack.observability.Telemetry;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The CDN edge as a standalone process ({@code scalestack edge --listen … --origin …}), and the
 * edge member of the topology. The purge token comes from the environment, never from a flag
 * (flags show in {@code ps}).
 */
@Command(name = "edge", mixinStandardHelpOptions = true,
    description = {"Run the CDN edge: a caching reverse proxy (RFC 9111) in front of one origin:",
        "  scalestack edge --listen 127.0.0.1:18083 --origin http://127.0.0.1:18001",
        "Purge API (admin listener): POST /purge?url=/path or /purge?tag=KEY with Authorization: Bearer $SCALESTACK_EDGE_TOKEN;",
        "disabled when SCALESTACK_EDGE_TOKEN is not set."})
final class EdgeCommand implements Callable<Integer> {

  static final String TOKEN_ENV = "SCALESTACK_EDGE_TOKEN";

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = "--name", defaultValue = "edge", description = "Member name (metrics and logs).")
  String name;

  @Option(names = "--listen", defaultValue = "127.0.0.1:18083", description = "host:port for clients (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--origin", required = true, description = "The origin, http://host:port.")
  String origin;

  @Option(names = "--admin", description = "host:port of the admin API: /health, /metrics, /purge (default: port 8404 on the --listen host).")
  String admin;

  @Option(names = "--max-memory-mb", defaultValue = "256", description = "Memory tier bound in MiB (default: ${DEFAULT-VALUE}).")
  long maxMemoryMb;

  @Option(names = "--max-object-mb", defaultValue = "8", description = "Largest stored body in MiB; larger ones stream through (default: ${DEFAULT-VALUE}).")
  int maxObjectMb;

  @Option(names = "--disk-dir", description = "Directory of the disk tier (objects evicted from memory); off without it.")
  Path diskDir;

  @Option(names = "--max-disk-mb", description = "Disk tier bound in MiB (with --disk-dir; default 1024).")
  Long maxDiskMb;

  @Option(names = "--io-threads", description = "Event-loop threads (default: the number of cores).")
  Integer ioThreads;

  @Option(names = "--log-file", description = "JSON-lines log file (default: log to stderr).")
  Path logFile;

  @Option(names = "--parent-pid", defaultValue = "0", hidden = true)
  long parentPid;

  @Override
  public Integer call() throws Exception {
    MemberRuntime.logTo(name, logFile);
    EdgeServer.Builder builder = EdgeServer.builder();
    try {
      InetSocketAddress listenAddress = Addresses.parse("--listen", listen);
      builder.listen(listenAddress)
          .adminListen(admin != null ? Addresses.parse("--admin", admin) : new InetSocketAddress(listenAddress.getHostString(), 8404))
          .origin(origin);
      if (maxMemoryMb < 1 || maxMemoryMb > (1L << 20)) {
        throw new IllegalArgumentException("--max-memory-mb: " + maxMemoryMb + " (expected: 1..1048576)");
      }
      builder.maxMemoryBytes(maxMemoryMb << 20);
      if (maxObjectMb < 1 || maxObjectMb > 1024) {
        throw new IllegalArgumentException("--max-object-mb: " + maxObjectMb + " (expected: 1..1024)");
      }
      builder.maxObjectBytes(maxObjectMb << 20);
      if (maxDiskMb != null && diskDir == null) {
        throw new IllegalArgumentException("--max-disk-mb: given without --disk-dir (expected: both, or neither)");
      }
      if (diskDir != null) {
        long mb = maxDiskMb == null ? 1024 : maxDiskMb;
        if (mb < 1 || mb > (1L << 30)) {
          throw new IllegalArgumentException("--max-disk-mb: " + mb + " (expected: 1..1073741824)");
        }
        builder.disk(diskDir, mb << 20);
      }
      if (ioThreads != null) {
        builder.ioThreads(ioThreads);
      }
      String token = System.getenv(TOKEN_ENV);
      if (token != null && !token.isEmpty()) {
        try {
          builder.purgeToken(token);
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(TOKEN_ENV + ": (expected: at least 8 characters, no surrounding spaces)", e);
        }
      }
      builder.telemetry(Telemetry.forMember(name));
    } catch (IllegalArgumentException e) {
      throw new BadInputException(e.getMessage(), e);
    }
    EdgeServer edge = builder.build().start();
    PrintWriter out = spec.commandLine().getOut();
    out.println("edge: serving http://" + hostPort(edge.address()) + "/ from " + origin + "  admin http://"
        + hostPort(edge.adminAddress()) + "/metrics" + (System.getenv(TOKEN_ENV) == null ? "  (purge API off: no " + TOKEN_ENV + ")" : ""));
    out.flush();
    MemberRuntime.runUntilStopped(name, parentPid, edge);
    return 0;
  }

  private static String hostPort(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }
}
