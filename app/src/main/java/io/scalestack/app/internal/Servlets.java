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

  /** The bytes of a classpath resource. */
  static byte[] resource(String resource) {
    try (InputStream in = Servlets.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("resource: '" + resource + "' (expected: on the classpath)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read resource " + resource, e);
    }
  }

  /**
   * The name a static asset is served under: {@code app.js} becomes {@code app.<first 10 hex
   * digits of the SHA-256 of its bytes>.js}. A new version gets a new name, so the old one may be
   * cached for ever by browsers and the CDN edge, and the page that names it (never cached
   * without revalidation) switches to the new one at once.
   */
  static String fingerprinted(String name, byte[] content) {
    int dot = name.lastIndexOf('.');
    return name.substring(0, dot) + "." + digest(content) + name.substring(dot);
  }

  /** The first 10 hex digits of the SHA-256 of {@code content}. */
  private static String digest(byte[] content) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(content), 0, 5);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256: missing (expected: in every JDK)", e);
    }
  }

  /**
   * One file, read once at startup, served as is: {@code no-cache} (a page, or an asset under its
   * plain name: stored, but revalidated before each use) or {@code immutable} (an asset under its
   * fingerprinted name: public, a year, never revalidated — RFC 8246). Both carry a strong ETag
   * and answer a matching {@code If-None-Match} with 304. Immutable, thread-safe.
   */
  static final class StaticFile extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final byte[] content;
    private final String contentType;
    private final boolean immutable;
    private final String etag;
    private final String contentSecurityPolicy;

    StaticFile(String resource, String contentType) {
      this(resource(resource), contentType, false, "");
    }

    /** {@code assetOrigin}: where the page may load scripts and images from besides itself ("" for none). */
    StaticFile(byte[] content, String contentType, boolean immutable, String assetOrigin) {
      this.content = content;
      // The page talks only to this origin (and its CDN edge); nothing may frame it or pull in other code.
      String extra = assetOrigin.isEmpty() ? "" : " " + assetOrigin;
      this.contentSecurityPolicy = "default-src 'self'; script-src 'self'" + extra + "; img-src 'self'" + extra
          + "; frame-ancestors 'none'; form-action 'none'; base-uri 'none'";
      this.contentType = contentType;
      this.immutable = immutable;
      this.etag = "\"" + digest(content) + "\"";
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response)
        throws IOException {
      response.setHeader("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
      response.setHeader("ETag", etag);
      if (etag.equals(request.getHeader("If-None-Match"))) {
        response.setStatus(HttpServletResponse.SC_NOT_MODIFIED);
        return;
      }
      // The page talks only to this origin; nothing may frame it or pull in other code.
      response.setHeader("Content-Security-Policy", contentSecurityPolicy);
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
