package io.scalestack.app.internal;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.TreeMap;

/**
 * One API route: dispatches by method to an {@link Endpoint}, answers 405 for other methods, and
 * turns an {@link ApiException} into its JSON error. Responses are never cached: they are
 * per-user.
 *
 * <p>Thread-safe when its endpoints are.
 */
final class ApiServlet extends HttpServlet {

  private static final long serialVersionUID = 1L;

  /** The handling of one method on one route; runs on a virtual thread and may block. */
  @FunctionalInterface
  interface Endpoint {
    void handle(HttpServletRequest request, HttpServletResponse response) throws Exception;
  }

  private final transient Map<String, Endpoint> endpoints;
  private final String allow;
  private final int maxRequestBodyBytes;

  ApiServlet(int maxRequestBodyBytes, Map<String, Endpoint> endpoints) {
    this.maxRequestBodyBytes = maxRequestBodyBytes;
    this.endpoints = Map.copyOf(endpoints);
    this.allow = String.join(", ", new TreeMap<>(endpoints).keySet());
  }

  @Override
  protected void service(HttpServletRequest request, HttpServletResponse response)
      throws IOException, ServletException {
    response.setHeader("Cache-Control", "no-store");
    Endpoint endpoint = endpoints.get(request.getMethod());
    if (endpoint == null) {
      // RFC 9110 section 15.5.6: a 405 lists the allowed methods.
      response.setHeader("Allow", allow);
      keepConnectionUsable(request, response, maxRequestBodyBytes, false);
      Json.writeError(
          response,
          HttpServletResponse.SC_METHOD_NOT_ALLOWED,
          "method: "
              + JsonRequest.quote(request.getMethod())
              + " (expected: "
              + (endpoints.size() == 1 ? allow : "one of " + allow)
              + ")",
          null);
      return;
    }
    try {
      endpoint.handle(request, response);
    } catch (ApiException e) {
      if (!response.isCommitted()) {
        response.resetBuffer();
        keepConnectionUsable(
            request, response, maxRequestBodyBytes, e.status() == HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE);
        Json.writeError(response, e.status(), e.getMessage(), e.field());
      }
    } catch (IOException | RuntimeException | ServletException e) {
      throw e;
    } catch (Exception e) {
      // Checked failures (SQLException) are answered by HttpMetricsFilter, which sees them all.
      throw new ServletException(e);
    }
  }

  /**
   * Before answering a request whose body may be unread (refused early: 401, 405, 413, 415),
   * reads and drops what is left of it, so the connection can carry the client's next request.
   * Bounded: past {@code maxBodyBytes}, or when the body is already known to be too large, it
   * stays unread and the response says {@code Connection: close} (RFC 9112 section 9.6), rather
   * than let the client reuse a connection the server then drops.
   */
  static void keepConnectionUsable(
      HttpServletRequest request, HttpServletResponse response, int maxBodyBytes, boolean tooLarge)
      throws IOException {
    if (tooLarge || !drained(request.getInputStream(), maxBodyBytes)) {
      response.setHeader("Connection", "close");
    }
  }

  private static boolean drained(InputStream in, int maxBodyBytes) throws IOException {
    long left = maxBodyBytes + 1L;
    byte[] buffer = new byte[4096];
    for (int n; left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) >= 0; ) {
      left -= n;
    }
    return left > 0;
  }
}
