package io.scalestack.app.internal;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The small non-API servlets: health, metrics, static files, not found. */
final class Servlets {

  private Servlets() {}

  /**
   * {@code GET /health}: 200 {@code {"status":"UP","member",...}} only when every check passes,
   * else 503 with {@code "DOWN"}; the balancer routes by it. The checks run concurrently, each on
   * its own virtual thread, so the answer takes as long as the slowest check, not their sum.
   * Thread-safe.
   */
  static final class Health extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger log = LoggerFactory.getLogger(Health.class);

    private final String member;
    private final transient Map<String, BooleanSupplier> checks;

    Health(String member, Map<String, BooleanSupplier> checks) {
      this.member = member;
      this.checks = checks;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      Map<String, Thread> running = new LinkedHashMap<>();
      Map<String, String> results = new ConcurrentHashMap<>();
      checks.forEach(
          (name, check) ->
              running.put(
                  name,
                  Thread.ofVirtual()
                      .name(member + "-health-" + name)
                      .start(() -> results.put(name, run(name, check) ? "UP" : "DOWN"))));
      Map<String, String> ordered = new LinkedHashMap<>();
      for (Map.Entry<String, Thread> entry : running.entrySet()) {
        try {
          entry.getValue().join();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while checking " + entry.getKey(), e);
        }
        ordered.put(entry.getKey(), results.getOrDefault(entry.getKey(), "DOWN"));
      }
      boolean up = ordered.values().stream().allMatch("UP"::equals);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("status", up ? "UP" : "DOWN");
      body.put("member", member);
      body.put("checks", ordered);
      response.setHeader("Cache-Control", "no-store");
      Json.write(
          response, up ? HttpServletResponse.SC_OK : HttpServletResponse.SC_SERVICE_UNAVAILABLE, body);
    }

    private static boolean run(String name, BooleanSupplier check) {
      try {
        return check.getAsBoolean();
      } catch (RuntimeException e) {
        log.warn("health check {} failed", name, e);
        return false;
      }
    }
  }

  /** {@code GET /metrics}: the Prometheus text exposition. Thread-safe. */
  static final class Metrics extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final String contentType;
    private final transient Supplier<String> scrape;

    Metrics(String contentType, Supplier<String> scrape) {
      this.contentType = contentType;
      this.scrape = scrape;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      byte[] body = scrape.get().getBytes(StandardCharsets.UTF_8);
      response.setHeader("Cache-Control", "no-store");
      response.setContentType(contentType);
      response.setContentLength(body.length);
      response.getOutputStream().write(body);
    }
  }

  /** One classpath file, read once at startup, served as is. Immutable, thread-safe. */
  static final class StaticFile extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final byte[] content;
    private final String contentType;

    StaticFile(String resource, String contentType) {
      try (InputStream in = Servlets.class.getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("resource: '" + resource + "' (expected: on the classpath)");
        }
        this.content = in.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read resource " + resource, e);
      }
      this.contentType = contentType;
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      response.setHeader("Cache-Control", "no-cache");
      // The page talks only to this origin; nothing may frame it or pull in other code.
      response.setHeader(
          "Content-Security-Policy",
          "default-src 'self'; frame-ancestors 'none'; form-action 'none'; base-uri 'none'");
      response.setHeader("Referrer-Policy", "no-referrer");
      response.setContentType(contentType);
      response.setContentLength(content.length);
      response.getOutputStream().write(content);
    }
  }

  /** Every path no route matches: 404 in the JSON error shape. Thread-safe. */
  static final class NotFound extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final String routes;
    private final int maxRequestBodyBytes;

    NotFound(String routes, int maxRequestBodyBytes) {
      this.routes = routes;
      this.maxRequestBodyBytes = maxRequestBodyBytes;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      response.setHeader("Cache-Control", "no-store");
      ApiServlet.keepConnectionUsable(request, response, maxRequestBodyBytes, false);
      Json.writeError(
          response,
          HttpServletResponse.SC_NOT_FOUND,
          "path: " + JsonRequest.quote(request.getRequestURI()) + " (expected: one of " + routes + ")",
          null);
    }
  }
}
