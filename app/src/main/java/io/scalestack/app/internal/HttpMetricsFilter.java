package io.scalestack.app.internal;

import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletMapping;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The outermost servlet filter: times every request into {@code http_server_requests_seconds}
 * (tags {@code method}, {@code route}, {@code status}) and answers any failure that escaped the
 * chain through {@link Failures}, so even those are JSON and counted.
 *
 * <p>The {@code route} tag is the servlet mapping the request matched ({@code /api/me}), never the
 * raw path, so a client cannot blow up the number of time series; unmatched paths are
 * {@code NOT_FOUND}, and unknown methods {@code OTHER}. Time comes from the registry's clock, so
 * tests can control it. Thread-safe.
 */
final class HttpMetricsFilter implements Filter {

  static final String METER = "http.server.requests";

  private static final Set<String> METHODS =
      Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");

  private final MeterRegistry registry;
  private final Clock clock;

  HttpMetricsFilter(MeterRegistry registry) {
    this.registry = registry;
    this.clock = registry.config().clock();
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    HttpServletResponse response = (HttpServletResponse) res;
    long startNanos = clock.monotonicTime();
    try {
      chain.doFilter(request, response);
    } catch (IOException | ServletException | RuntimeException e) {
      Failures.answer(request, response, e);
    } finally {
      Timer.builder(METER)
          .description("HTTP requests handled, by method, route template and status")
          .tag("method", METHODS.contains(request.getMethod()) ? request.getMethod() : "OTHER")
          .tag("route", route(request))
          .tag("status", Integer.toString(response.getStatus()))
          .publishPercentileHistogram()
          .maximumExpectedValue(Duration.ofSeconds(30))
          .register(registry)
          .record(clock.monotonicTime() - startNanos, TimeUnit.NANOSECONDS);
    }
  }

  static String route(HttpServletRequest request) {
    HttpServletMapping mapping = request.getHttpServletMapping();
    if (mapping == null || mapping.getMappingMatch() == null) {
      return "UNKNOWN";
    }
    return switch (mapping.getMappingMatch()) {
      case CONTEXT_ROOT -> "/";
      case DEFAULT -> "NOT_FOUND";
      case EXACT, PATH, EXTENSION -> mapping.getPattern();
    };
  }
}
