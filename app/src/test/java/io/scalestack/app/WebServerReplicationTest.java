package io.scalestack.app;

import static io.scalestack.app.HttpTestClient.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.app.HttpTestClient.Reply;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The web tier on a primary and a streaming replica that applies WAL 2 s late: a user's profile
 * reads go to the replica only once it has their own last write, which the session carries from
 * one web server to the other.
 */
class WebServerReplicationTest {

  private static final String PASSWORD = "correct horse battery";
  private static final Pattern REPLICA_READS =
      Pattern.compile("(?m)^scalestack_data_reads_total\\{[^}]*served_by=\"replica\"[^}]*} ([0-9.E]+)$");

  private static final HttpTestClient http = new HttpTestClient();
  private static PostgresServer primary;
  private static PostgresServer replica;
  private static WebServer a;
  private static WebServer b;

  @BeforeAll
  static void start() {
    primary = TestEngines.postgresBuilder("web-primary").build().start();
    replica = TestEngines.postgresBuilder("web-replica").replicaOf(primary)
        .setting("recovery_min_apply_delay", "2s").build().start();
    RedisServer redis = TestEngines.redis();
    a = server("web-a", redis).start();
    b = server("web-b", redis).start();
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable closeable : new AutoCloseable[] {a, b, replica, primary}) {
      try {
        if (closeable != null) {
          closeable.close();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private static WebServer server(String name, RedisServer redis) {
    return WebServer.builder()
        .memberName(name)
        .jdbcUrl(primary.jdbcUrl())
        .replicaJdbcUrls(List.of(replica.jdbcUrl()))
        // keeps the 2 s-late replica in rotation: only the user's token keeps their reads fresh
        .replicaMaxLag(Duration.ofSeconds(60))
        .dbUser(primary.user())
        .dbPassword(primary.password())
        .redisUri(redis.uri())
        .poolSize(4)
        .bcryptCost(4)
        .sessionMaxInactive(Duration.ofMinutes(5))
        .maxRequestBodyBytes(2048)
        .build();
  }

  @Test
  void aUserReadsTheirOwnProfileChangesOnEveryServerWhileTheReplicaLags() {
    String username = "r" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    assertThat(http.post(a, "/api/signup", json("username", username, "password", PASSWORD, "displayName", "New"))
        .status()).isEqualTo(201);
    // a login right after the signup finds the account on any server: it reads the primary
    Reply login = http.post(b, "/api/login", json("username", username, "password", PASSWORD));
    assertThat(login.status()).as(login.body()).isEqualTo(200);
    String cookie = login.sessionCookie();

    int stale = 0;
    for (int i = 0; i < 20; i++) {
      WebServer writer = i % 2 == 0 ? a : b;
      WebServer reader = i % 2 == 0 ? b : a;
      Reply put = http.send(writer, "PUT", "/api/me", json("displayName", "Name " + i, "bio", ""), cookie);
      assertThat(put.status()).as(put.body()).isEqualTo(200);
      cookie = put.setSessionCookie().map(header -> header.split(";", 2)[0]).orElse(cookie); // as a browser does
      Reply me = http.get(reader, "/api/me", cookie);
      assertThat(me.status()).as(me.body()).isEqualTo(200);
      if (!me.json().get("displayName").asText().equals("Name " + i)) {
        stale++;
      }
    }

    // the replica is 2 s behind: every one of these reads had to come from the primary
    assertThat(stale).isZero();
    // and once the replica has replayed the user's last write, their reads go to it
    String caughtUp = cookie;
    double before = replicaReads(b);
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
      assertThat(http.get(b, "/api/me", caughtUp).json().get("displayName").asText()).isEqualTo("Name 19");
      assertThat(replicaReads(b)).isGreaterThan(before);
    });
  }

  private static double replicaReads(WebServer server) {
    Matcher matcher = REPLICA_READS.matcher(http.get(server, "/metrics").body());
    double total = 0;
    while (matcher.find()) {
      total += Double.parseDouble(matcher.group(1));
    }
    return total;
  }
}
