package io.scalestack.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.scalestack.app.HttpTestClient.Reply;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.engines.testing.TestEngines;
import io.scalestack.observability.Telemetry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Starting, failing to start and stopping a {@link WebServer}, on real engines. */
class WebServerLifecycleTest {

  private static final String SCHEMA =
      "app_life_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

  private static final HttpTestClient http = new HttpTestClient();
  private static PostgresServer postgres;
  private static RedisServer redis;
  private static String jdbcUrl;

  @BeforeAll
  static void engines() throws Exception {
    postgres = TestEngines.postgres();
    redis = TestEngines.redis();
    try (Connection connection = admin(); Statement statement = connection.createStatement()) {
      statement.execute("CREATE SCHEMA " + SCHEMA);
    }
    jdbcUrl = postgres.jdbcUrl() + "?currentSchema=" + SCHEMA;
  }

  @AfterAll
  static void dropSchema() throws Exception {
    try (Connection connection = admin(); Statement statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  private static Connection admin() throws Exception {
    return DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
  }

  private static WebServer.Builder builder(String member) {
    return WebServer.builder()
        .memberName(member)
        .jdbcUrl(jdbcUrl)
        .dbUser(postgres.user())
        .dbPassword(postgres.password())
        .redisUri(redis.uri())
        .bcryptCost(4);
  }

  /** A loopback port nothing listens on (bound, then released). */
  private static int closedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Test
  void startFailsNamingTheDatabaseWhenItIsUnreachable() throws IOException {
    int port = closedPort();
    WebServer server =
        builder("web-nodb").jdbcUrl("jdbc:postgresql://127.0.0.1:" + port + "/nothing").build();

    assertThatThrownBy(server::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("web-nodb: cannot connect to PostgreSQL at jdbc:postgresql://127.0.0.1:" + port + "/nothing: ");
    assertThatThrownBy(server::address).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void startFailsNamingTheAddressWhenThePortIsTaken() throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      WebServer server =
          builder("web-busy").listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort())).build();

      assertThatThrownBy(server::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("web-busy: cannot serve HTTP on 127.0.0.1:" + taken.getLocalPort() + ": ");
    }
  }

  @Test
  void healthAnswers503AndTheApi503WhenRedisIsUnreachable() throws IOException {
    try (WebServer server = builder("web-noredis").redisUri("redis://127.0.0.1:" + closedPort()).build().start()) {
      Reply health = http.get(server, "/health");
      Reply me = http.get(server, "/api/me", "SESSION=" + "A".repeat(43));

      assertThat(health.status()).isEqualTo(503);
      JsonNode body = health.json();
      assertThat(body.get("status").asText()).isEqualTo("DOWN");
      assertThat(body.get("member").asText()).isEqualTo("web-noredis");
      assertThat(body.get("checks").get("database").asText()).isEqualTo("UP");
      assertThat(body.get("checks").get("redis").asText()).isEqualTo("DOWN");
      assertThat(me.status()).isEqualTo(503);
      assertThat(me.json().get("error").asText()).isEqualTo("The session store is unavailable; try again later.");
      assertThat(me.header("X-Served-By")).isEqualTo("web-noredis");
    }
  }

  @Test
  void closeStopsListeningAndIsIdempotent() throws IOException {
    WebServer server = builder("web-close").build().start();
    InetSocketAddress address = server.address();
    assertThat(http.get(server, "/health").status()).isEqualTo(200);

    server.close();
    server.close();

    assertThatThrownBy(() -> new Socket(address.getAddress(), address.getPort()).close())
        .isInstanceOf(ConnectException.class);
    assertThatThrownBy(server::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a server starts at most once");
  }

  @Test
  void aGivenTelemetryIsRecordedIntoAndLeftOpen() {
    try (Telemetry telemetry = Telemetry.forMember("web-telemetry")) {
      try (WebServer server = builder("web-telemetry").telemetry(telemetry).build().start()) {
        http.get(server, "/health");
      }
      assertThat(telemetry.scrape()).contains("route=\"/health\"");
    }
  }

  @Test
  void theBuilderRejectsBadValuesNamingFieldValueAndExpected() {
    WebServer.Builder builder = WebServer.builder();

    assertThatThrownBy(() -> builder.bcryptCost(3)).hasMessage("bcryptCost: 3 (expected: 4..31)");
    assertThatThrownBy(() -> builder.poolSize(0)).hasMessage("poolSize: 0 (expected: 1..1000)");
    assertThatThrownBy(() -> builder.maxRequestBodyBytes(0))
        .hasMessage("maxRequestBodyBytes: 0 (expected: 1..67108864)");
    assertThatThrownBy(() -> builder.memberName("web 1"))
        .hasMessage("memberName: 'web 1' (expected: 1..64 characters of [A-Za-z0-9._-], starting with a letter or digit)");
    assertThatThrownBy(() -> builder.jdbcUrl("jdbc:mysql://x/y?password=secret"))
        .hasMessage("jdbcUrl: 'jdbc:mysql://x/y?password=***' (expected: a URL starting with jdbc:postgresql:)");
    assertThatThrownBy(() -> builder.redisUri("http://x")).hasMessageStartingWith("redisUri: 'http://x' (expected: ");
    assertThatThrownBy(() -> WebServer.builder().memberName("web-1").build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("jdbcUrl: missing (expected: a jdbc:postgresql: URL)");
    assertThatThrownBy(
            () -> builder("web-1").telemetry(Telemetry.forMember("web-2")).build())
        .hasMessage("telemetry: member 'web-2' (expected: the memberName 'web-1')");
  }
}
