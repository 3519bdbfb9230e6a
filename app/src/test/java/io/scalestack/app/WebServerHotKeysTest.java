package io.scalestack.app;

import static io.scalestack.app.HttpTestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.scalestack.app.HttpTestClient.Reply;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The celebrity problem: readers who keep writing their own profiles (so their consistency tokens
 * are ahead of a replica that applies WAL 2 s late) read one user half of the time. Until that user
 * is found hot their reads go to the primary; from then on, none does.
 */
class WebServerHotKeysTest {

  private static final String PASSWORD = "correct horse battery";
  private static final HttpTestClient http = new HttpTestClient();
  private static final String ADMIN_TOKEN = "hot-keys-test-token-0123456789";
  private static PostgresServer primary;
  private static PostgresServer replica;
  private static WebServer web;

  @BeforeAll
  static void start() {
    primary = TestEngines.postgresBuilder("hot-primary").build().start();
    replica = TestEngines.postgresBuilder("hot-replica").replicaOf(primary)
        .setting("recovery_min_apply_delay", "2s").build().start();
    RedisServer redis = TestEngines.redis();
    web = WebServer.builder().memberName("web-hot").jdbcUrl(primary.jdbcUrl())
        // the database-side mechanism of issue 6 alone: no cache tier (issue 8) in front of it
        .replicaJdbcUrls(List.of(replica.jdbcUrl())).replicaMaxLag(Duration.ofSeconds(60)).cacheTier(false)
        .dbUser(primary.user()).dbPassword(primary.password()).redisUri(redis.uri())
        .poolSize(8).bcryptCost(4).sessionMaxInactive(Duration.ofMinutes(5)).adminToken(ADMIN_TOKEN).build().start();
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable closeable : new AutoCloseable[] {web, replica, primary}) {
      try {
        if (closeable != null) {
          closeable.close();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private record Reader(String cookie) {}

  private record Read(long startedNanos, long nanos, String source) {}

  private static String signUp(String username) {
    Reply signup = http.post(web, "/api/signup", json("username", username, "password", PASSWORD, "displayName", username));
    assertThat(signup.status()).as(signup.body()).isEqualTo(201);
    return signup.json().get("id").asText();
  }

  @Test
  void aUserGettingHalfOfAllReadsIsFoundHotWithinASecondAndTheirReadsStopHittingThePrimary() throws Exception {
    String celebrity = signUp("celebrity");
    List<String> others = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      others.add(signUp("fan" + i));
    }
    // the celebrity is not new: the late replica has them too
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
      try (var connection = java.sql.DriverManager.getConnection(replica.jdbcUrl(), replica.user(), replica.password());
          var statement = connection.createStatement();
          var rows = statement.executeQuery("SELECT count(*) FROM users WHERE id = " + Long.parseLong(celebrity))) {
        rows.next();
        return rows.getLong(1) == 1;
      }
    });
    List<Reader> readers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      Reply login = http.post(web, "/api/login", json("username", "fan" + i, "password", PASSWORD));
      assertThat(login.status()).isEqualTo(200);
      readers.add(new Reader(login.sessionCookie()));
    }

    ConcurrentLinkedQueue<Read> celebrityReads = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    long started = System.nanoTime();
    long end = started + TimeUnit.SECONDS.toNanos(3);
    List<Future<?>> loops = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (Reader reader : readers) {
        loops.add(pool.submit(() -> {
          String cookie = reader.cookie();
          for (int i = 0; System.nanoTime() < end; i++) {
            if (i % 10 == 0) { // a write of their own: the token moves past what the replica has
              Reply put = http.send(web, "PUT", "/api/me", json("displayName", "fan " + i, "bio", ""), cookie);
              if (put.status() != 200) {
                failures.add("PUT " + put.status());
              }
              cookie = put.setSessionCookie().map(h -> h.split(";", 2)[0]).orElse(cookie);
            }
            boolean famous = i % 2 == 0;
            String id = famous ? celebrity : others.get(ThreadLocalRandom.current().nextInt(others.size()));
            long sent = System.nanoTime();
            Reply read = http.get(web, "/api/users/" + id, cookie);
            if (read.status() != 200) {
              failures.add("GET " + read.status() + " " + read.body());
            } else if (famous) {
              celebrityReads.add(new Read(sent, System.nanoTime(), read.header("X-Read-From")));
            }
          }
          return null;
        }));
      }
      for (Future<?> loop : loops) {
        loop.get();
      }
    }

    assertThat(failures).isEmpty();
    Read firstHot = celebrityReads.stream().filter(r -> r.source().startsWith("hot-")).findFirst().orElseThrow();
    long detectedMillis = TimeUnit.NANOSECONDS.toMillis(firstHot.nanos() - started);
    long primaryBefore = celebrityReads.stream().filter(r -> r.nanos() < firstHot.nanos() && r.source().equals("primary")).count();
    // reads sent once the first hot answer was in (reads already in flight then were routed before)
    long primaryAfter = celebrityReads.stream()
        .filter(r -> r.startedNanos() > firstHot.nanos() && r.source().equals("primary")).count();
    long after = celebrityReads.stream().filter(r -> r.startedNanos() > firstHot.nanos()).count();
    System.out.printf("hot key: the celebrity was hot %d ms into the load; before, %d of their reads hit the primary;"
        + " after, %d of %d (%s)%n", detectedMillis, primaryBefore, primaryAfter, after,
        celebrityReads.stream().collect(java.util.stream.Collectors.groupingBy(Read::source, java.util.stream.Collectors.counting())));
    assertThat(detectedMillis).isLessThan(1000);
    assertThat(primaryBefore).as("without hot-key handling these reads go to the primary").isPositive();
    assertThat(after).isGreaterThan(100);
    assertThat(primaryAfter).isZero();

    // what `scalestack status` shows, through the control plane's token
    Reply hot = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
            "http://127.0.0.1:" + web.address().getPort() + "/internal/hot-keys"))
        .header("Authorization", "Bearer " + ADMIN_TOKEN).GET().build());
    assertThat(hot.status()).as(hot.body()).isEqualTo(200);
    assertThat(hot.json().get(0).get("userId").asText()).isEqualTo(celebrity);
    assertThat(hot.json().get(0).get("share").asDouble()).isBetween(0.3, 0.7);
  }

  @Test
  void aProfileReadNeedsALoginAndAnIdThatExists() {
    Reply login = http.post(web, "/api/login", json("username", "celebrity", "password", PASSWORD));
    String cookie = login.status() == 200 ? login.sessionCookie() : null;
    assertThat(http.get(web, "/api/users/1").status()).isEqualTo(401);
    if (cookie != null) {
      assertThat(http.get(web, "/api/users/abc", cookie).status()).isEqualTo(400);
      assertThat(http.get(web, "/api/users/123456789", cookie).status()).isEqualTo(404);
    }
  }
}
