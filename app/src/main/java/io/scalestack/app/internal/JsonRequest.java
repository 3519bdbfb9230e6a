package io.scalestack.app.internal;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * A JSON object request body, read with a byte bound and checked field by field.
 *
 * <p>Every refusal names what was wrong: the body size (413), the media type (415), the JSON
 * syntax, an unknown field, or one field's value and what was expected (400). Not thread-safe;
 * one instance belongs to one request.
 */
final class JsonRequest {

  private static final int MAX_ECHOED_CHARACTERS = 40;

  private final ObjectNode root;

  private JsonRequest(ObjectNode root) {
    this.root = root;
  }

  /**
   * Reads the body of {@code request}: at most {@code maxBytes} bytes of {@code application/json}
   * holding one object whose keys are all among {@code fields}.
   */
  static JsonRequest read(HttpServletRequest request, int maxBytes, List<Field> fields)
      throws IOException {
    return new JsonRequest(object(request, maxBytes, fields.stream().map(Field::name).toList()));
  }

  /**
   * Reads the body of {@code request} as {@link #read} does, for a body whose fields are not all
   * strings: the object, with every key among {@code names}; the caller checks the values.
   */
  static ObjectNode object(HttpServletRequest request, int maxBytes, List<String> names) throws IOException {
    requireJsonMediaType(request.getContentType());
    long declared = request.getContentLengthLong();
    if (declared > maxBytes) {
      throw tooLarge(maxBytes);
    }
    byte[] body = readBounded(request.getInputStream(), maxBytes);
    if (body.length == 0) {
      throw ApiException.badRequest(null, "The request body is empty (expected: a JSON object).");
    }
    JsonNode node;
    try {
      node = Json.MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
      throw ApiException.badRequest(
          null, "The request body is not valid JSON" + where + ": " + e.getOriginalMessage() + ".");
    }
    if (!(node instanceof ObjectNode object)) {
      throw ApiException.badRequest(
          null, "The request body is " + describeType(node) + " (expected: a JSON object).");
    }
    for (Iterator<String> keys = object.fieldNames(); keys.hasNext(); ) {
      String name = keys.next();
      if (!names.contains(name)) {
        throw ApiException.badRequest(
            name, quote(name) + ": unknown field (expected: one of " + String.join(", ", names) + ")");
      }
    }
    return object;
  }

  /** The value of {@code field}: present, a JSON string, and meeting the field's rule. */
  String string(Field field) {
    JsonNode value = root.get(field.name());
    if (value == null) {
      throw ApiException.badRequest(
          field.name(), field.name() + ": missing (expected: " + field.expectedType() + ")");
    }
    if (!value.isTextual()) {
      String shown = field.secret() ? describeType(value) : echo(value);
      throw ApiException.badRequest(
          field.name(), field.name() + ": " + shown + " (expected: " + field.expectedType() + ")");
    }
    String text = value.textValue();
    if (!field.rule().test(text)) {
      String shown =
          field.secret()
              ? "a " + text.getBytes(StandardCharsets.UTF_8).length + "-byte string"
              : quote(text);
      throw ApiException.badRequest(
          field.name(), field.name() + ": " + shown + " (expected: " + field.expected() + ")");
    }
    return text;
  }

  private static void requireJsonMediaType(String contentType) {
    String mediaType =
        contentType == null ? "" : contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    if (!mediaType.equals(Json.CONTENT_TYPE)) {
      // Requiring application/json also means a cross-site HTML form cannot post here without a
      // CORS preflight, which this service never grants.
      throw new ApiException(
          HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE,
          "Content-Type: "
              + (contentType == null ? "missing" : quote(contentType))
              + " (expected: application/json)",
          null);
    }
  }

  private static byte[] readBounded(InputStream in, int maxBytes) throws IOException {
    // One byte more than allowed tells "exactly the limit" from "over it" for chunked bodies.
    byte[] body = in.readNBytes(maxBytes + 1);
    if (body.length > maxBytes) {
      throw tooLarge(maxBytes);
    }
    return body;
  }

  private static ApiException tooLarge(int maxBytes) {
    return new ApiException(
        HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
        "The request body is larger than " + maxBytes + " bytes.",
        null);
  }

  private static String describeType(JsonNode node) {
    return switch (node.getNodeType()) {
      case ARRAY -> "an array";
      case OBJECT, POJO -> "an object";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      case NULL -> "null";
      case STRING, BINARY -> "a string";
      case MISSING -> "missing";
    };
  }

  /** A non-string JSON value as the client wrote it; containers only by their type. */
  private static String echo(JsonNode node) {
    return switch (node.getNodeType()) {
      case NUMBER, BOOLEAN, NULL -> truncate(node.toString());
      default -> describeType(node);
    };
  }

  /** A string value in single quotes, control characters escaped, cut after 40 characters. */
  static String quote(String text) {
    StringBuilder out = new StringBuilder("'");
    truncate(text)
        .codePoints()
        .forEach(
            c -> {
              switch (c) {
                case '\'' -> out.append("\\'");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                  if (Character.isISOControl(c)) {
                    out.append(String.format(Locale.ROOT, "\\u%04x", c));
                  } else {
                    out.appendCodePoint(c);
                  }
                }
              }
            });
    return out.append('\'').toString();
  }

  private static String truncate(String text) {
    if (text.codePointCount(0, text.length()) <= MAX_ECHOED_CHARACTERS) {
      return text;
    }
    return text.substring(0, text.offsetByCodePoints(0, MAX_ECHOED_CHARACTERS)) + "…";
  }
}
