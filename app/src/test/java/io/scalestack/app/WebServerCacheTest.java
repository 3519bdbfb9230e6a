package io.scalestack.app;

import static io.scalestack.app.HttpTestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import io.scalestack.app.HttpTestClient.Reply;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.engines.testing.TestEngines;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cache tier in the web tier (issue 8): three web servers, one profile read by 1,000
 * concurrent requests spread over them while it is in no cache, or just after it changed. The
 * database is asked once; every reader gets the profile as of the last change.
 */
class WebServerCacheTest {

  private static final String PASSWORD = "correct horse battery";
  private static final HttpTestClient http = new HttpTestClient();
  private static final List<WebServer> servers = new ArrayList<>();
  private static String schema;

  @BeforeAll
  static void startThreeServers() throws Exception {
    PostgresServer postgres = TestEngines.postgres();
    RedisServer redis = TestEngines.redis();
    schema = "cache_test_" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    try (Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
        Statement statement = connection.createStatement()) {
      statement.execute("CREATE SCHEMA " + schema);
    }
    for (int i = 1; i <= 3; i++) {
      servers.add(WebServer.builder().memberName("web-c" + i).jdbcUrl(postgres.jdbcUrl() + "?currentSchema=" + schema)
          .dbUser(postgres.user()).dbPassword(postgres.password()).redisUri(redis.uri()).poolSize(8).bcryptCost(4)
          .build().start());
    }
  }

  @AfterAll
  static void stop() {
    servers.forEach(WebServer::close);
  }

  private static String logIn(String username) {
    assertThat(http.post(servers.get(0), "/api/signup", json("username", username, "password", PASSWORD,
        "displayName", "Name of " + username)).status()).isEqualTo(201);
    return http.post(servers.get(1), "/api/login", json("username", username, "password", PASSWORD)).sessionCookie();
  }

  /** 1,000 concurrent reads of {@code id}'s profile over the three servers: where each was served, and the names seen. */
  private static Map<String, LongAdder> readConcurrently(long id, String cookie, Map<String, LongAdder> names)
      throws Exception {
    Map<String, LongAdder> sources = new ConcurrentHashMap<>();
    try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> reads = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        WebServer server = servers.get(i % 3);
        reads.add(readers.submit(() -> {
          Reply reply = http.get(server, "/api/users/" + id, cookie);
          assertThat(reply.status()).as(reply.body()).isEqualTo(200);
          sources.computeIfAbsent(reply.header("X-Read-From"), k -> new LongAdder()).increment();
          names.computeIfAbsent(reply.json().get("displayName").asText(), k -> new LongAdder()).increment();
        }));
      }
      for (Future<?> read : reads) {
        read.get();
      }
    }
    return sources;
  }

  @Test
  void aThousandConcurrentReadsOfAnUncachedOrJustChangedProfileOnThreeServersMakeOneDatabaseLoad() throws Exception {
    String suffix = schema.substring(11);
    String celebrity = logIn("celeb_" + suffix);
    long id = http.get(servers.get(2), "/api/me", celebrity).json().get("id").asLong();
    String reader = logIn("fan_" + suffix);

    Map<String, LongAdder> names = new ConcurrentHashMap<>();
    Map<String, LongAdder> cold = readConcurrently(id, reader, names);

    assertThat(cold.get("primary").sum()).as("database loads, in %s", cold).isEqualTo(1);
    assertThat(cold.get("cache").sum()).isEqualTo(999);
    assertThat(names.keySet()).containsExactly("Name of celeb_" + suffix);

    // a change: committed, then invalidated everywhere; the next stampede loads once, the new name
    Reply changed = http.send(servers.get(0), "PUT", "/api/me", json("displayName", "Renamed", "bio", "new"), celebrity);
    assertThat(changed.status()).isEqualTo(200);
    Map<String, LongAdder> afterChange = new ConcurrentHashMap<>();
    Map<String, LongAdder> warm = readConcurrently(id, reader, afterChange);

    assertThat(warm.get("primary").sum()).as("database loads, in %s", warm).isEqualTo(1);
    assertThat(afterChange).containsKey("Renamed");
    // the old name can be served only by another server's L1 in the moment before the invalidation
    // message reaches it (pub/sub, sub-millisecond here); it survives nowhere
    for (WebServer server : servers) {
      assertThat(http.get(server, "/api/users/" + id, reader).json().get("displayName").asText()).isEqualTo("Renamed");
    }
    System.out.printf("cache tier: 1,000 reads on 3 servers, cold %s; after a change %s, names served %s%n", cold,
        warm, afterChange);
  }
}
