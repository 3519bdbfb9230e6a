package io.scalestack.app.internal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Error pages in the API's JSON shape ({@code {"error","field":null}}) instead of Jetty's HTML,
 * for the errors Jetty produces itself: malformed HTTP (core) and {@code sendError} (servlets).
 *
 * <p>Stateless, thread-safe.
 */
final class JsonErrorHandlers {

  private static final HttpField JSON_TYPE =
      new PreEncodedHttpField(HttpHeader.CONTENT_TYPE, Json.CONTENT_TYPE);

  private JsonErrorHandlers() {}

  /** For {@code Server.setErrorHandler}: errors outside any servlet context. */
  static org.eclipse.jetty.server.handler.ErrorHandler core() {
    return new Core();
  }

  /** For {@code ServletContextHandler.setErrorHandler}: {@code sendError} inside the context. */
  static org.eclipse.jetty.ee10.servlet.ErrorHandler servlet() {
    return new Servlet();
  }

  static byte[] body(int status, String reason) {
    String standard = HttpStatus.getMessage(status);
    String message =
        reason == null || reason.isBlank() || reason.equals(standard)
            ? status + " " + standard + "."
            : status + " " + standard + ": " + reason + (reason.endsWith(".") ? "" : ".");
    return Json.bytes(new Json.ErrorBody(message, null));
  }

  private static final class Core extends org.eclipse.jetty.server.handler.ErrorHandler {
    @Override
    protected void generateResponse(
        Request request, Response response, int code, String message, Throwable cause, Callback callback) {
      response.getHeaders().put(JSON_TYPE);
      response.write(true, ByteBuffer.wrap(body(code, message)), callback);
    }
  }

  private static final class Servlet extends org.eclipse.jetty.ee10.servlet.ErrorHandler {
    @Override
    protected void generateAcceptableResponse(
        ServletContextRequest baseRequest,
        HttpServletRequest request,
        HttpServletResponse response,
        int code,
        String message)
        throws IOException {
      byte[] bytes = body(code, message);
      response.setContentType(Json.CONTENT_TYPE);
      response.setContentLength(bytes.length);
      response.getOutputStream().write(bytes);
    }
  }
}
