package io.scalestack.app;

import static io.scalestack.app.HttpTestClient.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.scalestack.app.HttpTestClient.Reply;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.engines.testing.TestEngines;
import java.io.ByteArrayInputStream;
import java.net.http.HttpRequest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two web servers sharing one real PostgreSQL (a schema of this class's own) and one real Redis,
 * driven over real HTTP on loopback.
 */
class WebServerTest {

  private static final String SCHEMA =
      "app_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  private static final int MAX_BODY_BYTES = 2048;
  private static final String PASSWORD = "correct horse battery";
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  private static final HttpTestClient http = new HttpTestClient();
  private static PostgresServer postgres;
  private static WebServer a;
  private static WebServer b;

  @BeforeAll
  static void startTwoServers() throws Exception {
    postgres = TestEngines.postgres();
    RedisServer redis = TestEngines.redis();
    try (Connection connection = adminConnection(); Statement statement = connection.createStatement()) {
      statement.execute("CREATE SCHEMA " + SCHEMA);
    }
    String jdbcUrl = postgres.jdbcUrl() + "?currentSchema=" + SCHEMA;
    // Both migrate the fresh schema at once, as a fleet does at boot.
    try (ExecutorService starters = Executors.newVirtualThreadPerTaskExecutor()) {
      CompletableFuture<WebServer> first =
          CompletableFuture.supplyAsync(() -> server("web-a", jdbcUrl, redis).start(), starters);
      CompletableFuture<WebServer> second =
          CompletableFuture.supplyAsync(() -> server("web-b", jdbcUrl, redis).start(), starters);
      a = first.join();
      b = second.join();
    }
  }

  private static WebServer server(String name, String jdbcUrl, RedisServer redis) {
    return WebServer.builder()
        .memberName(name)
        .jdbcUrl(jdbcUrl)
        .dbUser(postgres.user())
        .dbPassword(postgres.password())
        .redisUri(redis.uri())
        .poolSize(4)
        .bcryptCost(4)
        .sessionMaxInactive(Duration.ofMinutes(5))
        .maxRequestBodyBytes(MAX_BODY_BYTES)
        .build();
  }

  @AfterAll
  static void stop() throws Exception {
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
    try (Connection connection = adminConnection(); Statement statement = connection.createStatement()) {
      statement.execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  @Test
  void theControlPlaneRepointsAServerAtANewPrimaryWithItsTokenAndNobodyElseCan() throws Exception {
    String token = "0123456789abcdef0123456789abcdef";
    String jdbcUrl = postgres.jdbcUrl() + "?currentSchema=" + SCHEMA;
    try (WebServer admin = WebServer.builder().memberName("web-admin").jdbcUrl(jdbcUrl)
        .dbUser(postgres.user()).dbPassword(postgres.password()).redisUri(TestEngines.redis().uri())
        .poolSize(2).bcryptCost(4).adminToken(token).build().start()) {
      String body = "{\"primary\":\"" + jdbcUrl + "\",\"replicas\":[]}";
      java.util.function.BiFunction<String, String, Reply> put = (authorization, json) -> {
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + admin.address().getPort() + "/internal/database-topology"))
            .header("Content-Type", "application/json")
            .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(json));
        if (authorization != null) {
          request.header("Authorization", authorization);
        }
        return http.send(request.build());
      };

      assertError(put.apply(null, body), 401,
          "Authorization: missing or wrong (expected: Bearer and the control plane's token)", null);
      assertError(put.apply("Bearer " + token.substring(1) + "0", body), 401,
          "Authorization: missing or wrong (expected: Bearer and the control plane's token)", null);
      assertError(put.apply("Bearer " + token, "{\"primary\":\"mysql://elsewhere\",\"replicas\":[]}"), 400,
          "primary: \"mysql://elsewhere\" (expected: a jdbc:postgresql:// URL of at most 512 characters)", "primary");
      Reply moved = put.apply("Bearer " + token, body);
      assertThat(moved.status()).as(moved.body()).isEqualTo(200);
      assertThat(moved.json().get("primary").asText()).isEqualTo(jdbcUrl);

      assertThat(http.post(admin, "/api/signup", json("username", uniqueUsername(), "password", PASSWORD,
          "displayName", "After")).status()).isEqualTo(201);
      assertThat(http.send(a, "PUT", "/internal/database-topology", body, null).status()).isEqualTo(404);
    }
  }

  private static Connection adminConnection() throws Exception {
    return DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
  }

  private static String uniqueUsername() {
    return "u" + SEQUENCE.incrementAndGet() + "_" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Signs a fresh user up on {@code server} and answers the username. */
  private static String signedUpUser(WebServer server) {
    String username = uniqueUsername();
    Reply reply =
        http.post(server, "/api/signup", json("username", username, "password", PASSWORD, "displayName", "Test " + username));
    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    return username;
  }

  /** Logs {@code username} in on {@code server} and answers the {@code SESSION=...} cookie. */
  private static String loggedIn(WebServer server, String username) {
    Reply reply = http.post(server, "/api/login", json("username", username, "password", PASSWORD));
    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    return reply.sessionCookie();
  }

  private static void assertError(Reply reply, int status, String error, String field) {
    assertThat(reply.status()).as(reply.body()).isEqualTo(status);
    assertThat(reply.header("Content-Type")).startsWith("application/json");
    JsonNode body = reply.json();
    assertThat(body.get("error").asText()).isEqualTo(error);
    if (field == null) {
      assertThat(body.get("field").isNull()).as(reply.body()).isTrue();
    } else {
      assertThat(body.get("field").asText()).isEqualTo(field);
    }
  }

  @Test
  void bothServersMigratedTheSharedSchemaExactlyOnce() throws Exception {
    try (Connection connection = adminConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT count(*) FROM " + SCHEMA + ".flyway_schema_history WHERE version = '1' AND success")) {
      try (ResultSet rows = statement.executeQuery()) {
        rows.next();
        assertThat(rows.getInt(1)).isEqualTo(1);
      }
    }
  }

  @Test
  void signupAnswers201WithTheNewUserAndNoSecrets() {
    String username = uniqueUsername();
    Reply reply =
        http.post(a, "/api/signup", json("username", username, "password", PASSWORD, "displayName", "Ada Lovelace"));

    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
    JsonNode body = reply.json();
    assertThat(body.get("id").asLong()).isPositive();
    assertThat(body.get("username").asText()).isEqualTo(username);
    assertThat(body.get("displayName").asText()).isEqualTo("Ada Lovelace");
    assertThat(body.properties()).hasSize(3);
  }

  @Test
  void signupOfATakenUsernameAnswers409EvenOnAnotherServer() {
    String username = signedUpUser(a);

    Reply reply =
        http.post(b, "/api/signup", json("username", username, "password", "another password", "displayName", "Impostor"));

    assertError(reply, 409, "username: '" + username + "' is already taken", "username");
  }

  @ParameterizedTest
  @ValueSource(strings = {"a", "ab", "Alice", "al-ice", "al ice", "abcdefghijklmnopqrstuvwxyz0123456"})
  void signupRejectsAMalformedUsernameNamingFieldValueAndExpected(String username) {
    Reply reply =
        http.post(a, "/api/signup", json("username", username, "password", PASSWORD, "displayName", "X"));

    assertError(reply, 400, "username: '" + username + "' (expected: 3..32 characters of [a-z0-9_])", "username");
  }

  @Test
  void signupRejectsAWrongTypedField() {
    Reply reply =
        http.post(a, "/api/signup", json("username", uniqueUsername(), "password", PASSWORD, "displayName", 42));

    assertError(
        reply,
        400,
        "displayName: 42 (expected: a string of 1..64 characters, not blank, without control characters)",
        "displayName");
  }

  @Test
  void signupRejectsAMissingField() {
    Reply reply = http.post(a, "/api/signup", json("username", uniqueUsername(), "displayName", "X"));

    assertError(reply, 400, "password: missing (expected: a string of 8..72 bytes of UTF-8 text)", "password");
  }

  @Test
  void signupRejectsAShortPasswordWithoutEchoingIt() {
    Reply reply =
        http.post(a, "/api/signup", json("username", uniqueUsername(), "password", "hunter2", "displayName", "X"));

    assertError(reply, 400, "password: a 7-byte string (expected: 8..72 bytes of UTF-8 text)", "password");
    assertThat(reply.body()).doesNotContain("hunter2");
  }

  @Test
  void signupRejectsAControlCharacterInTheDisplayName() {
    Reply reply =
        http.post(a, "/api/signup", json("username", uniqueUsername(), "password", PASSWORD, "displayName", "bell\u0007"));

    assertError(
        reply,
        400,
        "displayName: 'bell\\u0007' (expected: 1..64 characters, not blank, without control characters)",
        "displayName");
  }

  @Test
  void signupRejectsAnUnknownFieldByName() {
    Reply reply =
        http.post(a, "/api/signup", json("username", uniqueUsername(), "pasword", PASSWORD, "displayName", "X"));

    assertError(reply, 400, "'pasword': unknown field (expected: one of username, password, displayName)", "pasword");
  }

  @Test
  void malformedJsonAnswers400SayingWhere() {
    Reply reply = http.post(a, "/api/signup", "{\"username\": \"abc\",");

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.json().get("error").asText()).startsWith("The request body is not valid JSON at line 1, column ");
    assertThat(reply.json().get("field").isNull()).isTrue();
  }

  @Test
  void aBodyThatIsNotOneObjectAnswers400() {
    assertError(http.post(a, "/api/signup", "[1, 2]"), 400, "The request body is an array (expected: a JSON object).", null);
    assertError(http.post(a, "/api/signup", ""), 400, "The request body is empty (expected: a JSON object).", null);
    Reply trailing = http.post(a, "/api/login", "{\"username\":\"abc\",\"password\":\"x\"} {}");
    assertThat(trailing.status()).isEqualTo(400);
    assertThat(trailing.json().get("error").asText()).startsWith("The request body is not valid JSON");
    Reply duplicate = http.post(a, "/api/login", "{\"username\":\"abc\",\"username\":\"abd\",\"password\":\"x\"}");
    assertThat(duplicate.status()).isEqualTo(400);
    assertThat(duplicate.json().get("error").asText()).contains("Duplicate field 'username'");
  }

  @Test
  void aBodyThatIsNotJsonAnswers415() {
    Reply reply =
        http.send(
            HttpRequest.newBuilder(HttpTestClient.uri(a, "/api/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("username=abc&password=x"))
                .build());

    assertError(reply, 415, "Content-Type: 'application/x-www-form-urlencoded' (expected: application/json)", null);
    // The refused body was read and dropped, so the connection stays open for the next request.
    assertThat(reply.header("Connection")).isNull();
    Reply big =
        http.send(
            HttpRequest.newBuilder(HttpTestClient.uri(a, "/api/login"))
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(MAX_BODY_BYTES + 1)))
                .build());
    assertThat(big.status()).isEqualTo(415);
    assertThat(big.header("Connection")).isEqualTo("close");
  }

  @Test
  void loginAnswersTheProfileAndAnHttpOnlySameSiteLaxSessionCookie() {
    String username = signedUpUser(a);

    Reply reply = http.post(a, "/api/login", json("username", username, "password", PASSWORD));

    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    assertThat(reply.json().get("username").asText()).isEqualTo(username);
    String setCookie = reply.setSessionCookie().orElseThrow();
    List<String> attributes =
        List.of(setCookie.split(";")).stream().map(s -> s.trim().toLowerCase(Locale.ROOT)).toList();
    assertThat(attributes).contains("httponly", "samesite=lax", "path=/");
    assertThat(reply.header("Cache-Control")).isEqualTo("no-store");
  }

  @Test
  void everyFailedLoginGetsTheSame401WhicheverPartWasWrong() {
    String username = signedUpUser(a);

    Reply wrongPassword = http.post(a, "/api/login", json("username", username, "password", "not the password"));
    Reply unknownUser = http.post(a, "/api/login", json("username", uniqueUsername(), "password", PASSWORD));
    Reply impossibleUser = http.post(b, "/api/login", json("username", "No Such User!", "password", PASSWORD));
    Reply overlongPassword = http.post(b, "/api/login", json("username", username, "password", PASSWORD + "x".repeat(80)));

    for (Reply reply : List.of(wrongPassword, unknownUser, impossibleUser, overlongPassword)) {
      assertError(reply, 401, "The username or password is incorrect.", null);
      assertThat(reply.body()).isEqualTo(wrongPassword.body());
      assertThat(reply.setSessionCookie()).isEmpty();
    }
  }

  @Test
  void loginWithAWrongTypedFieldAnswers400() {
    Reply reply = http.post(a, "/api/login", json("username", "someone", "password", 12345678));

    assertError(reply, 400, "password: a number (expected: a string)", "password");
    assertThat(reply.body()).doesNotContain("12345678");
  }

  @Test
  void loginRotatesTheSessionIdAndTheOldIdStopsWorking() {
    String username = signedUpUser(a);
    String first = loggedIn(a, username);

    Reply again = http.post(a, "/api/login", json("username", username, "password", PASSWORD), first);

    assertThat(again.status()).isEqualTo(200);
    String second = again.sessionCookie();
    assertThat(second).isNotEqualTo(first);
    assertThat(http.get(a, "/api/me", first).status()).isEqualTo(401);
    assertThat(http.get(a, "/api/me", second).status()).isEqualTo(200);
  }

  @Test
  void meWithoutASessionAnswers401() {
    assertError(http.get(a, "/api/me"), 401, "You are not logged in.", null);
    assertError(http.get(a, "/api/me", "SESSION=forged-session-id"), 401, "You are not logged in.", null);
  }

  @Test
  void meAnswersTheLoggedInUsersProfile() {
    String username = signedUpUser(a);
    String cookie = loggedIn(a, username);

    Reply reply = http.get(a, "/api/me", cookie);

    assertThat(reply.status()).as(reply.body()).isEqualTo(200);
    JsonNode me = reply.json();
    assertThat(me.get("id").asLong()).isPositive();
    assertThat(me.get("username").asText()).isEqualTo(username);
    assertThat(me.get("displayName").asText()).isEqualTo("Test " + username);
    assertThat(me.get("bio").asText()).isEmpty();
    assertThat(me.properties()).hasSize(4);
  }

  @Test
  void putMeUpdatesTheProfile() {
    String username = signedUpUser(a);
    String cookie = loggedIn(a, username);

    Reply put =
        http.send(a, "PUT", "/api/me", json("displayName", "Grace Hopper", "bio", "Compilers.\nCOBOL."), cookie);

    assertThat(put.status()).as(put.body()).isEqualTo(200);
    assertThat(put.json().get("displayName").asText()).isEqualTo("Grace Hopper");
    assertThat(put.json().get("bio").asText()).isEqualTo("Compilers.\nCOBOL.");
    JsonNode me = http.get(a, "/api/me", cookie).json();
    assertThat(me.get("displayName").asText()).isEqualTo("Grace Hopper");
    assertThat(me.get("bio").asText()).isEqualTo("Compilers.\nCOBOL.");
  }

  @Test
  void putMeRejectsAnOverlongBioAndNeedsASession() {
    String cookie = loggedIn(a, signedUpUser(a));

    Reply overlong = http.send(a, "PUT", "/api/me", json("displayName", "X", "bio", "b".repeat(501)), cookie);
    Reply anonymous = http.send(a, "PUT", "/api/me", json("displayName", "X", "bio", ""), null);

    assertError(
        overlong,
        400,
        "bio: '" + "b".repeat(40) + "…' (expected: 0..500 characters, without control characters other than line breaks and tabs)",
        "bio");
    assertError(anonymous, 401, "You are not logged in.", null);
  }

  @Test
  void logoutAnswers204AndEndsTheSession() {
    String cookie = loggedIn(a, signedUpUser(a));

    Reply logout = http.post(a, "/api/logout", null, cookie);

    assertThat(logout.status()).isEqualTo(204);
    assertThat(http.get(a, "/api/me", cookie).status()).isEqualTo(401);
    assertThat(http.post(a, "/api/logout", null).status()).isEqualTo(204);
  }

  @Test
  void logoutEverywhereEndsEverySessionOfTheUserOnEveryServerAndNoOneElses() {
    String username = signedUpUser(a);
    String phone = loggedIn(a, username);
    String laptop = loggedIn(b, username);
    String someoneElse = loggedIn(b, signedUpUser(b));

    assertThat(http.post(b, "/api/logout-everywhere", null, phone).status()).isEqualTo(204);

    assertThat(http.get(a, "/api/me", phone).status()).isEqualTo(401);
    assertThat(http.get(a, "/api/me", laptop).status()).isEqualTo(401);
    assertThat(http.get(a, "/api/me", someoneElse).status()).isEqualTo(200);
    assertThat(http.post(a, "/api/logout-everywhere", null).status()).isEqualTo(401);
  }

  @Test
  void aSessionStartedOnOneServerWorksOnTheOther() {
    String username = signedUpUser(a);
    String cookie = loggedIn(a, username);

    Reply onB = http.get(b, "/api/me", cookie);
    assertThat(onB.status()).as(onB.body()).isEqualTo(200);
    assertThat(onB.header("X-Served-By")).isEqualTo("web-b");
    assertThat(onB.json().get("username").asText()).isEqualTo(username);

    http.send(b, "PUT", "/api/me", json("displayName", "Edited on b", "bio", "hi"), cookie);
    assertThat(http.get(a, "/api/me", cookie).json().get("displayName").asText()).isEqualTo("Edited on b");

    assertThat(http.post(b, "/api/logout", null, cookie).status()).isEqualTo(204);
    assertThat(http.get(a, "/api/me", cookie).status()).isEqualTo(401);
  }

  @Test
  void passwordsAreStoredAsBcryptHashesOfTheConfiguredCost() throws Exception {
    String username = signedUpUser(b);

    try (Connection connection = adminConnection();
        PreparedStatement statement =
            connection.prepareStatement("SELECT password_hash FROM " + SCHEMA + ".users WHERE username = ?")) {
      statement.setString(1, username);
      try (ResultSet rows = statement.executeQuery()) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getString(1)).startsWith("$2a$04$").doesNotContain(PASSWORD).hasSize(60);
      }
    }
  }

  @Test
  void metricsCountRequestsByRouteTemplateNeverByRawPath() {
    http.get(a, "/api/me");
    http.get(a, "/no/such/thing-1234");

    Reply metrics = http.get(a, "/metrics");

    assertThat(metrics.status()).isEqualTo(200);
    assertThat(metrics.header("Content-Type")).startsWith("text/plain").contains("version=0.0.4");
    assertThat(metrics.body())
        .containsPattern(series("http_server_requests_seconds_count", "GET", "/api/me", "401") + " [1-9]")
        .containsPattern(series("http_server_requests_seconds_bucket", "GET", "/api/me", "401"))
        .containsPattern(series("http_server_requests_seconds_count", "GET", "NOT_FOUND", "404"))
        .doesNotContain("thing-1234");
  }

  private static Pattern series(String name, String method, String route, String status) {
    return Pattern.compile(
        Pattern.quote(name) + "\\{(?=[^}]*member=\"web-a\")(?=[^}]*method=\"" + method + "\")(?=[^}]*route=\""
            + Pattern.quote(route) + "\")(?=[^}]*status=\"" + status + "\")[^}]*}");
  }

  @Test
  void healthIsUpWhenTheDatabaseAndRedisAreReachable() {
    Reply reply = http.get(b, "/health");

    assertThat(reply.status()).isEqualTo(200);
    JsonNode health = reply.json();
    assertThat(health.get("status").asText()).isEqualTo("UP");
    assertThat(health.get("member").asText()).isEqualTo("web-b");
    assertThat(health.get("checks").get("database").asText()).isEqualTo("UP");
    assertThat(health.get("checks").get("redis").asText()).isEqualTo("UP");
  }

  @Test
  void anOversizedBodyAnswers413AndDisturbsNoOneElse() {
    String cookie = loggedIn(a, signedUpUser(a));
    String big = json("username", "x".repeat(MAX_BODY_BYTES), "password", PASSWORD);

    Reply declared = http.post(a, "/api/login", big);
    Reply chunked =
        http.send(
            HttpRequest.newBuilder(HttpTestClient.uri(a, "/api/login"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big.getBytes())))
                .build());

    assertError(declared, 413, "The request body is larger than " + MAX_BODY_BYTES + " bytes.", null);
    assertError(chunked, 413, "The request body is larger than " + MAX_BODY_BYTES + " bytes.", null);
    // The unread rest of the body makes the connection unusable; the client must be told.
    assertThat(declared.header("Connection")).isEqualTo("close");
    assertThat(chunked.header("Connection")).isEqualTo("close");
    assertThat(http.get(a, "/api/me", cookie).status()).isEqualTo(200);
  }

  @Test
  void aBodyOfExactlyTheLimitIsAccepted() {
    String username = uniqueUsername();
    String body = json("username", username, "password", PASSWORD, "displayName", "Edge");
    String padded = body + " ".repeat(MAX_BODY_BYTES - body.length());

    Reply reply = http.post(b, "/api/signup", padded);

    assertThat(reply.status()).as(reply.body()).isEqualTo(201);
  }

  @Test
  void everyResponseSaysWhichServerAnswered() {
    List<Reply> fromA =
        List.of(
            http.get(a, "/"),
            http.get(a, "/health"),
            http.get(a, "/metrics"),
            http.get(a, "/api/me"),
            http.get(a, "/nowhere"),
            http.post(a, "/api/signup", "{"),
            http.get(a, "/api/login"));

    assertThat(fromA).allSatisfy(reply -> assertThat(reply.header("X-Served-By")).isEqualTo("web-a"));
    assertThat(http.get(b, "/api/me").header("X-Served-By")).isEqualTo("web-b");
  }

  @Test
  void anUnknownPathAnswers404AndAWrongMethod405() {
    assertError(
        http.get(a, "/api/nothing"),
        404,
        "path: '/api/nothing' (expected: one of /, /api/signup, /api/login, /api/logout, /api/logout-everywhere, /api/me, /api/users/{id},"
            + " /api/photos, /api/photos/{id}, /api/photos/{id}/versions, /api/photos/{id}/edits, /api/jobs/{id}, /health, /metrics)",
        null);
    Reply wrongMethod = http.get(a, "/api/login");
    assertError(wrongMethod, 405, "method: 'GET' (expected: POST)", null);
    assertThat(wrongMethod.header("Allow")).isEqualTo("POST");
    Reply deleteMe = http.send(a, "DELETE", "/api/me", null, null);
    assertError(deleteMe, 405, "method: 'DELETE' (expected: one of GET, PUT)", null);
  }

  @Test
  void errorsJettyRaisesItselfAreJsonToo() {
    Reply reply = http.post(a, "/health", "{}");

    assertThat(reply.status()).isEqualTo(405);
    assertThat(reply.header("Content-Type")).startsWith("application/json");
    assertThat(reply.json().get("error").asText()).startsWith("405 Method Not Allowed");
    assertThat(reply.json().get("field").isNull()).isTrue();
    assertThat(reply.header("X-Served-By")).isEqualTo("web-a");
  }

  @Test
  void theRootServesAPageToSignUpLogInEditAndLogOut() {
    Reply page = http.get(a, "/");
    Reply script = http.get(a, "/app.js");

    assertThat(page.status()).isEqualTo(200);
    assertThat(page.header("Content-Type")).startsWith("text/html");
    assertThat(page.body()).contains("id=\"signup\"", "id=\"login\"", "id=\"profile\"", "id=\"logout\"",
        "id=\"upload\"", "id=\"edit\"", "id=\"jobs\"");
    assertThat(page.header("Cache-Control")).isEqualTo("no-cache");
    // the page names the script by its fingerprint: immutable, cacheable for a year by anyone
    java.util.regex.Matcher src = java.util.regex.Pattern.compile("src=\"(/static/app\\.[0-9a-f]{10}\\.js)\"")
        .matcher(page.body());
    assertThat(src.find()).as(page.body()).isTrue();
    Reply fingerprinted = http.get(a, src.group(1));
    assertThat(fingerprinted.status()).isEqualTo(200);
    assertThat(fingerprinted.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
    assertThat(fingerprinted.body()).isEqualTo(script.body());
    assertThat(http.send(java.net.http.HttpRequest.newBuilder(HttpTestClient.uri(a, src.group(1)))
        .header("If-None-Match", fingerprinted.header("ETag")).build()).status()).isEqualTo(304);
    assertThat(http.get(a, "/static/app.0000000000.js").status()).isEqualTo(404);
    assertThat(script.status()).isEqualTo(200);
    assertThat(script.header("Content-Type")).startsWith("text/javascript");
    assertThat(script.body()).contains("'/api/signup'", "'/api/login'", "'/api/me'", "'/api/logout'");
  }
}
