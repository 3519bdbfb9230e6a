// benchmarks/failover/FailoverBench.java: the load and the stopwatch of benchmarks/failover/run.sh.
// A single-file Java program (JDK 21+, no dependencies): signs up users through the balancer,
// keeps them writing their profiles (PUT /api/me), kills the PostgreSQL primary through the control
// API, and measures how long after the kill the first write sent after it succeeds; then checks
// every user's profile against the last write that was acknowledged. Prints one RESULT line.
//
//   java FailoverBench.java --lb http://127.0.78.1:18401 --control http://127.0.78.2:18403 [--writers 16]
//       [--warmup-seconds 3] [--settle-seconds 2] [--timeout-seconds 60]

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class FailoverBench {

  record User(String name, HttpClient client) {}

  static String lb;
  static String control;

  public static void main(String[] args) throws Exception {
    int writers = 16;
    int warmupSeconds = 3;
    int settleSeconds = 2;
    int timeoutSeconds = 60;
    for (int i = 0; i < args.length; i += 2) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--lb" -> lb = value;
        case "--control" -> control = value;
        case "--writers" -> writers = Integer.parseInt(value);
        case "--warmup-seconds" -> warmupSeconds = Integer.parseInt(value);
        case "--settle-seconds" -> settleSeconds = Integer.parseInt(value);
        case "--timeout-seconds" -> timeoutSeconds = Integer.parseInt(value);
        default -> throw new IllegalArgumentException("unknown flag: " + args[i]);
      }
    }
    if (lb == null || control == null) {
      throw new IllegalArgumentException("--lb and --control are required");
    }
    awaitReady(Duration.ofSeconds(timeoutSeconds));

    List<User> users = new ArrayList<>();
    String run = Long.toString(System.currentTimeMillis() % 1_000_000, 36);
    for (int i = 0; i < writers; i++) {
      users.add(signUp("fo" + run + "_" + i));
    }

    Map<String, List<Integer>> acknowledged = new ConcurrentHashMap<>(); // user -> acknowledged versions, in order
    Map<String, List<Integer>> unknown = new ConcurrentHashMap<>();      // answered with an error: may have committed
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicLong killedAt = new AtomicLong();
    AtomicLong firstWriteAfterKill = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong writes = new AtomicLong();
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<?>> loops = new ArrayList<>();
    for (User user : users) {
      acknowledged.put(user.name(), new ArrayList<>());
      unknown.put(user.name(), new ArrayList<>());
      loops.add(pool.submit(() -> {
        for (int version = 1; running.get(); version++) {
          long started = System.nanoTime();
          int code;
          String body;
          try {
            HttpResponse<String> response = user.client().send(HttpRequest.newBuilder(URI.create(lb + "/api/me"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"displayName\":\"v" + version + "\",\"bio\":\"\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
            code = response.statusCode();
            body = response.body();
          } catch (IOException e) {
            code = -1;
            body = e.toString();
          }
          if (code == 200) {
            acknowledged.get(user.name()).add(version);
            writes.incrementAndGet();
            long killed = killedAt.get();
            if (killed != 0 && started - killed > 0) {
              firstWriteAfterKill.compareAndSet(0, System.nanoTime() - killed);
            }
          } else {
            unknown.get(user.name()).add(version);
            failures.add(code + " " + body.substring(0, Math.min(120, body.length())));
          }
        }
        return null;
      }));
    }

    Thread.sleep(warmupSeconds * 1000L);
    long before = writes.get();
    HttpResponse<String> kill = post(control + "/api/members/pg-primary/kill");
    if (kill.statusCode() != 202) {
      throw new IllegalStateException("kill pg-primary: " + kill.statusCode() + " " + kill.body());
    }
    killedAt.set(System.nanoTime()); // the control API answers once the postmaster and its backends are gone
    long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
    while (firstWriteAfterKill.get() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    Thread.sleep(settleSeconds * 1000L);
    running.set(false);
    for (Future<?> loop : loops) {
      loop.get();
    }
    pool.shutdown();

    // what survived: each user's profile against their acknowledged versions
    long lost = 0;
    for (User user : users) {
      HttpResponse<String> me = user.client().send(HttpRequest.newBuilder(URI.create(lb + "/api/me"))
          .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
      Matcher name = Pattern.compile("\"displayName\"\\s*:\\s*\"v(\\d+)\"").matcher(me.body());
      int present = name.find() ? Integer.parseInt(name.group(1)) : 0;
      for (int version : acknowledged.get(user.name())) {
        if (version > present) {
          lost++; // acknowledged, and neither it nor a later version is there
        }
      }
      if (present != 0 && !acknowledged.get(user.name()).contains(present) && !unknown.get(user.name()).contains(present)) {
        throw new IllegalStateException(user.name() + ": v" + present + " was never written");
      }
    }
    String failovers = get(control + "/api/failovers").body();
    Matcher promoted = Pattern.compile("\"promotedMillis\"\\s*:\\s*(\\d+)").matcher(failovers);
    Matcher next = Pattern.compile("\"newPrimary\"\\s*:\\s*\"([^\"]+)\"").matcher(failovers);
    long firstWrite = firstWriteAfterKill.get();
    System.out.printf("RESULT firstWriteMillis=%s promotedMillis=%s newPrimary=%s writesBeforeKill=%d acknowledged=%d"
        + " failed=%d lost=%d%n",
        firstWrite == 0 ? "timeout" : Long.toString(firstWrite / 1_000_000),
        promoted.find() ? promoted.group(1) : "none", next.find() ? next.group(1) : "none",
        before, writes.get(), failures.size(), lost);
    if (!failures.isEmpty()) {
      System.out.println("FAILURES " + failures.stream().distinct().limit(5).toList());
    }
  }

  /** Every member healthy, both replicas streaming, and a page served through the balancer. */
  static void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        last = get(control + "/api/members").body();
        boolean healthy = !last.contains("\"STARTING\"") && !last.contains("\"RESTARTING\"") && !last.contains("\"FAILED\"");
        int streaming = count(last, "\"walReceiver\":\"streaming\"");
        if (healthy && streaming >= 2 && get(lb + "/health").statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the topology was not ready within " + timeout + ": " + last);
  }

  static int count(String text, String needle) {
    int n = 0;
    for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }

  static User signUp(String name) throws Exception {
    HttpClient client = HttpClient.newBuilder().cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(5)).build();
    String credentials = "\"username\":\"" + name + "\",\"password\":\"correct horse battery\"";
    for (String[] step : new String[][] {{"/api/signup", "{" + credentials + ",\"displayName\":\"v0\"}", "201"},
        {"/api/login", "{" + credentials + "}", "200"}}) {
      HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(lb + step[0]))
          .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(step[1])).build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != Integer.parseInt(step[2])) {
        throw new IllegalStateException(step[0] + " " + name + ": " + response.statusCode() + " " + response.body());
      }
    }
    return new User(name, client);
  }

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }
}
