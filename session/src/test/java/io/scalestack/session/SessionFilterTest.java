package io.scalestack.session;

import static io.scalestack.session.StoredSessions.SET_COOKIE_FLAGS;
import static io.scalestack.session.StoredSessions.key;
import static io.scalestack.session.StoredSessions.sessionCookie;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.scalestack.engines.testing.TestEngines;
import io.scalestack.session.internal.SessionIds;
import io.scalestack.session.Browser.Reply;
import java.net.ServerSocket;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The session layer end to end: two real Jetty servers, each with its own repository (as two web server processes would
 * have), sharing one real Redis, driven over HTTP.
 */
class SessionFilterTest {

  private static RedisClient adminClient;
  private static StatefulRedisConnection<String, String> adminConnection;
  private static RedisCommands<String, String> redis;

  private final List<AutoCloseable> resources = new ArrayList<>();
  private WebServer serverA;
  private WebServer serverB;

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
  void startTwoServers() throws Exception {
    serverA = server(SessionFilter.builder());
    serverB = server(SessionFilter.builder());
  }

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  @Test
  void sessionCreatedOnOneServerIsReadOnAnother() {
    Browser browser = new Browser();

    Reply login = browser.post(serverA, "/login?user=alice");
    Reply me = browser.get(serverB, "/me");

    assertThat(login.status()).isEqualTo(200);
    assertThat(me.status()).isEqualTo(200);
    assertThat(me.body()).isEqualTo("alice");
    assertThat(browser.get(serverA, "/me").body()).isEqualTo("alice");
  }

  @Test
  void changeSessionIdMovesTheSessionAndTheOldIdStopsWorking() {
    Browser browser = new Browser();
    String anonymousId = browser.post(serverA, "/set?name=cart&type=long&value=3").body();
    assertThat(browser.cookie()).startsWith(anonymousId + ".");

    Reply login = browser.post(serverA, "/login?user=alice");

    String loggedInId = login.body();
    assertThat(loggedInId).isNotEqualTo(anonymousId).hasSize(43);
    assertThat(login.setCookie()).matches(sessionCookie(loggedInId));
    assertThat(redis.exists(key(anonymousId))).isZero();
    assertThat(browser.get(serverB, "/get?name=cart").body()).isEqualTo("Long:3");
    assertThat(browser.get(serverB, "/me").body()).isEqualTo("alice");
    Browser attacker = new Browser().cookie(anonymousId);
    assertThat(attacker.get(serverA, "/me").status()).isEqualTo(401);
    assertThat(attacker.get(serverB, "/me").status()).isEqualTo(401);
    assertThat(attacker.get(serverB, "/id").body()).isEqualTo("none");
  }

  @Test
  void loginWithoutAPriorSessionSendsOneCookieWithTheFinalId() {
    Browser browser = new Browser();

    Reply login = browser.post(serverA, "/login?user=bob");

    assertThat(login.setCookie()).matches(sessionCookie(login.body()));
    assertThat(redis.hget(key(login.body()), "attr:user")).isEqualTo("s:bob");
  }

  @Test
  void rotatingTheIdOfAnExistingSessionSendsTheNewIdAndKeepsTheTtl() {
    Browser browser = new Browser();
    String oldId = browser.post(serverA, "/login?user=carol").body();

    Reply rotate = browser.post(serverB, "/rotate");

    String newId = rotate.body();
    assertThat(rotate.setCookie()).matches(sessionCookie(newId));
    assertThat(redis.exists(key(oldId))).isZero();
    assertThat(redis.pttl(key(newId))).isGreaterThan(Duration.ofMinutes(29).toMillis());
    assertThat(browser.get(serverA, "/me").body()).isEqualTo("carol");
  }

  @Test
  void loggingOutEverywhereEndsTheUsersSessionsOnEveryServerAndDevice() throws Exception {
    RedisSessionRepository repository = RedisSessionRepository.create(TestEngines.redis().uri());
    resources.add(repository);
    Browser phone = new Browser();
    Browser laptop = new Browser();
    Browser other = new Browser();
    phone.post(serverA, "/login-as?user=erin");
    laptop.post(serverB, "/login-as?user=erin");
    other.post(serverA, "/login-as?user=frank");

    assertThat(repository.deleteAllOf("erin")).isEqualTo(2);

    assertThat(phone.get(serverB, "/me").status()).isEqualTo(401);
    assertThat(laptop.get(serverA, "/me").status()).isEqualTo(401);
    assertThat(other.get(serverB, "/me").body()).isEqualTo("frank");
  }

  @Test
  void invalidateDeletesTheKeyAndExpiresTheCookie() {
    Browser browser = new Browser();
    String id = browser.post(serverA, "/login?user=alice").body();
    assertThat(redis.exists(key(id))).isOne();

    Reply logout = new Browser().cookie(id).post(serverB, "/logout");

    assertThat(logout.status()).isEqualTo(204);
    assertThat(logout.setCookie())
        .isEqualTo("SESSION=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" + SET_COOKIE_FLAGS);
    assertThat(redis.exists(key(id))).isZero();
    assertThat(browser.get(serverA, "/me").status()).isEqualTo(401);
  }

  @Test
  void sessionIsOneRedisHashWithTtlOfTheMaxInactiveInterval() {
    Instant before = Instant.now();
    String id = new Browser().post(serverA, "/login?user=alice").body();

    var hash = redis.hgetall(key(id));

    assertThat(hash).containsOnlyKeys("creationTime", "lastAccessedTime", "maxInactiveInterval", "version", "attr:user");
    assertThat(hash).containsEntry("maxInactiveInterval", "1800").containsEntry("attr:user", "s:alice");
    assertThat(Long.parseLong(hash.get("creationTime"))).isGreaterThanOrEqualTo(before.toEpochMilli() - 1);
    assertThat(redis.pttl(key(id))).isBetween(Duration.ofMinutes(29).toMillis(), Duration.ofMinutes(30).toMillis());
  }

  @Test
  void aReadOnlyRequestRecordsTheAccessOnlyOncePerRecordingInterval() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    WebServer server = server(SessionFilter.builder().clock(clock).maxInactiveInterval(Duration.ofMinutes(30)));
    Browser browser = new Browser();
    String id = browser.post(server, "/login?user=alice").body();
    String loggedIn = Long.toString(Instant.parse("2030-01-01T00:00:00Z").toEpochMilli());
    redis.pexpire(key(id), 60_000); // marks the TTL: a refresh would put it back to 30 minutes

    clock.advance(Duration.ofSeconds(59)); // within the 60 s recording interval of a 30-minute session
    assertThat(browser.get(server, "/me").body()).isEqualTo("alice");
    assertThat(redis.hget(key(id), "lastAccessedTime")).isEqualTo(loggedIn);
    assertThat(redis.pttl(key(id))).isLessThanOrEqualTo(60_000);

    clock.advance(Duration.ofSeconds(2));
    assertThat(browser.get(server, "/me").body()).isEqualTo("alice");
    assertThat(redis.hget(key(id), "lastAccessedTime"))
        .isEqualTo(Long.toString(Instant.parse("2030-01-01T00:01:01Z").toEpochMilli()));
    assertThat(redis.pttl(key(id))).isGreaterThan(Duration.ofMinutes(29).toMillis());
  }

  @Test
  void configuredMaxInactiveIntervalBecomesTheTtl() throws Exception {
    WebServer server = server(SessionFilter.builder().maxInactiveInterval(Duration.ofSeconds(90)));

    String id = new Browser().post(server, "/login?user=alice").body();

    assertThat(redis.hget(key(id), "maxInactiveInterval")).isEqualTo("90");
    assertThat(redis.pttl(key(id))).isBetween(1L, 90_000L);
  }

  static Stream<String> badCookies() {
    return Stream.of(
        randomId(), // well formed, unknown (or long expired)
        "garbage",
        "not/base64+at_all=",
        "\"quoted\"",
        "A".repeat(43 - 1) + "!",
        "A".repeat(5000));
  }

  @ParameterizedTest
  @MethodSource("badCookies")
  void unknownGarbageOrOversizedCookieGivesNoSessionAndNoError(String cookie) {
    Browser browser = new Browser().cookie(cookie);

    Reply me = browser.get(serverA, "/me");
    Reply id = browser.get(serverB, "/id");
    Reply create = browser.post(serverA, "/set?name=n&type=int&value=1");

    assertThat(me.status()).isEqualTo(401);
    assertThat(id.body()).isEqualTo("none");
    assertThat(create.status()).isEqualTo(200);
    assertThat(create.body()).isNotEqualTo(cookie).hasSize(43);
    assertThat(create.setCookie()).matches(sessionCookie(create.body()));
  }

  @Test
  void rejectsUnsupportedAttributeTypeWithAPreciseMessage() {
    Reply reply = new Browser().post(serverA, "/unsupported");

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.body()).isEqualTo(
        "session attribute 'cart': unsupported type java.util.Date (expected: String, Long, Integer, Boolean, Double,"
            + " or a Map with String keys or a List of those)");
  }

  @Test
  void aListChangedInPlaceWithoutSetAttributeIsSavedAndSeenByTheOtherServer() {
    Browser browser = new Browser();
    browser.post(serverA, "/login?user=alice");

    browser.post(serverA, "/cart-add?item=photo-1");
    browser.post(serverB, "/cart-add?item=photo-2");
    browser.post(serverA, "/cart-add?item=photo-3");

    assertThat(browser.get(serverB, "/cart").body()).isEqualTo("[photo-1, photo-2, photo-3]");
    assertThat(redis.hget(key(browser.cookie()), "attr:cart")).isEqualTo("j:[\"photo-1\",\"photo-2\",\"photo-3\"]");
  }

  @Test
  void aThousandConcurrentRequestsOnOneSessionEachWritingItsOwnAttributeLoseNoUpdate() {
    Browser browser = new Browser();
    browser.post(serverA, "/login?user=alice");
    int requests = 1_000;
    // all thousand have loaded the session before any of them writes: every write is a delta on a stale copy
    TestApp.barrier = new CyclicBarrier(requests);

    List<CompletableFuture<Reply>> replies = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      WebServer server = i % 2 == 0 ? serverA : serverB;
      replies.add(browser.sendAsync(server, "POST", "/concurrent?name=a" + i + "&value=v" + i));
    }

    assertThat(replies).allSatisfy(reply -> assertThat(reply.join().status()).isEqualTo(204));
    String stored = redis.hgetall(key(browser.cookie())).keySet().stream()
        .filter(field -> field.startsWith("attr:a")).sorted().collect(Collectors.joining(","));
    String expected = IntStream.range(0, requests).mapToObj(i -> "attr:a" + i).sorted()
        .collect(Collectors.joining(","));
    assertThat(stored).isEqualTo(expected);
    assertThat(browser.get(serverB, "/get?name=a999").body()).isEqualTo("String:v999");
  }

  @Test
  void cookieIsSentWhenTheSessionIsCreatedWrittenOrItsIdChanges() {
    Browser browser = new Browser();
    assertThat(browser.post(serverA, "/set?name=n&type=int&value=1").setCookies()).hasSize(1);

    assertThat(browser.get(serverB, "/get?name=n").setCookies()).isEmpty();
    // the session's new version: the next request, on any server, reads at least this write
    Reply write = browser.post(serverA, "/set?name=n&type=int&value=2");
    assertThat(write.setCookies()).hasSize(1);
    assertThat(write.setCookie()).endsWith("." + redis.hget(key(browser.cookie()), "version") + SET_COOKIE_FLAGS);
    assertThat(browser.get(serverB, "/get?name=n").body()).isEqualTo("Integer:2");
    assertThat(browser.get(serverA, "/id").setCookies()).isEmpty();
    assertThat(new Browser().get(serverA, "/me").setCookies()).isEmpty();
    assertThat(browser.post(serverB, "/rotate").setCookies()).hasSize(1);
  }

  @Test
  void withoutTheNearCacheTheCookieIsSentOnlyWhenTheSessionIsCreatedOrItsIdChanges() throws Exception {
    WebServer a = server(SessionFilter.builder(), 0);
    WebServer b = server(SessionFilter.builder(), 0);
    Browser browser = new Browser();
    assertThat(browser.post(a, "/set?name=n&type=int&value=1").setCookies()).hasSize(1);
    assertThat(browser.cookie()).hasSize(SessionIds.ID_LENGTH);

    assertThat(browser.get(b, "/get?name=n").setCookies()).isEmpty();
    assertThat(browser.post(a, "/set?name=n&type=int&value=2").setCookies()).isEmpty();
    assertThat(browser.get(a, "/id").setCookies()).isEmpty();
    assertThat(new Browser().get(a, "/me").setCookies()).isEmpty();
    assertThat(browser.post(b, "/rotate").setCookies()).hasSize(1);
  }

  @Test
  void cookieIsSecureAndNamedAsConfigured() throws Exception {
    WebServer server = server(SessionFilter.builder().cookieName("sid").cookieSecure(true));
    Browser browser = new Browser("sid");

    Reply login = browser.post(server, "/login?user=alice");

    assertThat(login.setCookie()).matches(sessionCookie("sid", login.body(), "; Path=/; Secure; HttpOnly; SameSite=Lax"));
    assertThat(browser.get(server, "/me").body()).isEqualTo("alice");
  }

  @Test
  void cookieIsSecureWhenTheRequestCameOverTlsEvenIfNotConfigured() throws Exception {
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpRequest.Builder login = java.net.http.HttpRequest.newBuilder(serverA.uri("/login?user=alice"))
        .POST(java.net.http.HttpRequest.BodyPublishers.noBody());

    String overTls = http.send(login.copy().header("X-Forwarded-Proto", "https").build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).headers().firstValue("Set-Cookie").orElseThrow();
    String inClear = http.send(login.build(), java.net.http.HttpResponse.BodyHandlers.ofString())
        .headers().firstValue("Set-Cookie").orElseThrow();

    assertThat(overTls).endsWith("; Path=/; Secure; HttpOnly; SameSite=Lax");
    assertThat(inClear).endsWith("; Path=/; HttpOnly; SameSite=Lax");
  }

  @Test
  void attributesKeepTheirTypesAcrossServers() {
    Browser browser = new Browser();
    browser.post(serverA, "/set?name=s&type=string&value=" + "h%C3%A9llo%3A+%F0%9F%93%B7%0Aline");
    browser.post(serverA, "/set?name=l&type=long&value=" + Long.MIN_VALUE);
    browser.post(serverB, "/set?name=i&type=int&value=" + Integer.MAX_VALUE);
    browser.post(serverB, "/set?name=b&type=boolean&value=true");
    browser.post(serverA, "/set?name=gone&type=string&value=x");
    browser.post(serverB, "/remove?name=gone");
    browser.post(serverA, "/set?name=b&type=null&value=");

    assertThat(browser.get(serverB, "/get?name=s").body()).isEqualTo("String:héllo: 📷\nline");
    assertThat(browser.get(serverA, "/get?name=l").body()).isEqualTo("Long:" + Long.MIN_VALUE);
    assertThat(browser.get(serverA, "/get?name=i").body()).isEqualTo("Integer:" + Integer.MAX_VALUE);
    assertThat(browser.get(serverA, "/names").body()).isEqualTo("i,l,s");
    assertThat(redis.hkeys(key(browser.cookie()))).doesNotContain("attr:gone", "attr:b");
  }

  @Test
  void getSessionWithoutCreateAndWithoutCookieStoresNothing() {
    Reply reply = new Browser().get(serverA, "/id");

    assertThat(reply.body()).isEqualTo("none");
    assertThat(reply.setCookies()).isEmpty();
  }

  @Test
  void sessionExpiresByTheFilterClockWhenUnusedForTheMaxInactiveInterval() throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    WebServer server = server(SessionFilter.builder().clock(clock).maxInactiveInterval(Duration.ofMinutes(10)));
    Browser browser = new Browser();
    String id = browser.post(server, "/login?user=alice").body();
    clock.advance(Duration.ofMinutes(6));
    assertThat(browser.get(server, "/me").body()).isEqualTo("alice");
    clock.advance(Duration.ofMinutes(6)); // 12 minutes after login, 6 after the last request

    assertThat(browser.get(server, "/me").body()).isEqualTo("alice");
    assertThat(redis.hget(key(id), "lastAccessedTime"))
        .isEqualTo(Long.toString(Instant.parse("2030-01-01T00:12:00Z").toEpochMilli()));

    clock.advance(Duration.ofMinutes(10));
    assertThat(browser.get(server, "/me").status()).isEqualTo(401);
    assertThat(redis.exists(key(id))).isZero();
  }

  @Test
  void cookieAndSessionSurviveABodyLargerThanTheResponseBuffer() {
    Browser browser = new Browser();

    Reply big = browser.get(serverA, "/big?bytes=" + 512 * 1024);

    assertThat(big.status()).isEqualTo(200);
    assertThat(big.body()).hasSize(512 * 1024);
    assertThat(big.setCookie()).startsWith("SESSION=").endsWith(SET_COOKIE_FLAGS);
    assertThat(browser.get(serverB, "/get?name=big").body()).isEqualTo("String:yes");
  }

  @Test
  void sessionCannotBeCreatedOnceTheResponseIsCommitted() {
    Reply reply = new Browser().post(serverA, "/flush-then-create");

    assertThat(reply.body()).isEqualTo("early bytes, cannot create a session: the response is already committed,"
        + " so the session cookie could not be sent");
    assertThat(reply.setCookies()).isEmpty();
  }

  @Test
  void requestedSessionIdReportsTheCookieAndWhetherItIsValid() {
    Browser browser = new Browser();
    String id = browser.post(serverA, "/login?user=alice").body();

    // the cookie's value: the id and, from the near cache, the version the client saw written
    assertThat(browser.cookie()).startsWith(id + ".");
    assertThat(browser.get(serverB, "/requested").body()).isEqualTo(browser.cookie() + ",true");
    assertThat(new Browser().cookie("garbage").get(serverB, "/requested").body()).isEqualTo("garbage,false");
    assertThat(new Browser().get(serverB, "/requested").body()).isEqualTo("null,false");
  }

  @Test
  void storeOutageFailsTheRequestWithAClearErrorInsteadOfHanging() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    RedisSessionRepository unreachable = RedisSessionRepository.builder("redis://127.0.0.1:" + closedPort)
        .commandTimeout(Duration.ofMillis(500))
        .build();
    resources.add(unreachable);
    WebServer server = WebServer.start(SessionFilter.builder().repository(unreachable).build());
    resources.add(server);

    Reply reply = new Browser().cookie(randomId()).get(server, "/me");

    assertThat(reply.status()).isEqualTo(500);
    assertThat(reply.body()).contains(
        "SessionStoreException: session store redis://127.0.0.1:" + closedPort + ": EVALSHA (find) failed: cannot connect");
    assertThat(new Browser().get(server, "/id").body()).isEqualTo("none"); // no cookie, no store call
  }

  private WebServer server(SessionFilter.Builder builder) throws Exception {
    return server(builder, 10_000);
  }

  private WebServer server(SessionFilter.Builder builder, int nearCacheSessions) throws Exception {
    RedisSessionRepository repository = RedisSessionRepository.builder(TestEngines.redis().uri())
        .nearCache(nearCacheSessions).build();
    resources.add(repository);
    WebServer server = WebServer.start(builder.repository(repository).build());
    resources.add(server);
    return server;
  }

  private static String randomId() {
    byte[] bytes = new byte[32];
    new SecureRandom().nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
