package io.scalestack.app.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The one JSON mapper of the service and the helpers that write JSON responses.
 *
 * <p>Parsing is strict: duplicate keys and anything after the top-level value are errors, so a
 * body means exactly one thing. Thread-safe: the mapper is configured once and never changed.
 */
final class Json {

  /** RFC 8259 section 11: JSON has no charset parameter; it is UTF-8. */
  static final String CONTENT_TYPE = "application/json";

  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  /** The error body of every refused request. {@code field} is null when no field is at fault. */
  record ErrorBody(String error, String field) {}

  private Json() {}

  static byte[] bytes(Object value) {
    try {
      return MAPPER.writeValueAsBytes(value);
    } catch (JsonProcessingException e) {
      // Only our own records and maps are written; failing here is a programming error.
      throw new UncheckedIOException(e);
    }
  }

  static void write(HttpServletResponse response, int status, Object body) throws IOException {
    byte[] bytes = bytes(body);
    response.setStatus(status);
    response.setContentType(CONTENT_TYPE);
    response.setContentLength(bytes.length);
    response.getOutputStream().write(bytes);
  }

  static void writeError(HttpServletResponse response, int status, String message, String field)
      throws IOException {
    write(response, status, new ErrorBody(message, field));
  }
}
