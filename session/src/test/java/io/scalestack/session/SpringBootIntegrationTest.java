package io.scalestack.session;

import static io.scalestack.session.StoredSessions.SET_COOKIE_FLAGS;
import static io.scalestack.session.StoredSessions.key;
import static io.scalestack.session.StoredSessions.sessionCookie;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.scalestack.engines.testing.TestEngines;
import io.scalestack.session.Browser.Reply;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpSession;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.Banner;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.Ordered;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@link SessionFilter} inside real Spring Boot applications: two instances of one Spring MVC app
 * on embedded Tomcat (random ports, each with its own {@link RedisSessionRepository} bean, as two
 * web server processes would have), sharing one real Redis, driven over HTTP. The controller uses
 * nothing but the Servlet {@link HttpSession} API; the filter is registered the Spring Boot way, a
 * {@link FilterRegistrationBean} of the highest precedence.
 */
class SpringBootIntegrationTest {

  /** Tomcat logs through java.util.logging; held here so that its level is not lost to GC. */
  private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");

  private static String previousLoggingSystem;
  private static Level previousTomcatLevel;
  private static RedisClient adminClient;
  private static StatefulRedisConnection<String, String> adminConnection;
  private static RedisCommands<String, String> redis;
  private static SpringInstance appA;
  private static SpringInstance appB;

  @BeforeAll
  static void startTwoSpringBootInstances() {
    // Logging stays as logback-test.xml set it for the whole test JVM: Spring Boot neither
    // reconfigures Logback nor installs its JUL bridge while it shares the JVM with other tests.
    previousLoggingSystem = System.setProperty(LoggingSystem.SYSTEM_PROPERTY, LoggingSystem.NONE);
    // Tomcat's start and stop lines at INFO are left out, as root WARN in logback-test.xml does for the rest.
    previousTomcatLevel = TOMCAT_LOG.getLevel();
    TOMCAT_LOG.setLevel(Level.WARNING);
    String redisUri = TestEngines.redis().uri();
    adminClient = RedisClient.create(redisUri);
    adminConnection = adminClient.connect();
    redis = adminConnection.sync();
    appA = SpringInstance.start(redisUri);
    appB = SpringInstance.start(redisUri);
  }

  @AfterAll
  static void stopEverything() {
    try {
      if (appB != null) {
        appB.close();
      }
      if (appA != null) {
        appA.close();
      }
      if (adminConnection != null) {
        adminConnection.close();
      }
      if (adminClient != null) {
        adminClient.shutdown();
      }
    } finally {
      TOMCAT_LOG.setLevel(previousTomcatLevel);
      if (previousLoggingSystem == null) {
        System.clearProperty(LoggingSystem.SYSTEM_PROPERTY);
      } else {
        System.setProperty(LoggingSystem.SYSTEM_PROPERTY, previousLoggingSystem);
      }
    }
  }

  @Test
  void twoInstancesAreSeparateSpringContextsWithTheirOwnRepositoryAndPort() {
    assertThat(appA.port()).isNotEqualTo(appB.port());
    assertThat(appA.repository()).isNotSameAs(appB.repository());
    assertThat(appA.context().getBeansOfType(SessionFilter.class)).isEmpty(); // only inside the registration
    assertThat(appA.context().getBean("sessionFilter", FilterRegistrationBean.class).getOrder())
        .isEqualTo(Ordered.HIGHEST_PRECEDENCE);
  }

  @Test
  void loginInASpringControllerStoresTheSessionAsOneRedisHashUnderTheSessionCookie() {
    Instant before = Instant.now();
    Browser browser = new Browser();

    Reply login = browser.post(appA.uri("/login?user=alice"));

    String id = login.body();
    assertThat(login.status()).isEqualTo(200);
    assertThat(id).hasSize(43);
    // exactly one Set-Cookie: ours; Tomcat made no JSESSIONID, its own sessions were never used
    assertThat(login.setCookie()).matches(sessionCookie(id));
    Map<String, String> hash = redis.hgetall(key(id));
    assertThat(hash).containsOnlyKeys("creationTime", "lastAccessedTime", "maxInactiveInterval", "version", "attr:user");
    assertThat(hash).containsEntry("attr:user", "s:alice").containsEntry("maxInactiveInterval", "1800");
    assertThat(Long.parseLong(hash.get("creationTime"))).isGreaterThanOrEqualTo(before.toEpochMilli() - 1);
    assertThat(redis.type(key(id))).isEqualTo("hash");
    assertThat(redis.pttl(key(id))).isBetween(Duration.ofMinutes(29).toMillis(), Duration.ofMinutes(30).toMillis());
  }

  @Test
  void laterRequestWithTheCookieSeesTheAttributeSetInTheController() {
    Browser browser = new Browser();
    browser.post(appA.uri("/login?user=alice"));

    Reply me = browser.get(appA.uri("/me"));

    assertThat(me.status()).isEqualTo(200);
    assertThat(me.body()).isEqualTo("alice");
    assertThat(me.setCookies()).isEmpty(); // an unchanged session sends no cookie
    assertThat(new Browser().get(appA.uri("/me")).status()).isEqualTo(401);
  }

  @Test
  void sessionArgumentOfASpringMvcHandlerIsTheRedisSession() {
    Browser browser = new Browser();

    Reply cart = browser.post(appA.uri("/cart?photos=3"));

    String id = cart.body();
    assertThat(cart.setCookie()).matches(sessionCookie(id));
    assertThat(redis.hget(key(id), "attr:cart")).isEqualTo("l:3");
    assertThat(browser.get(appA.uri("/cart")).body()).isEqualTo("Long:3");
  }

  @Test
  void changeSessionIdOnLoginMovesTheSessionAndTheOldIdSeesNothing() {
    Browser browser = new Browser();
    String anonymousId = browser.post(appA.uri("/cart?photos=3")).body();
    assertThat(browser.cookie()).startsWith(anonymousId + ".");

    Reply login = browser.post(appA.uri("/login?user=alice"));

    String loggedInId = login.body();
    assertThat(loggedInId).isNotEqualTo(anonymousId).hasSize(43);
    assertThat(login.setCookie()).matches(sessionCookie(loggedInId));
    assertThat(redis.exists(key(anonymousId))).isZero();
    assertThat(redis.hgetall(key(loggedInId))).containsEntry("attr:user", "s:alice").containsEntry("attr:cart", "l:3");
    assertThat(browser.get(appA.uri("/me")).body()).isEqualTo("alice");
    assertThat(browser.get(appA.uri("/cart")).body()).isEqualTo("Long:3");
    Browser attacker = new Browser().cookie(anonymousId);
    assertThat(attacker.get(appA.uri("/me")).status()).isEqualTo(401);
    assertThat(attacker.get(appA.uri("/cart")).status()).isEqualTo(404);
    assertThat(attacker.get(appB.uri("/me")).status()).isEqualTo(401);
    assertThat(attacker.get(appB.uri("/id")).body()).isEqualTo("none");
  }

  @Test
  void logoutInvalidatesTheSessionDeletesTheHashAndExpiresTheCookie() {
    Browser browser = new Browser();
    String id = browser.post(appA.uri("/login?user=alice")).body();
    assertThat(redis.exists(key(id))).isOne();

    Reply logout = browser.post(appA.uri("/logout"));

    assertThat(logout.status()).isEqualTo(204);
    assertThat(logout.setCookie())
        .isEqualTo("SESSION=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" + SET_COOKIE_FLAGS);
    assertThat(redis.exists(key(id))).isZero();
    assertThat(browser.cookie()).isNull();
    Browser replay = new Browser().cookie(id);
    assertThat(replay.get(appA.uri("/me")).status()).isEqualTo(401);
    assertThat(replay.get(appB.uri("/me")).status()).isEqualTo(401);
  }

  @Test
  void sessionSetInASpringControllerIsReadByASecondSpringInstance() {
    Browser browser = new Browser();

    String id = browser.post(appA.uri("/login?user=alice")).body();
    Reply me = browser.get(appB.uri("/me"));

    assertThat(me.status()).isEqualTo(200);
    assertThat(me.body()).isEqualTo("alice");
    assertThat(browser.get(appB.uri("/id")).body()).isEqualTo(id);
    // and back: a change made on B is seen on A, and a logout on B ends the session on A
    browser.post(appB.uri("/cart?photos=5"));
    assertThat(browser.get(appA.uri("/cart")).body()).isEqualTo("Long:5");
    assertThat(browser.post(appB.uri("/logout")).status()).isEqualTo(204);
    assertThat(new Browser().cookie(id).get(appA.uri("/me")).status()).isEqualTo(401);
  }

  /** One running Spring Boot application: its context and the port its Tomcat listens on. */
  record SpringInstance(ConfigurableApplicationContext context, int port) implements AutoCloseable {

    static SpringInstance start(String redisUri) {
      ConfigurableApplicationContext context = new SpringApplicationBuilder(PhotoApp.class)
          .web(WebApplicationType.SERVLET)
          .bannerMode(Banner.Mode.OFF)
          .logStartupInfo(false)
          .registerShutdownHook(false)
          .properties(Map.of(
              "server.address", "127.0.0.1",
              "server.port", "0",
              "scalestack.session.redis-uri", redisUri))
          .run();
      return new SpringInstance(context, ((WebServerApplicationContext) context).getWebServer().getPort());
    }

    URI uri(String pathAndQuery) {
      return URI.create("http://127.0.0.1:" + port + pathAndQuery);
    }

    RedisSessionRepository repository() {
      return context.getBean(RedisSessionRepository.class);
    }

    @Override
    public void close() {
      context.close(); // closes the repository bean, then stops Tomcat
    }
  }

  /**
   * A minimal Spring Boot web application, configured the way an application adopting the filter
   * would be: Spring MVC auto-configured, plus two beans. No component scan (it would pick up
   * other tests' classes); the controller is imported.
   */
  @SpringBootConfiguration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @Import(AccountController.class)
  static class PhotoApp {

    @Bean(destroyMethod = "close")
    RedisSessionRepository sessionRepository(@Value("${scalestack.session.redis-uri}") String redisUri) {
      return RedisSessionRepository.create(redisUri);
    }

    @Bean
    FilterRegistrationBean<SessionFilter> sessionFilter(RedisSessionRepository sessionRepository) {
      FilterRegistrationBean<SessionFilter> registration =
          new FilterRegistrationBean<>(SessionFilter.builder().repository(sessionRepository).build());
      registration.setName("scalestackSessionFilter");
      registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
      registration.setDispatcherTypes(DispatcherType.REQUEST);
      registration.addUrlPatterns("/*");
      return registration;
    }
  }

  /** A Spring MVC controller using the plain Servlet session API only. */
  @RestController
  static class AccountController {

    @PostMapping("/login")
    String login(HttpServletRequest request, @RequestParam("user") String user) {
      HttpSession session = request.getSession();
      request.changeSessionId(); // defeats session fixation: the anonymous id stops working
      session.setAttribute("user", user);
      return session.getId();
    }

    @GetMapping("/me")
    ResponseEntity<String> me(HttpServletRequest request) {
      HttpSession session = request.getSession(false);
      Object user = session == null ? null : session.getAttribute("user");
      return user == null ? ResponseEntity.status(401).body("no session") : ResponseEntity.ok(user.toString());
    }

    @PostMapping("/logout")
    ResponseEntity<Void> logout(HttpServletRequest request) {
      HttpSession session = request.getSession(false);
      if (session == null) {
        return ResponseEntity.status(401).build();
      }
      session.invalidate();
      return ResponseEntity.noContent().build();
    }

    /** Spring MVC resolves the {@link HttpSession} argument with {@code request.getSession()}. */
    @PostMapping("/cart")
    String addToCart(HttpSession session, @RequestParam("photos") long photos) {
      session.setAttribute("cart", photos);
      return session.getId();
    }

    @GetMapping("/cart")
    ResponseEntity<String> cart(HttpServletRequest request) {
      HttpSession session = request.getSession(false);
      Object cart = session == null ? null : session.getAttribute("cart");
      return cart == null
          ? ResponseEntity.status(404).body("empty")
          : ResponseEntity.ok(cart.getClass().getSimpleName() + ":" + cart);
    }

    @GetMapping("/id")
    String id(HttpServletRequest request) {
      HttpSession session = request.getSession(false);
      return session == null ? "none" : session.getId();
    }
  }
}
