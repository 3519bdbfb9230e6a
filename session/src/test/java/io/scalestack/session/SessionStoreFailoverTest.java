package io.scalestack.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.engines.RedisSentinel;
import io.scalestack.engines.RedisServer;
import io.scalestack.session.Browser.Reply;
import io.scalestack.session.RedisSessionRepository.Durability;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.Test;

/**
 * The store's own availability: a Redis primary, two replicas and three Sentinels (real processes),
 * a Jetty with the {@link SessionFilter} on a {@code redis-sentinel://} repository, users logging in
 * and writing attributes over HTTP, and {@code kill -9} of the primary in the middle of that.
 *
 * <p>Two replicas, so that after the failover the new primary still has one and {@link
 * Durability#REPLICA_ACK} can acknowledge writes again.
 */
class SessionStoreFailoverTest {

  private static final Duration DOWN_AFTER = Duration.ofMillis(500);
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(1);
  private static final Duration FAILOVER_BUDGET = Duration.ofSeconds(2);
  /** find, save and WAIT each bounded by the command timeout, plus slack: no request may take longer. */
  private static final Duration REQUEST_BOUND = Duration.ofSeconds(5);
  private static final int USERS = 6;

  private static final Logger JETTY_ERRORS = (Logger) LoggerFactory.getLogger("org.eclipse.jetty.ee10.servlet.ServletChannel");
  private static final Pattern STORE_ERROR = Pattern.compile("SessionStoreException: [^<\n]*");

  private static Level jettyErrorsLevel;

  private final List<AutoCloseable> resources = new ArrayList<>();

  @BeforeAll
  static void quietJetty() {
    // Jetty logs each of the thousand 500s of a failover at WARN; the test reports them itself.
    jettyErrorsLevel = JETTY_ERRORS.getLevel();
    JETTY_ERRORS.setLevel(Level.ERROR);
  }

  @AfterAll
  static void restoreJetty() {
    JETTY_ERRORS.setLevel(jettyErrorsLevel);
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  @Test
  void replicaAckModeServesAgainWithinTwoSecondsAndLosesNoAcknowledgedWrite() throws Exception {
    Outcome outcome = killPrimaryUnderLoad(Durability.REPLICA_ACK);

    assertThat(outcome.recovery).isLessThan(FAILOVER_BUDGET);
    assertThat(outcome.lost).as("acknowledged writes lost in REPLICA_ACK mode").isEmpty();
  }

  @Test
  void asyncModeServesAgainWithinTwoSecondsAndReportsTheAcknowledgedWritesItLost() throws Exception {
    Outcome outcome = killPrimaryUnderLoad(Durability.ASYNC);

    assertThat(outcome.recovery).isLessThan(FAILOVER_BUDGET);
    // Asynchronous replication may lose the last writes before the crash; how many is reported, not asserted.
    assertThat(outcome.report).contains("acknowledged writes lost: " + outcome.lost.size());
  }

  private Outcome killPrimaryUnderLoad(Durability durability) throws Exception {
    Path data = newDirectory(durability.name().toLowerCase());
    Path engines = Path.of("target", "test-engines", "engines").toAbsolutePath();
    RedisServer primary = started(RedisServer.builder().port(0).dataDirectory(data.resolve("primary"))
        .engineCache(engines).build().start());
    for (int i = 1; i <= 2; i++) {
      started(RedisServer.builder().port(0).dataDirectory(data.resolve("replica-" + i))
          .engineCache(engines).replicaOf(primary.address()).build().start());
    }
    List<RedisSentinel> sentinels = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      sentinels.add(started(RedisSentinel.builder().port(0).dataDirectory(data.resolve("sentinel-" + i))
          .engineCache(engines).masterName("sessions").monitor(primary.address())
          .downAfter(DOWN_AFTER).failoverTimeout(Duration.ofSeconds(5)).build().start()));
    }
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      for (RedisSentinel sentinel : sentinels) {
        assertThat(sentinel.knownReplicas()).isEqualTo(2);
        assertThat(sentinel.knownSentinels()).isEqualTo(2);
      }
    });
    RedisSessionRepository repository = started(RedisSessionRepository.builder(RedisSentinel.uri(sentinels))
        .commandTimeout(COMMAND_TIMEOUT)
        .durability(durability)
        .build());
    WebServer server = started(WebServer.start(SessionFilter.builder().repository(repository).build()));
    String saveCost = saveCost(repository);

    Load load = new Load(server, saveCost);
    load.start();
    try {
      await().atMost(Duration.ofSeconds(20))
          .until(() -> load.loggedIn.get() == USERS && load.acknowledged.size() >= USERS * 20);
      long killedAt = System.nanoTime();
      // Samples (every 5 ms) when the Sentinel a client asks first names another primary: Sentinel's share of the outage.
      AtomicLong switchedAt = new AtomicLong();
      Thread watcher = Thread.ofVirtual().start(() -> {
        while (switchedAt.get() == 0 && !Thread.currentThread().isInterrupted()) {
          try {
            if (!sentinels.get(0).primaryAddress().orElseThrow().equals(primary.address())) {
              switchedAt.set(System.nanoTime());
            }
          } catch (RuntimeException e) {
            // a Sentinel busy failing over may time out a query; sample again
          }
          LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
        }
      });
      primary.kill();
      // Run on until every user has kept succeeding for a while, so that "served again" is stable.
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> load.succeedingSince(killedAt) > TimeUnit.SECONDS.toNanos(3));
      load.stop();
      watcher.interrupt();
      return outcome(durability, load, killedAt, switchedAt.get(), sentinels);
    } finally {
      load.stop();
    }
  }

  private Outcome outcome(Durability durability, Load load, long killedAt, long switchedAt,
      List<RedisSentinel> sentinels) {
    List<Request> requests = new ArrayList<>(load.requests);
    List<Request> failed = requests.stream().filter(r -> !r.ok()).toList();
    long lastFailureEnd = failed.stream().mapToLong(Request::end).max().orElse(killedAt);
    long firstStableSuccess = requests.stream()
        .filter(r -> r.ok() && r.start() >= lastFailureEnd)
        .mapToLong(Request::end).min().orElseThrow();
    Duration recovery = Duration.ofNanos(firstStableSuccess - killedAt);
    long slowestMillis = requests.stream().mapToLong(r -> (r.end() - r.start()) / 1_000_000).max().orElse(0);
    long writesAfterRecovery = load.acknowledged.stream().filter(w -> w.at() > firstStableSuccess).count();

    // Every acknowledged write, read back through the web tier from the promoted primary.
    List<Write> lost = new ArrayList<>();
    for (Write write : load.acknowledged) {
      Reply reply = write.browser().get(load.server, "/get?name=" + write.name());
      if (reply.status() != 200 || !reply.body().equals("String:" + write.value())) {
        lost.add(write);
      }
    }
    String report = String.format(
        "failover (%s): first success %.2f s after kill -9 (every request succeeded from then on);"
            + " the first Sentinel named the new primary at %.2f s;"
            + " %d of %d requests failed during the failover (statuses %s), slowest request %d ms;"
            + " primary now %s; acknowledged writes: %d (%d after recovery); acknowledged writes lost: %d%s;"
            + " errors: %s; %s",
        durability, recovery.toMillis() / 1000.0,
        switchedAt == 0 ? Double.NaN : (switchedAt - killedAt) / 1e9, failed.size(), requests.size(),
        failed.stream().map(r -> Integer.toString(r.status())).distinct().sorted().toList(), slowestMillis,
        sentinels.get(0).primaryAddress().map(Object::toString).orElse("unknown"),
        load.acknowledged.size(), writesAfterRecovery, lost.size(),
        lost.isEmpty() ? "" : " (acknowledged " + lost.stream()
            .map(w -> String.format("%+d ms", (w.at() - killedAt) / 1_000_000)).limit(10).toList()
            + " relative to the kill)",
        failed.stream().map(r -> r.what().replaceAll("[0-9]{4,5}", "N").replaceAll("[A-Za-z0-9_-]{43}", "ID"))
            .map(what -> what.substring(what.indexOf(": ") + 2)).distinct().limit(5).toList(),
        load.saveCost);
    System.out.println(report);

    assertThat(failed).as("requests failing during the failover fail with 5xx, never a hang or a dropped connection")
        .allSatisfy(r -> {
          assertThat(r.status()).as(r.what()).isBetween(500, 599);
          assertThat(r.what()).contains("SessionStoreException: session store redis-sentinel://");
        });
    assertThat(Duration.ofMillis(slowestMillis)).isLessThan(REQUEST_BOUND);
    assertThat(writesAfterRecovery).as("writes acknowledged after recovery").isPositive();
    return new Outcome(recovery, lost, report);
  }

  /** What one save costs in this mode (REPLICA_ACK adds the WAIT round trip): sequential saves, warm. */
  private static String saveCost(RedisSessionRepository repository) {
    Instant now = Instant.now();
    SessionData session = repository.create(now, Duration.ofMinutes(30));
    repository.save(session, Set.of(), true);
    int warmUp = 1_000;
    long[] micros = new long[2_000];
    for (int i = 0; i < warmUp + micros.length; i++) {
      SessionData changed = new SessionData(session.id(), now, now, Duration.ofMinutes(30), Map.of("n", i));
      long start = System.nanoTime();
      repository.save(changed, Set.of("n"), false);
      if (i >= warmUp) {
        micros[i - warmUp] = (System.nanoTime() - start) / 1_000;
      }
    }
    Arrays.sort(micros);
    return String.format("one save (%s, %d sequential): median %d µs, p99 %d µs", repository.durability(), micros.length,
        micros[micros.length / 2], micros[(int) (micros.length * 0.99)]);
  }

  private <T extends AutoCloseable> T started(T resource) {
    resources.add(resource);
    return resource;
  }

  private static Path newDirectory(String prefix) {
    try {
      Path root = Path.of("target", "failover-tests").toAbsolutePath();
      Files.createDirectories(root);
      return Files.createTempDirectory(root, prefix + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  record Outcome(Duration recovery, List<Write> lost, String report) {}

  /** One HTTP request: when it started and ended (nanoTime), its status (-1: no response), whether it succeeded. */
  record Request(long start, long end, int status, String what) {
    boolean ok() {
      return status >= 200 && status < 500;
    }
  }

  /** A write the server acknowledged with 2xx, at (nanoTime) the response. */
  record Write(Browser browser, String name, String value, long at) {}

  /**
   * {@link #USERS} threads, each a user who logs in, then sets a new attribute and reads it back,
   * over and over; every request and every acknowledged write is recorded.
   */
  private static final class Load {

    final WebServer server;
    final String saveCost;
    final ConcurrentLinkedQueue<Request> requests = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Write> acknowledged = new ConcurrentLinkedQueue<>();
    final AtomicInteger loggedIn = new AtomicInteger();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running = true;

    Load(WebServer server, String saveCost) {
      this.server = server;
      this.saveCost = saveCost;
    }

    void start() {
      for (int user = 0; user < USERS; user++) {
        int id = user;
        threads.add(Thread.ofPlatform().name("load-" + id).start(() -> run(id)));
      }
    }

    void stop() throws InterruptedException {
      running = false;
      for (Thread thread : threads) {
        thread.join(REQUEST_BOUND.toMillis() * 2);
      }
    }

    /** How long (ns) every request after the last failure following {@code since} has succeeded; 0 if none yet. */
    long succeedingSince(long since) {
      long lastFailure = requests.stream().filter(r -> !r.ok()).mapToLong(Request::end).max().orElse(since);
      long from = Math.max(since, lastFailure);
      boolean succeeded = requests.stream().anyMatch(r -> r.ok() && r.start() >= from);
      return succeeded ? System.nanoTime() - from : 0;
    }

    private void run(int user) {
      Browser browser = new Browser();
      while (running) {
        if (send(() -> browser.post(server, "/login?user=user-" + user), "login").status() == 200) {
          loggedIn.incrementAndGet();
          break;
        }
      }
      for (int sequence = 1; running; sequence++) {
        String name = "a" + sequence;
        String value = user + "-" + sequence;
        Request set = send(() -> browser.post(server, "/set?type=string&name=" + name + "&value=" + value),
            "set " + name);
        if (set.status() >= 200 && set.status() < 300) {
          acknowledged.add(new Write(browser, name, value, set.end()));
        }
        Request get = send(() -> browser.get(server, "/get?name=" + name), "get " + name);
        // Pacing, not waiting for a condition: 2 CPUs are shared with 6 engines, and a user whose
        // request failed retries after a moment, as people and clients do; failing fast in a tight
        // loop would starve the Sentinels this test measures.
        boolean failed = !set.ok() || !get.ok();
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(failed ? 20 : 2));
      }
    }

    private Request send(Supplier<Reply> call, String what) {
      long start = System.nanoTime();
      int status;
      String detail = what;
      try {
        Reply reply = call.get();
        status = reply.status();
        if (status >= 500) {
          Matcher error = STORE_ERROR.matcher(reply.body());
          detail = what + ": " + (error.find() ? error.group() : reply.body());
        }
      } catch (AssertionError e) { // Browser's way of reporting an I/O failure
        status = -1;
        detail = what + ": " + e.getMessage();
      }
      Request request = new Request(start, System.nanoTime(), status, detail);
      requests.add(request);
      return request;
    }
  }
}
