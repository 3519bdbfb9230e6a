// benchmarks/resharding/ReshardBench.java: the load of benchmarks/resharding/run.sh. A single-file Java
// program (JDK 21+, no dependencies): users sign up, log in and write their profiles through the
// balancer for --seconds, one request in flight per writer; prints one RESULT line with the number of
// acknowledged and failed requests and the slowest profile write (what a client saw of the cut-over).
//
//   java ReshardBench.java --lb http://127.0.79.1:18501 [--writers 8] [--seconds 20]

import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

public class ReshardBench {

  public static void main(String[] args) throws Exception {
    String lb = null;
    int writers = 8;
    int seconds = 20;
    for (int i = 0; i < args.length; i += 2) {
      String value = i + 1 < args.length ? args[i + 1] : "";
      switch (args[i]) {
        case "--lb" -> lb = value;
        case "--writers" -> writers = Integer.parseInt(value);
        case "--seconds" -> seconds = Integer.parseInt(value);
        default -> throw new IllegalArgumentException("unknown flag: " + args[i]);
      }
    }
    if (lb == null) {
      throw new IllegalArgumentException("--lb is required");
    }
    String base = lb;
    long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
    AtomicLong acknowledged = new AtomicLong();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    List<Long> writeMicros = Collections.synchronizedList(new ArrayList<>());
    String run = Long.toString(System.currentTimeMillis() % 1_000_000, 36);
    ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<?>> loops = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int writer = w;
      loops.add(pool.submit(() -> {
        for (int u = 0; System.nanoTime() < end; u++) {
          HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(5)).build();
          String credentials = "\"username\":\"rb" + run + "_" + writer + "_" + u + "\",\"password\":\"correct horse battery\"";
          if (!send(http, base + "/api/signup", "POST", "{" + credentials + ",\"displayName\":\"d0\"}", 201, failures, null)
              || !send(http, base + "/api/login", "POST", "{" + credentials + "}", 200, failures, null)) {
            continue;
          }
          acknowledged.addAndGet(2);
          for (int p = 1; p <= 5 && System.nanoTime() < end; p++) {
            if (send(http, base + "/api/me", "PUT", "{\"displayName\":\"d" + p + "\",\"bio\":\"\"}", 200, failures, writeMicros)) {
              acknowledged.incrementAndGet();
            }
          }
        }
        return null;
      }));
    }
    for (Future<?> loop : loops) {
      loop.get();
    }
    pool.shutdown();
    List<Long> sorted = new ArrayList<>(writeMicros);
    Collections.sort(sorted);
    long p99 = sorted.isEmpty() ? 0 : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.99) - 1));
    long max = sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1);
    System.out.printf("RESULT acknowledged=%d failed=%d writeP99Millis=%.1f writeMaxMillis=%.1f%n", acknowledged.get(),
        failures.size(), p99 / 1000.0, max / 1000.0);
    if (!failures.isEmpty()) {
      System.out.println("FAILURES " + failures.stream().distinct().limit(5).toList());
    }
  }

  static boolean send(HttpClient http, String url, String method, String body, int expected,
      ConcurrentLinkedQueue<String> failures, List<Long> micros) {
    long started = System.nanoTime();
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (micros != null) {
        micros.add((System.nanoTime() - started) / 1000);
      }
      if (response.statusCode() != expected) {
        failures.add(method + " " + url + ": " + response.statusCode() + " " + response.body());
        return false;
      }
      return true;
    } catch (IOException e) {
      failures.add(method + " " + url + ": " + e);
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
