package io.scalestack.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * What the store strategy costs Redis, read from the server's own {@code INFO commandstats}
 * around batches of requests. Commands that a script runs inside Redis are counted by Redis under
 * their own names; they are listed exactly, so any other command (a stray round trip) fails the
 * test. With the near cache (the default): no round trip for a request that only reads a session
 * its server holds, one ({@code EVALSHA}) for a request that changes it, none for a request that
 * does not touch it. Without: one for a reading request, one more for a changing one.
 */
class SessionStoreCostTest {

  private static final int REQUESTS = 100;

  private static RedisClient adminClient;
  private static StatefulRedisConnection<String, String> adminConnection;
  private static RedisCommands<String, String> redis;

  private final List<AutoCloseable> closeables = new ArrayList<>();
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

  @AfterEach
  void stopServers() throws Exception {
    for (AutoCloseable closeable : closeables.reversed()) {
      closeable.close();
    }
  }

  /** A web server with its own repository (and so its own connection and near cache). */
  private WebServer startServer(int nearCacheSessions) throws Exception {
    RedisSessionRepository repository = RedisSessionRepository.builder(TestEngines.redis().uri())
        .nearCache(nearCacheSessions).build();
    closeables.add(repository);
    WebServer server = WebServer.start(SessionFilter.builder().repository(repository).clock(clock)
        .maxInactiveInterval(Duration.ofMinutes(30)).build());
    closeables.add(server);
    // Redis learns each script once per server lifetime (SCRIPT LOAD on connect): done here, so
    // the batches measure the steady state; the connection's handshake is done here too
    Browser warmUp = new Browser();
    warmUp.post(server, "/login?user=warm-up");
    warmUp.get(server, "/me");
    warmUp.post(server, "/set?name=n&type=long&value=0");
    return server;
  }

  @Nested
  class WithTheNearCache {

    private WebServer server;

    @BeforeEach
    void startServer() throws Exception {
      server = SessionStoreCostTest.this.startServer(10_000);
    }

    @Test
    void aReadOnlyRequestOnTheServerThatHoldsTheSessionCostsNoRoundTrip() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");

      Map<String, Long> calls = callsDuring(REQUESTS, i -> assertThat(browser.get(server, "/me").body()).isEqualTo("alice"));

      assertThat(calls).isEmpty();
    }

    @Test
    void aRequestThatChangesAnAttributeCostsOneRoundTrip() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");

      Map<String, Long> calls = callsDuring(REQUESTS, i -> browser.post(server, "/set?name=n&type=long&value=" + i));

      // per request one EVALSHA: the delta (PEXPIRE, which also finds whether the session is
      // still there, one HSET, the version) and the hash after it, which is the server's new copy
      assertThat(calls).isEqualTo(Map.of("evalsha", (long) REQUESTS, "pexpire", (long) REQUESTS,
          "hset", (long) REQUESTS, "hincrby", (long) REQUESTS, "hgetall", (long) REQUESTS));
      assertThat(browser.get(server, "/get?name=n").body()).isEqualTo("Long:" + (REQUESTS - 1));
    }

    @Test
    void aRequestThatDoesNotTouchTheSessionCostsNothingEvenWithACookie() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");

      assertThat(callsDuring(REQUESTS, i -> assertThat(browser.get(server, "/public").status()).isEqualTo(200))).isEmpty();
    }

    @Test
    void theAccessIsRecordedInOneRoundTripOncePerInterval() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");
      clock.advance(Duration.ofSeconds(61));

      Map<String, Long> calls = callsDuring(REQUESTS, i -> assertThat(browser.get(server, "/me").body()).isEqualTo("alice"));

      // the first request finds the access due and records it (HGETALL, HSET, PEXPIRE, the
      // version, HGETALL again for the new copy); the other 99 are served by that copy
      assertThat(calls).isEqualTo(Map.of("evalsha", 1L, "hgetall", 2L, "hset", 1L, "pexpire", 1L,
          "hincrby", 1L));
    }

    @Test
    void aChangeMadeOnOneServerIsSeenByTheNextRequestOnAnother() throws Exception {
      WebServer other = SessionStoreCostTest.this.startServer(10_000);
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");
      assertThat(browser.get(other, "/me").body()).isEqualTo("alice"); // other holds a copy now

      int stale = 0;
      for (int i = 0; i < 500; i++) {
        WebServer writer = i % 2 == 0 ? server : other;
        WebServer reader = i % 2 == 0 ? other : server;
        browser.post(writer, "/set?name=n&type=long&value=" + i);
        if (!browser.get(reader, "/get?name=n").body().equals("Long:" + i)) {
          stale++;
        }
      }

      // Redis pushed each change to the other server's connection before the writer answered
      assertThat(stale).isZero();
    }

    @Test
    void readsOnTwoServersAfterAChangeCostOneRoundTripEachThenNone() throws Exception {
      WebServer other = SessionStoreCostTest.this.startServer(10_000);
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");

      Map<String, Long> calls = callsDuring(() -> {
        for (int i = 0; i < REQUESTS; i++) {
          browser.post(server, "/set?name=n&type=long&value=" + i); // copy at server, other's gone
          assertThat(browser.get(other, "/get?name=n").body()).isEqualTo("Long:" + i); // reads
          assertThat(browser.get(other, "/get?name=n").body()).isEqualTo("Long:" + i); // copy
          assertThat(browser.get(server, "/get?name=n").body()).isEqualTo("Long:" + i); // copy
        }
      });

      // 4 requests per step, 2 round trips: the write, and the other server's first read after it
      // (its copy is older than the version the cookie names). Rarely a third: the invalidation
      // of that write reaches the other server after its read installed the new copy, and drops
      // it. The writes are exact; the reads are one per step, and never as many as two.
      assertThat(calls).containsEntry("pexpire", (long) REQUESTS).containsEntry("hset", (long) REQUESTS)
          .containsEntry("hincrby", (long) REQUESTS);
      assertThat(calls.get("evalsha") - REQUESTS).isBetween((long) REQUESTS, 2L * REQUESTS - 1);
      assertThat(calls.get("hgetall")).isEqualTo(calls.get("evalsha"));
    }

    @Test
    void aSessionDeletedInRedisIsNotServedFromTheCopy() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");
      assertThat(browser.get(server, "/me").body()).isEqualTo("alice");

      // another client (an operator, another server's logout) deletes every session
      for (String key : redis.keys(RedisSessionRepository.KEY_PREFIX + "*")) {
        redis.del(key);
      }

      await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
          assertThat(browser.get(server, "/me").status()).isEqualTo(401));
    }
  }

  @Nested
  class WithoutTheNearCache {

    private WebServer server;

    @BeforeEach
    void startServer() throws Exception {
      server = SessionStoreCostTest.this.startServer(0);
    }

    @Test
    void aReadOnlyRequestCostsOneRoundTripAndWritesNothing() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");

      Map<String, Long> calls = callsDuring(REQUESTS, i -> assertThat(browser.get(server, "/me").body()).isEqualTo("alice"));

      // one EVALSHA per request; inside it one HGETALL, and no HSET or PEXPIRE within the interval
      assertThat(calls).isEqualTo(Map.of("evalsha", (long) REQUESTS, "hgetall", (long) REQUESTS));
    }

    @Test
    void readingAListWithoutChangingItWritesNothing() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");
      browser.post(server, "/cart-add?item=photo-1");

      Map<String, Long> calls = callsDuring(REQUESTS, i -> assertThat(browser.get(server, "/cart").body()).isEqualTo("[photo-1]"));

      // handed out, compared at the end of each request, found unchanged: no save
      assertThat(calls).isEqualTo(Map.of("evalsha", (long) REQUESTS, "hgetall", (long) REQUESTS));
    }

    @Test
    void aReadOnlyRequestRecordsItsAccessInTheSameRoundTripOncePerInterval() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");
      clock.advance(Duration.ofSeconds(61));

      Map<String, Long> calls = callsDuring(REQUESTS, i -> assertThat(browser.get(server, "/me").body()).isEqualTo("alice"));

      // the first request records the access inside its EVALSHA; the other 99 find it recent
      assertThat(calls).isEqualTo(Map.of("evalsha", (long) REQUESTS, "hgetall", (long) REQUESTS,
          "hset", 1L, "pexpire", 1L));
    }

    @Test
    void aRequestThatChangesAnAttributeCostsOneReadAndOneConditionalWrite() {
      Browser browser = new Browser();
      browser.post(server, "/login?user=alice");

      Map<String, Long> calls = callsDuring(REQUESTS, i -> browser.post(server, "/set?name=n&type=long&value=" + i));

      // per request: the lookup (EVALSHA: HGETALL), then the delta (EVALSHA: PEXPIRE, which also
      // finds whether the session is still there, one HSET and the version)
      assertThat(calls).isEqualTo(Map.of("evalsha", 2L * REQUESTS, "hgetall", (long) REQUESTS,
          "hset", (long) REQUESTS, "pexpire", (long) REQUESTS, "hincrby", (long) REQUESTS));
      assertThat(browser.get(server, "/get?name=n").body()).isEqualTo("Long:" + (REQUESTS - 1));
    }
  }

  /** The calls per command Redis counted while {@code request} ran {@code times} times (given 0, 1, …). */
  private static Map<String, Long> callsDuring(int times, IntConsumer request) {
    return callsDuring(() -> {
      for (int i = 0; i < times; i++) {
        request.accept(i);
      }
    });
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
