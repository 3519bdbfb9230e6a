package io.scalestack.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the store strategy costs Redis, read from the server's own {@code INFO commandstats}
 * around batches of requests: one round trip (one {@code EVALSHA}) for a request that reads its
 * session, none for a request that does not touch it, and no write for a read-only request
 * until the access recording interval has passed. Commands that a script runs inside Redis are
 * counted by Redis under their own names; they are listed exactly, so any other command (a stray
 * round trip) fails the test.
 */
class SessionStoreCostTest {

  private static final int REQUESTS = 100;

  private static RedisClient adminClient;
  private static StatefulRedisConnection<String, String> adminConnection;
  private static RedisCommands<String, String> redis;

  private RedisSessionRepository repository;
  private WebServer server;
  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));

  @BeforeAll
  static void connectToRedis() {
    adminClient = RedisClient.create(TestEngines.redis().uri());
    adminConnection = adminClient.connect();
    redis = adminConnection.sync();
  }

  @AfterAll
  static void disconnectFromRedis() {
    adminConnection.close();
    adminClient.shutdown();
  }

  @BeforeEach
  void startServer() throws Exception {
    repository = RedisSessionRepository.create(TestEngines.redis().uri());
    server = WebServer.start(SessionFilter.builder().repository(repository).clock(clock)
        .maxInactiveInterval(Duration.ofMinutes(30)).build());
    // Redis learns each script once per server lifetime (EVALSHA, NOSCRIPT, then EVAL): done here,
    // so the batches measure the steady state; the connection's handshake is done here too
    Browser warmUp = new Browser();
    warmUp.post(server, "/login?user=warm-up");
    warmUp.get(server, "/me");
    warmUp.post(server, "/set?name=n&type=long&value=0");
  }

  @AfterEach
  void stopServer() {
    server.close();
    repository.close();
  }

  @Test
  void aReadOnlyRequestCostsOneRoundTripAndWritesNothing() {
    Browser browser = new Browser();
    browser.post(server, "/login?user=alice");

    Map<String, Long> calls = callsDuring(() -> {
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(browser.get(server, "/me").body()).isEqualTo("alice");
      }
    });

    // one EVALSHA per request; inside it one HGETALL, and no HSET or PEXPIRE within the interval
    assertThat(calls).isEqualTo(Map.of("evalsha", (long) REQUESTS, "hgetall", (long) REQUESTS));
  }

  @Test
  void readingAListWithoutChangingItWritesNothing() {
    Browser browser = new Browser();
    browser.post(server, "/login?user=alice");
    browser.post(server, "/cart-add?item=photo-1");

    Map<String, Long> calls = callsDuring(() -> {
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(browser.get(server, "/cart").body()).isEqualTo("[photo-1]");
      }
    });

    // handed out, compared at the end of each request, found unchanged: no save
    assertThat(calls).isEqualTo(Map.of("evalsha", (long) REQUESTS, "hgetall", (long) REQUESTS));
  }

  @Test
  void aRequestThatDoesNotTouchTheSessionCostsNothingEvenWithACookie() {
    Browser browser = new Browser();
    browser.post(server, "/login?user=alice");

    Map<String, Long> calls = callsDuring(() -> {
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(browser.get(server, "/public").status()).isEqualTo(200);
      }
    });

    assertThat(calls).isEmpty();
  }

  @Test
  void aReadOnlyRequestRecordsItsAccessInTheSameRoundTripOncePerInterval() {
    Browser browser = new Browser();
    browser.post(server, "/login?user=alice");
    clock.advance(Duration.ofSeconds(61));

    Map<String, Long> calls = callsDuring(() -> {
      for (int i = 0; i < REQUESTS; i++) {
        assertThat(browser.get(server, "/me").body()).isEqualTo("alice");
      }
    });

    // the first request records the access inside its EVALSHA; the other 99 find it recent
    assertThat(calls).isEqualTo(Map.of("evalsha", (long) REQUESTS, "hgetall", (long) REQUESTS,
        "hset", 1L, "pexpire", 1L));
  }

  @Test
  void aRequestThatChangesAnAttributeCostsOneReadAndOneConditionalWrite() {
    Browser browser = new Browser();
    browser.post(server, "/login?user=alice");

    Map<String, Long> calls = callsDuring(() -> {
      for (int i = 0; i < REQUESTS; i++) {
        browser.post(server, "/set?name=n&type=long&value=" + i);
      }
    });

    // per request: the lookup (EVALSHA: HGETALL), then the delta (EVALSHA: PEXPIRE, which also
    // finds whether the session is still there, and one HSET)
    assertThat(calls).isEqualTo(Map.of("evalsha", 2L * REQUESTS, "hgetall", (long) REQUESTS,
        "hset", (long) REQUESTS, "pexpire", (long) REQUESTS));
    assertThat(browser.get(server, "/get?name=n").body()).isEqualTo("Long:" + (REQUESTS - 1));
  }

  /** The calls per command Redis counted while {@code requests} ran, without our own INFO. */
  private static Map<String, Long> callsDuring(Runnable requests) {
    Map<String, Long> before = commandCalls();
    requests.run();
    Map<String, Long> after = commandCalls();
    Map<String, Long> delta = new TreeMap<>();
    after.forEach((command, calls) -> {
      long d = calls - before.getOrDefault(command, 0L);
      if (d != 0 && !command.equals("info")) {
        delta.put(command, d);
      }
    });
    return delta;
  }

  // INFO commandstats lines: cmdstat_<command>:calls=N,usec=...
  private static Map<String, Long> commandCalls() {
    Map<String, Long> calls = new HashMap<>();
    for (String line : redis.info("commandstats").split("\r?\n")) {
      if (line.startsWith("cmdstat_")) {
        String command = line.substring("cmdstat_".length(), line.indexOf(':'));
        int start = line.indexOf("calls=") + "calls=".length();
        calls.put(command, Long.parseLong(line.substring(start, line.indexOf(',', start))));
      }
    }
    return calls;
  }
}
