package io.scalestack.cli;

import io.scalestack.balancer.Algorithm;
import io.scalestack.balancer.HealthCheck;
import io.scalestack.balancer.LbConfig;
import io.scalestack.balancer.LoadBalancer;
import io.scalestack.balancer.Mode;
import io.scalestack.balancer.Pool;
import io.scalestack.balancer.Sticky;
import io.scalestack.balancer.ProxyProtocol;
import io.scalestack.observability.Telemetry;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The load balancer as a standalone product ({@code scalestack lb --listen … --backend …}), and
 * the balancer member the control plane starts.
 */
@Command(name = "lb", mixinStandardHelpOptions = true,
    description = {"Run the load balancer alone (HTTP, or TCP with --mode tcp), from a file or from flags:",
        "  scalestack lb -c lb.yaml",
        "  scalestack lb --listen 127.0.0.1:8080 --backend 127.0.0.1:9001 --backend 127.0.0.1:9002",
        "  scalestack lb --mode tcp --listen 127.0.0.1:5432 --backend 127.0.0.1:15432 --backend 127.0.0.1:25432",
        "Flags given together with -c override the file."})
final class LbCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Option(names = {"-c", "--config"}, description = "lb.yaml: listeners, pools, routes, algorithms, health checks, stickiness (see the README).")
  Path config;

  @Option(names = "--name", defaultValue = "lb", description = "Member name (metrics and logs).")
  String name;

  @Option(names = "--listen", defaultValue = "127.0.1.1:8080", description = "host:port for clients (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--admin", description = "host:port of the admin API: /backends, /health, /metrics (default: port 8404 on the --listen host).")
  String admin;

  @Option(names = "--backend", description = "A backend, [name=]host:port; repeatable. More can be added at run time: PUT /backends/{name} on the admin API.")
  List<String> backends = new ArrayList<>();

  @Option(names = "--mode", defaultValue = "http",
      description = "http (an HTTP/1.1 reverse proxy) or tcp (relay each connection's bytes to one backend) (default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--accept-proxy-protocol", description = "Every client connection starts with a PROXY protocol v1 or v2 header (from HAProxy, nginx, a cloud load balancer); its source address stands for the client.")
  boolean acceptProxyProtocol;

  @Option(names = "--send-proxy-protocol", description = "v1 or v2: write a PROXY protocol header first on each backend connection (tcp mode; without -c, else sendProxyProtocol in lb.yaml).")
  String sendProxyProtocol;

  @Option(names = "--sticky", description = "Session persistence for the pool: insert:COOKIE (the balancer's own signed cookie), prefix:COOKIE (on the application's cookie) or source (client address); without -c.")
  String sticky;

  @Option(names = "--panic-threshold", description = "Below this percentage of healthy backends the pool uses every backend, as Envoy's panic mode (default 0: never); without -c.")
  Integer panicThreshold;

  @Option(names = "--health-type", description = "http (GET --health-path) or tcp (a connect) (default: http, tcp with --mode tcp).")
  String healthType;

  @Option(names = "--algorithm", defaultValue = "round-robin",
      description = "round-robin, least-connections, response-time, random, source-hash, hash or bandwidth (default: ${DEFAULT-VALUE}).")
  String algorithm;

  @Option(names = "--retries", defaultValue = "3", description = "Retries on another backend (default: ${DEFAULT-VALUE}).")
  int retries;

  @Option(names = "--retry-idempotent", description = "Retry an idempotent request (GET, HEAD, PUT, DELETE …) on another backend when its connection died before any response byte, within a 20% retry budget. A POST is never sent twice.")
  boolean retryIdempotent;

  @Option(names = "--health-path", defaultValue = "/health")
  String healthPath;

  @Option(names = "--health-interval-millis", defaultValue = "1000")
  long healthIntervalMillis;

  @Option(names = "--health-timeout-millis", defaultValue = "1000")
  long healthTimeoutMillis;

  @Option(names = "--rise", defaultValue = "2", description = "Consecutive passed checks to go UP.")
  int rise;

  @Option(names = "--fall", defaultValue = "2", description = "Consecutive failed checks to go DOWN.")
  int fall;

  @Option(names = "--io-threads", description = "Event-loop threads (default: the number of cores).")
  Integer ioThreads;

  @Option(names = "--tls-cert", description = "PEM certificate chain: terminate TLS on --listen, with ALPN h2 and http/1.1 (needs --tls-key).")
  Path tlsCert;

  @Option(names = "--tls-key", description = "PEM PKCS#8 private key of --tls-cert.")
  Path tlsKey;

  @Option(names = "--admin-token", description = "Require Authorization: Bearer TOKEN on the admin API (except /health).")
  String adminToken;

  @Option(names = "--access-log", description = "Log one line per request (logger io.scalestack.balancer.access); off by default, as in HAProxy without 'option httplog'.")
  boolean accessLog;

  @Option(names = "--log-file", description = "JSON-lines log file (default: log to stderr).")
  Path logFile;

  @Option(names = "--parent-pid", defaultValue = "0", hidden = true)
  long parentPid;

  @Override
  public Integer call() throws Exception {
    MemberRuntime.logTo(name, logFile);
    ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger("io.scalestack.balancer.access"))
        .setLevel(accessLog ? ch.qos.logback.classic.Level.INFO : ch.qos.logback.classic.Level.OFF);
    LoadBalancer.Builder builder;
    try {
      builder = config != null ? LbConfig.load(config) : LoadBalancer.builder();
      // Without a file every flag applies (with its default); with one, only the flags given.
      boolean all = config == null;
      if (all || given("--listen") || given("--admin")) {
        var listenAddress = Addresses.parse("--listen", listen);
        builder.listen(listenAddress).adminListen(admin != null ? Addresses.parse("--admin", admin)
            : new InetSocketAddress(listenAddress.getHostString(), 8404));
      }
      Mode chosenMode = Mode.parse(mode);
      if (all || given("--mode")) {
        builder.mode(chosenMode);
      }
      if (acceptProxyProtocol) {
        builder.acceptProxyProtocol(true);
      }
      if (all || given("--algorithm")) {
        builder.algorithm(Algorithm.parse(algorithm));
      }
      if (sendProxyProtocol != null || sticky != null || panicThreshold != null) {
        String flag = sendProxyProtocol != null ? "--send-proxy-protocol" : sticky != null ? "--sticky" : "--panic-threshold";
        if (!all) {
          throw new IllegalArgumentException(flag + ": given with -c (expected: " + (sendProxyProtocol != null
              ? "sendProxyProtocol" : sticky != null ? "sticky" : "panicThresholdPercent") + " in the pool of lb.yaml)");
        }
        Pool.Builder pool = Pool.builder(Pool.DEFAULT).algorithm(Algorithm.parse(algorithm));
        if (sendProxyProtocol != null) {
          pool.sendProxyProtocol(ProxyProtocol.parse(sendProxyProtocol));
        }
        if (sticky != null) {
          pool.sticky(Sticky.parse(sticky));
        }
        if (panicThreshold != null) {
          pool.panicThresholdPercent(panicThreshold);
        }
        builder.pool(pool.build());
      }
      if (all || given("--retries")) {
        builder.retries(retries);
      }
      if (retryIdempotent) {
        builder.retryIdempotent(true);
      }
      if (all || given("--health-path") || given("--health-interval-millis") || given("--health-timeout-millis")
          || given("--rise") || given("--fall") || given("--health-type")) {
        HealthCheck.Type type = healthType != null ? healthType(healthType)
            : chosenMode == Mode.TCP ? HealthCheck.Type.TCP : HealthCheck.Type.HTTP;
        builder.healthCheck(HealthCheck.builder()
            .type(type)
            .path(healthPath)
            .interval(Duration.ofMillis(healthIntervalMillis))
            .timeout(Duration.ofMillis(healthTimeoutMillis))
            .rise(rise)
            .fall(fall)
            .build());
      }
      if (ioThreads != null) {
        builder.ioThreads(ioThreads);
      }
      if (adminToken != null) {
        builder.adminToken(adminToken);
      }
      if (tlsCert != null || tlsKey != null) {
        if (tlsCert == null || tlsKey == null) {
          throw new IllegalArgumentException("--tls-cert and --tls-key: only one given (expected: both)");
        }
        builder.tls(tlsCert, tlsKey);
      }
      builder.telemetry(Telemetry.forMember(name));
      int index = 1;
      for (String backend : backends) {
        int eq = backend.indexOf('=');
        String backendName = eq > 0 ? backend.substring(0, eq) : "backend-" + index;
        builder.backend(backendName, Addresses.parse("--backend", eq > 0 ? backend.substring(eq + 1) : backend));
        index++;
      }
    } catch (IllegalArgumentException e) { // LbConfigException too: file, line, field, value, expected
      throw new BadInputException(e.getMessage(), e);
    }
    LoadBalancer built;
    try {
      built = builder.build();
    } catch (IllegalArgumentException e) { // an unusable TLS certificate or key, or a setting the mode cannot use, named
      throw new BadInputException(e.getMessage(), e);
    }
    LoadBalancer balancer = built.start();
    PrintWriter out = spec.commandLine().getOut();
    String scheme = config == null && Mode.parse(mode) == Mode.TCP ? "tcp" : tlsCert != null ? "https" : "http";
    out.println("lb: serving " + scheme + "://" + hostPort(balancer.address()) + "/  admin http://" + hostPort(balancer.adminAddress()) + "/backends");
    out.flush();
    MemberRuntime.runUntilStopped(name, parentPid, balancer);
    return 0;
  }

  private static HealthCheck.Type healthType(String value) {
    return switch (value.strip().toLowerCase(java.util.Locale.ROOT)) {
      case "http" -> HealthCheck.Type.HTTP;
      case "tcp" -> HealthCheck.Type.TCP;
      default -> throw new IllegalArgumentException("--health-type: '" + value + "' (expected: http or tcp)");
    };
  }

  private boolean given(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  private static String hostPort(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }
}
