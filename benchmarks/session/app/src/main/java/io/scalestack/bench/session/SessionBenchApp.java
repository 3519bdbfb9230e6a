package io.scalestack.bench.session;

import io.scalestack.session.RedisSessionRepository;
import io.scalestack.session.SessionFilter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;
import org.springframework.core.Ordered;

/**
 * One Spring Boot web application, two session stores, chosen by {@code --store}:
 *
 * <ul>
 *   <li>{@code spring-session}: spring-session-data-redis exactly as Spring Boot 3.4
 *       auto-configures it when it is on the classpath with a Redis connection (no
 *       {@code @EnableRedisHttpSession}, no session property set): the non-indexed
 *       {@code RedisSessionRepository}, flush mode on-save, save mode on-set-attribute, Lettuce,
 *       JDK serialization, cookie {@code SESSION}. See {@code application-spring-session.properties}.
 *   <li>{@code scalestack}: {@link SessionFilter} on a {@link RedisSessionRepository}, registered as
 *       a {@link FilterRegistrationBean} of the highest precedence; Spring Session's and Spring
 *       Data Redis's auto-configuration are excluded, so none of their beans exist. See
 *       {@code application-scalestack.properties}.
 * </ul>
 *
 * <p>The store is a Spring profile of the same name. {@code --redis-uri=redis://host:port} names the
 * Redis server for both.
 */
@SpringBootApplication
public class SessionBenchApp {

  static final String SPRING_SESSION = "spring-session";
  static final String SCALESTACK = "scalestack";

  private static final Logger log = LoggerFactory.getLogger(SessionBenchApp.class);

  public static void main(String[] args) {
    String store = null;
    for (String arg : args) {
      if (arg.startsWith("--store=")) {
        store = arg.substring("--store=".length());
      }
    }
    if (!SPRING_SESSION.equals(store) && !SCALESTACK.equals(store)) {
      System.err.println("session-bench-app: --store=" + store
          + " (expected: --store=spring-session or --store=scalestack)");
      System.exit(2);
    }
    SpringApplication app = new SpringApplication(SessionBenchApp.class);
    app.setAdditionalProfiles(store);
    app.run(args);
  }

  /**
   * One line at start-up naming the session repository beans and the servlet filters in force,
   * for the benchmark's report: what "the default configuration" turned out to be.
   */
  @Bean
  ApplicationRunner describeSessionLayer(ApplicationContext context) {
    return args -> {
      Map<String, String> repositories = new TreeMap<>();
      try {
        Class<?> type = Class.forName("org.springframework.session.SessionRepository");
        context.getBeansOfType(type).forEach((name, bean) -> repositories.put(name, bean.getClass().getName()));
      } catch (ClassNotFoundException e) {
        // Spring Session is not on the classpath: nothing to list
      }
      context.getBeansOfType(RedisSessionRepository.class)
          .forEach((name, bean) -> repositories.put(name, bean.getClass().getName()));
      Map<String, String> filters = new TreeMap<>();
      context.getBeansOfType(Filter.class)
          .forEach((name, bean) -> filters.put(name, bean.getClass().getName()));
      context.getBeansOfType(FilterRegistrationBean.class).forEach((name, bean) -> filters.put(name,
          bean.getFilter().getClass().getName() + " (order " + bean.getOrder() + ")"));
      log.info("session layer: store={} repositories={} filters={}",
          context.getEnvironment().getActiveProfiles()[0], repositories, filters);
    };
  }

  /** The scalestack store: our filter in front of everything, on its own Redis connection. */
  @Configuration(proxyBeanMethods = false)
  @Profile(SCALESTACK)
  static class ScalestackStore {

    @Bean(destroyMethod = "close")
    RedisSessionRepository sessionRepository(@Value("${redis-uri}") String redisUri,
        @Value("${near-cache-sessions:10000}") int nearCacheSessions) {
      return RedisSessionRepository.builder(redisUri).nearCache(nearCacheSessions).build();
    }

    @Bean
    FilterRegistrationBean<SessionFilter> scalestackSessionFilter(RedisSessionRepository repository) {
      FilterRegistrationBean<SessionFilter> registration =
          new FilterRegistrationBean<>(SessionFilter.builder().repository(repository).build());
      registration.setName("scalestackSessionFilter");
      registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
      registration.setDispatcherTypes(DispatcherType.REQUEST);
      registration.addUrlPatterns("/*");
      return registration;
    }
  }
}
