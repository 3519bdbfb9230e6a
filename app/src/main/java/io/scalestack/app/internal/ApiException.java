package io.scalestack.app.internal;

import jakarta.servlet.http.HttpServletResponse;

/**
 * A request the API refuses, with the status and the {@code {"error","field"}} body it answers.
 * Thrown by endpoints and turned into the response by {@link ApiServlet}; it carries no stack
 * trace because it is an answer, not a fault.
 *
 * <p>Immutable.
 */
final class ApiException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final String field;

  ApiException(int status, String message, String field) {
    super(message, null, false, false);
    this.status = status;
    this.field = field;
  }

  static ApiException badRequest(String field, String message) {
    return new ApiException(HttpServletResponse.SC_BAD_REQUEST, message, field);
  }

  static ApiException unauthorized(String message) {
    return new ApiException(HttpServletResponse.SC_UNAUTHORIZED, message, null);
  }

  /** The HTTP status code to answer with. */
  int status() {
    return status;
  }

  /** The JSON field the error is about, or {@code null}. */
  String field() {
    return field;
  }
}
