package io.scalestack.app;

import static io.scalestack.app.HttpTestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.scalestack.app.HttpTestClient.Reply;
import io.scalestack.data.ShardFunction;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.engines.testing.TestEngines;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * Users spread over three shards (databases of one PostgreSQL): each user's row on the shard the
 * stored map names, the name in the catalog's directory; two servers booting at once, and a third
 * configured for two shards following the stored map of three.
 */
class WebServerShardingTest {

  private static final String PASSWORD = "correct horse battery";
  private static final HttpTestClient http = new HttpTestClient();

  private final PostgresServer postgres = TestEngines.postgres();
  private final String database = "sharded_" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);

  private String url(String db) {
    return postgres.jdbcUrl().substring(0, postgres.jdbcUrl().lastIndexOf('/') + 1) + db;
  }

  private WebServer server(String name, int shards) {
    RedisServer redis = TestEngines.redis();
    return WebServer.builder().memberName(name).jdbcUrl(url(database)).dbUser(postgres.user())
        .dbPassword(postgres.password()).redisUri(redis.uri()).poolSize(2).bcryptCost(4)
        .sessionMaxInactive(Duration.ofMinutes(5)).shards(shards, ShardFunction.MODULO).build();
  }

  private long query(String db, String sql) throws Exception {
    try (Connection connection = DriverManager.getConnection(url(db), postgres.user(), postgres.password());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  @Test
  void usersLandOnTheirShardAndEveryServerFollowsTheStoredMap() throws Exception {
    try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
    }
    // both at once, as a fleet boots: one publishes the first map, both create the shard databases
    java.util.concurrent.CompletableFuture<WebServer> first =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> server("web-1", 3).start());
    java.util.concurrent.CompletableFuture<WebServer> second =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> server("web-2", 3).start());
    try (WebServer a = first.join(); WebServer b = second.join();
        WebServer late = server("web-3", 2).start()) {
      List<Long> ids = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        String username = "s" + i + "_" + database.substring(8);
        Reply signup = http.post(a, "/api/signup", json("username", username, "password", PASSWORD, "displayName", "U" + i));
        assertThat(signup.status()).as(signup.body()).isEqualTo(201);
        ids.add(signup.json().get("id").asLong());
        // the other server logs the user in (directory, then the user's shard) and updates the profile
        Reply login = http.post(b, "/api/login", json("username", username, "password", PASSWORD));
        assertThat(login.status()).as(login.body()).isEqualTo(200);
        Reply put = http.send(b, "PUT", "/api/me", json("displayName", "V" + i, "bio", "on a shard"), login.sessionCookie());
        assertThat(put.status()).as(put.body()).isEqualTo(200);
        assertThat(http.get(a, "/api/me", put.setSessionCookie().map(h -> h.split(";", 2)[0]).orElse(login.sessionCookie()))
            .json().get("displayName").asText()).isEqualTo("V" + i);
      }
      assertThat(http.post(b, "/api/signup", json("username", "s0_" + database.substring(8), "password", PASSWORD,
          "displayName", "Again")).status()).as("a name taken on another shard").isEqualTo(409);

      assertThat(http.get(late, "/health").status()).isEqualTo(200);
      // three shards from the stored map (web-3's "2" was ignored), every row where modulo 3 puts it
      List<String> shards = List.of(database, database + "_s1", database + "_s2");
      assertThat(query(database, "SELECT max(version) FROM shard_map")).isEqualTo(1);
      assertThat(query(database, "SELECT count(*) FROM user_directory")).isEqualTo(30);
      for (int shard = 0; shard < 3; shard++) {
        int expected = 0;
        for (long id : ids) {
          expected += ShardFunction.MODULO.shardOf(id, 3) == shard ? 1 : 0;
        }
        assertThat(query(shards.get(shard), "SELECT count(*) FROM users WHERE bio = 'on a shard'"))
            .as("shard %d", shard).isEqualTo(expected);
        assertThat(expected).as("shard %d", shard).isPositive();
      }
    }
  }
}
