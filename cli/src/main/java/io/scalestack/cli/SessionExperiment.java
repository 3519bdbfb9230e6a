package io.scalestack.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.scalestack.controlplane.ConfigLoader;
import io.scalestack.controlplane.MemberStatus;
import io.scalestack.controlplane.Supervisor;
import io.scalestack.session.LocalSessionRepository;
import io.scalestack.session.RedisSessionRepository;
import io.scalestack.session.SessionData;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * One run of {@code scalestack experiment sessions} for one strategy: a real topology (balancer,
 * three web server JVMs, Redis, PostgreSQL) under the supervisor, users logged in through the
 * balancer, traffic, a kill -9, a scale-out and a scale-in, and what each did to the sessions.
 *
 * <p>Every figure comes from the run: request outcomes as the clients saw them, Redis's own
 * {@code INFO commandstats} and {@code INFO stats}, and each web server's {@code /metrics}
 * (sessions it holds, bytes it replicated). The memory columns multiply the heap one session
 * takes, measured in this JVM, by the sessions each server holds under the strategy.
 *
 * <p>Not thread-safe: one run at a time.
 */
final class SessionExperiment {

  static final List<String> STRATEGIES = List.of("local", "sticky", "clustered-backup", "clustered-all", "store");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PASSWORD = "correct horse battery";
  private static final int CLIENTS = 16;
  private static final int WEB_SERVERS = 3;

  /** What one strategy's run measured. */
  record Row(String strategy, long requests, long failedRequests, long loggedIn, long lostOnKill,
      long failedDuringKill, double roundTripsPerRequest, double redisCommandsPerRequest, double networkBytesPerRequest,
      double networkBytesPerLogin, double networkBytesPerLoginAtFour, long sessionsHeldAtFour,
      Map<String, Long> sessionsHeld, long newServerMillis, long aliveBeforeScaleIn, long lostOnScaleIn) {}

  private record User(String name, long id, Map<String, String> cookies) {}

  private final String strategy;
  private final int userCount;
  private final int trafficSeconds;
  private final PrintWriter log;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String net = "127.0." + ThreadLocalRandom.current().nextInt(100, 250);
  private final int lbPort = freePort();
  private final int redisPort = freePort();
  private String balancer;

  SessionExperiment(String strategy, int userCount, int trafficSeconds, PrintWriter log) {
    this.strategy = strategy;
    this.userCount = userCount;
    this.trafficSeconds = trafficSeconds;
    this.log = log;
  }

  Row run() throws Exception {
    Path home = Files.createTempDirectory("scalestack-experiment-");
    // PostgreSQL runs as an unprivileged user when we are root: it must reach its data directory
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path config = home.resolve("scalestack.yaml");
    Files.writeString(config, yaml(home));
    balancer = "http://" + net + ".1:" + lbPort;
    say("booting the balancer, %d web servers, Redis and PostgreSQL (home %s)", WEB_SERVERS, home);
    Supervisor supervisor = Supervisor.builder().config(ConfigLoader.load(config)).launcher(new JvmMemberLauncher()).build();
    try (RedisClient redisClient = RedisClient.create("redis://" + net + ".3:" + redisPort)) {
      supervisor.start();
      waitFor("the web servers to be UP at the balancer", Duration.ofSeconds(90), () -> webUp(supervisor, WEB_SERVERS));
      if (strategy.startsWith("clustered")) {
        waitFor("the session cluster to have every web server", Duration.ofSeconds(60), () ->
            webMetrics(supervisor, "scalestack_session_cluster_members").values().stream().allMatch(n -> n == WEB_SERVERS));
      }
      try (StatefulRedisConnection<String, String> redis = redisClient.connect()) {
        return measure(supervisor, redis);
      }
    } finally {
      say("stopping");
      supervisor.close();
      deleteQuietly(home);
    }
  }

  private Row measure(Supervisor supervisor, StatefulRedisConnection<String, String> redis) throws Exception {
    say("signing up and logging in %d users", userCount);
    long loginBytesBefore = sessionBytes(supervisor, redis);
    List<User> users = logIn(userCount, "u");
    // a login writes a new session: what that costs the store's or the cluster's network
    double bytesPerLogin = ratio(sessionBytes(supervisor, redis) - loginBytesBefore, userCount);
    long loggedIn = users.size();

    // traffic: what each request costs the store or the cluster, and how many fail
    Map<String, Long> commandsBefore = commandCalls(redis);
    long servedBefore = meRequestsServed(supervisor);
    long netBefore = redisNetBytes(redis);
    long clusterBefore = clusterBytes(supervisor);
    say("traffic for %d s", trafficSeconds);
    long[] steady = traffic(users, Duration.ofSeconds(trafficSeconds), null);
    Map<String, Long> commandsAfter = commandCalls(redis);
    // per request as the web servers counted them: a client retry or a balancer retry is a request too
    long requests = meRequestsServed(supervisor) - servedBefore;
    long roundTrips = delta(commandsBefore, commandsAfter, Set.of("evalsha", "eval"));
    long commands = delta(commandsBefore, commandsAfter, null);
    long networkBytes = sessionBytes(supervisor, redis) - (strategy.equals("store") ? netBefore : clusterBefore);
    Map<String, Long> held = sessionsHeld(supervisor);

    // kill -9 web-2 under the same traffic
    say("kill -9 web-2 under traffic");
    long[] duringKill = traffic(users, Duration.ofSeconds(trafficSeconds), () -> supervisor.kill("web-2"));
    waitFor("web-2 to be restarted and UP", Duration.ofSeconds(90), () -> webUp(supervisor, WEB_SERVERS));
    long lostOnKill = users.size() - alive(users);

    // scale out: how long until web-4 answers a request
    say("adding web-4");
    long start = System.nanoTime();
    supervisor.scale("web", WEB_SERVERS + 1);
    waitFor("web-4 to answer through the balancer", Duration.ofSeconds(90), () -> servedBy("web-4"));
    long newServerMillis = (System.nanoTime() - start) / 1_000_000;

    // scale in, after more logins so that web-4 holds sessions too where sessions live on servers;
    // those logins also show what a write costs with four servers instead of three
    int moreCount = Math.max(10, userCount / 5);
    if (strategy.startsWith("clustered")) {
      // the cluster first copies existing sessions to web-4: wait for it, so that the bytes below
      // are what the logins cost and not that copy
      waitFor("the cluster to settle after web-4 joined", Duration.ofSeconds(60), new BooleanSupplier() {
        long last = -1;
        long sinceNanos = System.nanoTime();

        // settled: no change for a whole second
        @Override
        public boolean getAsBoolean() {
          long now = sessionsHeld(supervisor).values().stream().mapToLong(Long::longValue).sum();
          if (now != last) {
            last = now;
            sinceNanos = System.nanoTime();
          }
          return System.nanoTime() - sinceNanos >= 1_000_000_000L;
        }
      });
    }
    long scaledBytesBefore = sessionBytes(supervisor, redis);
    List<User> more = logIn(moreCount, "v");
    double bytesPerLoginAtFour = ratio(sessionBytes(supervisor, redis) - scaledBytesBefore, moreCount);
    long heldAtFour = sessionsHeld(supervisor).values().stream().mapToLong(Long::longValue).sum();
    List<User> everyone = Stream.concat(users.stream(), more.stream()).toList();
    List<User> aliveBefore = everyone.stream().filter(this::isAlive).toList();
    say("removing web-4 (%d users logged in and answered before)", aliveBefore.size());
    supervisor.scale("web", WEB_SERVERS);
    long lostOnScaleIn = aliveBefore.size() - alive(aliveBefore);

    return new Row(strategy, steady[0] + duringKill[0], steady[1] + duringKill[1], loggedIn, lostOnKill, duringKill[1],
        ratio(roundTrips, requests), ratio(commands, requests), ratio(networkBytes, requests), bytesPerLogin,
        bytesPerLoginAtFour, heldAtFour, held,
        newServerMillis,
        aliveBefore.size(), lostOnScaleIn);
  }

  // ---- the topology

  private String yaml(Path home) {
    String session = switch (strategy) {
      case "clustered-backup" -> "strategy: clustered\n  replication: backup";
      case "clustered-all" -> "strategy: clustered\n  replication: all";
      default -> "strategy: " + strategy;
    };
    return """
        home: %s
        controlPlane:
          listen: %s.2:%d
        balancer:
          listen: %s.1:%d
          admin: %s.1:%d
          healthCheck:
            intervalMillis: 200
            timeoutMillis: 500
            rise: 2
            fall: 2
        web:
          size: %d
          maxSize: %d
          firstAddress: %s.11
          port: %d
          heapMegabytes: 256
          bcryptCost: 4
        workers:
          size: 0
        edge:
          enabled: false
        session:
          %s
        redis:
          listen: %s.3:%d
        postgres:
          listen: %s.4:%d
          replicas: 0
        supervisor:
          restartDelayMillis: 200
        """.formatted(home, net, freePort(), net, lbPort, net, freePort(), WEB_SERVERS, WEB_SERVERS + 1, net,
        freePort(), session, net, redisPort, net, freePort());
  }

  private static boolean webUp(Supervisor supervisor, int count) {
    return supervisor.members().stream()
        .filter(m -> m.role().equals("web") && m.state() == MemberStatus.MemberState.HEALTHY
            && m.balancerState().equals("UP"))
        .count() == count;
  }

  // ---- users and traffic

  private List<User> logIn(int count, String prefix) throws Exception {
    List<User> users = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<User>> futures = new ArrayList<>();
      java.util.concurrent.Semaphore permits = new java.util.concurrent.Semaphore(CLIENTS);
      String run = Long.toString(System.nanoTime() % 1_000_000, 36);
      for (int i = 0; i < count; i++) {
        String name = prefix + i + "_" + run;
        futures.add(pool.submit(() -> {
          permits.acquire();
          try {
            return signUpAndLogIn(name);
          } finally {
            permits.release();
          }
        }));
      }
      for (Future<User> future : futures) {
        users.add(future.get());
      }
    }
    return users;
  }

  private User signUpAndLogIn(String name) throws Exception {
    Map<String, String> cookies = new ConcurrentHashMap<>();
    HttpResponse<String> signup = send("POST", "/api/signup", cookies,
        "{\"username\":\"" + name + "\",\"password\":\"" + PASSWORD + "\",\"displayName\":\"" + name + "\"}");
    if (signup.statusCode() != 201) {
      throw new IllegalStateException("signup of " + name + ": " + signup.statusCode() + " " + signup.body());
    }
    HttpResponse<String> login = send("POST", "/api/login", cookies,
        "{\"username\":\"" + name + "\",\"password\":\"" + PASSWORD + "\"}");
    if (login.statusCode() != 200) {
      throw new IllegalStateException("login of " + name + ": " + login.statusCode() + " " + login.body());
    }
    return new User(name, JSON.readTree(signup.body()).path("id").asLong(), cookies);
  }

  /** Requests and failures of {@code duration} of GET /api/me from {@link #CLIENTS} clients; {@code midway} runs once, after a third. */
  private long[] traffic(List<User> users, Duration duration, BooleanSupplier midway) throws Exception {
    LongAdder requests = new LongAdder();
    LongAdder failures = new LongAdder();
    AtomicBoolean running = new AtomicBoolean(true);
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int c = 0; c < CLIENTS; c++) {
        int offset = c * (users.size() / CLIENTS);
        pool.submit(() -> {
          int i = offset;
          while (running.get()) {
            User user = users.get(i++ % users.size());
            requests.increment();
            if (!answersAs(user)) {
              failures.increment();
            }
          }
          return null;
        });
      }
      if (midway != null) {
        Thread.sleep(duration.toMillis() / 3);
        midway.getAsBoolean();
        Thread.sleep(duration.toMillis() - duration.toMillis() / 3);
      } else {
        Thread.sleep(duration.toMillis());
      }
      running.set(false);
    }
    return new long[] {requests.sum(), failures.sum()};
  }

  private boolean answersAs(User user) {
    try {
      HttpResponse<String> me = send("GET", "/api/me", user.cookies(), null);
      return me.statusCode() == 200 && JSON.readTree(me.body()).path("id").asLong() == user.id();
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether the user's session still answers: three tries in a row, so a round-robin balancer tries each server. */
  private boolean isAlive(User user) {
    for (int i = 0; i < WEB_SERVERS; i++) {
      if (answersAs(user)) {
        return true;
      }
    }
    return false;
  }

  private long alive(List<User> users) {
    return users.stream().filter(this::isAlive).count();
  }

  // a request without cookies, so that no stickiness keeps it off the new server
  private boolean servedBy(String member) {
    try {
      HttpResponse<String> me = send("GET", "/api/me", new HashMap<>(), null);
      return me.headers().firstValue("X-Served-By").orElse("").equals(member);
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private HttpResponse<String> send(String method, String path, Map<String, String> cookies, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(balancer + path))
        .timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (!cookies.isEmpty()) {
      request.header("Cookie", String.join("; ", cookies.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList()));
    }
    HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    for (String setCookie : response.headers().allValues("Set-Cookie")) {
      int eq = setCookie.indexOf('=');
      int end = setCookie.indexOf(';');
      String name = setCookie.substring(0, eq);
      String value = setCookie.substring(eq + 1, end < 0 ? setCookie.length() : end);
      if (setCookie.contains("Max-Age=0")) {
        cookies.remove(name);
      } else {
        cookies.put(name, value);
      }
    }
    return response;
  }

  // ---- what the engines and the servers say

  // INFO commandstats: cmdstat_<command>:calls=N,...
  private static Map<String, Long> commandCalls(StatefulRedisConnection<String, String> redis) {
    Map<String, Long> calls = new HashMap<>();
    for (String line : redis.sync().info("commandstats").split("\r?\n")) {
      if (line.startsWith("cmdstat_")) {
        int start = line.indexOf("calls=") + 6;
        calls.put(line.substring(8, line.indexOf(':')), Long.parseLong(line.substring(start, line.indexOf(',', start))));
      }
    }
    return calls;
  }

  // our own INFO calls and the web servers' health probes (PING) are not session traffic
  private static long delta(Map<String, Long> before, Map<String, Long> after, Set<String> only) {
    long sum = 0;
    for (Map.Entry<String, Long> e : after.entrySet()) {
      String command = e.getKey();
      if ((only == null && !command.equals("info") && !command.equals("ping")) || (only != null && only.contains(command))) {
        sum += e.getValue() - before.getOrDefault(command, 0L);
      }
    }
    return sum;
  }

  private static long redisNetBytes(StatefulRedisConnection<String, String> redis) {
    long sum = 0;
    for (String line : redis.sync().info("stats").split("\r?\n")) {
      if (line.startsWith("total_net_input_bytes:") || line.startsWith("total_net_output_bytes:")) {
        sum += Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
      }
    }
    return sum;
  }

  /** GET /api/me requests the web servers handled (their http_server_requests metric, all statuses). */
  private long meRequestsServed(Supervisor supervisor) {
    long sum = 0;
    for (String body : scrapeWebServers(supervisor).values()) {
      for (String line : body.split("\n")) {
        if (line.startsWith("http_server_requests_seconds_count{") && line.contains("method=\"GET\"")
            && line.contains("route=\"/api/me\"")) {
          sum += (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    }
    return sum;
  }

  /** Redis's network bytes for the store, the cluster's replication bytes otherwise. */
  private long sessionBytes(Supervisor supervisor, StatefulRedisConnection<String, String> redis) {
    return strategy.equals("store") ? redisNetBytes(redis) : clusterBytes(supervisor);
  }

  private long clusterBytes(Supervisor supervisor) {
    return webMetrics(supervisor, "scalestack_session_cluster_sent_bytes_total").values().stream().mapToLong(Long::longValue).sum();
  }

  private Map<String, Long> sessionsHeld(Supervisor supervisor) {
    return webMetrics(supervisor, "scalestack_session_local_sessions");
  }

  /** One metric (first sample, no labels) from each web server's /metrics; 0 where it has none. */
  private Map<String, Long> webMetrics(Supervisor supervisor, String metric) {
    Map<String, Long> values = new LinkedHashMap<>();
    scrapeWebServers(supervisor).forEach((name, body) -> {
      long value = 0;
      for (String line : body.split("\n")) {
        if (line.startsWith(metric + " ") || line.startsWith(metric + "{")) {
          value = (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
          break;
        }
      }
      values.put(name, value);
    });
    return values;
  }

  /** Each healthy web server's /metrics text, by name; empty for one that does not answer. */
  private Map<String, String> scrapeWebServers(Supervisor supervisor) {
    Map<String, String> bodies = new LinkedHashMap<>();
    for (MemberStatus member : supervisor.members()) {
      if (!member.role().equals("web") || member.state() != MemberStatus.MemberState.HEALTHY) {
        continue;
      }
      String body = "";
      try {
        body = http.send(HttpRequest.newBuilder(URI.create("http://" + member.address() + "/metrics"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
      } catch (IOException e) {
        say("no metrics from %s: %s", member.name(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      bodies.put(member.name(), body);
    }
    return bodies;
  }

  // ---- the table

  /**
   * Heap one stored session takes in a web server (the photo service keeps one attribute, the
   * user's id): 100,000 sessions in a {@link LocalSessionRepository}, heap after GC before and
   * after. The clustered strategy keeps the same map; Redis keeps none in the web servers.
   */
  static long bytesPerSession() {
    var memory = ManagementFactory.getMemoryMXBean();
    LocalSessionRepository repository = LocalSessionRepository.create();
    int n = 100_000;
    long before = heapAfterGc(memory);
    Instant now = Instant.now();
    for (int i = 0; i < n; i++) {
      SessionData session = repository.create(now, Duration.ofMinutes(30));
      repository.save(new SessionData(session.id(), now, now, Duration.ofMinutes(30), Map.of("userId", (long) i)),
          Set.of(), true);
    }
    long after = heapAfterGc(memory);
    long perSession = Math.max(0, after - before) / n;
    if (repository.size() != n) {
      throw new IllegalStateException("expected " + n + " sessions, have " + repository.size());
    }
    return perSession;
  }

  private static long heapAfterGc(java.lang.management.MemoryMXBean memory) {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }

  static void print(List<Row> rows, int users, int trafficSeconds, PrintWriter out) {
    long perSession = bytesPerSession();
    out.printf("== scalestack experiment sessions: %d users, %d s of traffic per phase, 3 web servers, %s%n", users,
        trafficSeconds, Instant.now());
    out.printf("%-17s %9s %9s %9s %9s %8s %8s %10s %11s %-26s %8s %8s %8s %9s %9s%n", "strategy", "requests", "failed",
        "lost:kill", "fail:kill", "RT/req", "cmd/req", "bytes/req", "bytes/login", "sessions held per server", "mem 1k", "mem 10k",
        "mem 100k", "new srv", "lost:in");
    for (Row row : rows) {
      long held = row.sessionsHeld().values().stream().mapToLong(Long::longValue).max().orElse(0);
      // the share of all sessions the fullest server holds, from the run, scaled to 1k/10k/100k
      double share = row.loggedIn() == 0 ? 0 : Math.min(1.0, (double) held / row.loggedIn());
      // the store holds copies in a bounded near cache, not the sessions themselves
      long cap = row.strategy().startsWith("store") ? RedisSessionRepository.DEFAULT_NEAR_CACHE_SESSIONS : Long.MAX_VALUE;
      out.printf("%-17s %9d %9d %9s %9d %8.2f %8.2f %10.0f %11.0f %-26s %8s %8s %8s %7d ms %9s%n",
          row.strategy(), row.requests(), row.failedRequests(), row.lostOnKill() + "/" + row.loggedIn(),
          row.failedDuringKill(), row.roundTripsPerRequest(), row.redisCommandsPerRequest(), row.networkBytesPerRequest(),
          row.networkBytesPerLogin(),
          row.sessionsHeld().values().toString(), mib(Math.min(share * 1_000, cap) * perSession),
          mib(Math.min(share * 10_000, cap) * perSession), mib(Math.min(share * 100_000, cap) * perSession),
          row.newServerMillis(), row.lostOnScaleIn() + "/" + row.aliveBeforeScaleIn());
    }
    out.printf("%ngrowth with the cluster (after web-4 joined, %d more logins):%n", Math.max(10, users / 5));
    out.printf("%-17s %14s %14s %22s %22s%n", "strategy", "bytes/login@3", "bytes/login@4", "sessions held, sum@3",
        "sessions held, sum@4");
    for (Row row : rows) {
      out.printf("%-17s %14.0f %14.0f %22d %22d%n", row.strategy(), row.networkBytesPerLogin(),
          row.networkBytesPerLoginAtFour(), row.sessionsHeld().values().stream().mapToLong(Long::longValue).sum(),
          row.sessionsHeldAtFour());
    }
    out.printf("columns: requests = GET /api/me through the balancer over both traffic phases; failed = not 200 as the%n"
        + "  user (401: the server that answered has no session for the cookie); lost:kill = users whose session no%n"
        + "  longer answers (3 tries) after kill -9 of web-2, of those logged in; fail:kill = failed requests in the%n"
        + "  phase with the kill; RT/req = Redis round trips (EVALSHA) per request the web servers handled (their%n"
        + "  own count); cmd/req = Redis commands per request (scripts' inner commands included, health PINGs%n"
        + "  not), both from INFO commandstats; bytes/req =%n"
        + "  Redis network bytes in+out (INFO stats) or cluster replication bytes sent (web servers' metrics) per%n"
        + "  request (reads); bytes/login = the same per signup + login (the login writes the new session);%n"
        + "  sessions held per server = each web server's scalestack_session_local_sessions after the first%n"
        + "  phase (for store: copies in its near cache, at most %d); mem = heap of the fullest server for%n"
        + "  1k/10k/100k sessions (its share in this run x %d bytes per session, measured in this JVM; a store%n"
        + "  copy is counted at the same size); new srv = from the scale-out call to web-4's first answer; lost:in =%n"
        + "  users whose session stops answering when web-4 is removed, of those answering before. Growth:%n"
        + "  replication (or Redis) bytes per login with 3 and with 4 web servers (with 4: once the cluster has%n"
        + "  copied its sessions to web-4), and the sessions all web servers hold together, copies included.%n",
        RedisSessionRepository.DEFAULT_NEAR_CACHE_SESSIONS, perSession);
  }

  private static String mib(double bytes) {
    return bytes < 1024 * 1024 ? String.format("%.0fK", bytes / 1024) : String.format("%.1fM", bytes / 1024 / 1024);
  }

  private static double ratio(long a, long b) {
    return b == 0 ? 0 : (double) a / b;
  }

  private void say(String format, Object... args) {
    log.printf("experiment sessions [%s]: %s%n", strategy, String.format(format, args));
    log.flush();
  }

  private void waitFor(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gave up waiting " + timeout.toSeconds() + " s for " + what);
      }
      Thread.sleep(100);
    }
  }

  private static int freePort() {
    return io.scalestack.engines.Ports.free("0.0.0.0");
  }

  private static void deleteQuietly(Path home) {
    try (Stream<Path> paths = Files.walk(home)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a leftover temp directory is harmless; say so rather than fail the run
      System.getLogger(SessionExperiment.class.getName()).log(System.Logger.Level.DEBUG, "cannot delete " + home, e);
    }
  }
}
