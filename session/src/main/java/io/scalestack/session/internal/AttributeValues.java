package io.scalestack.session.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The session attribute types and their text encoding in a store: a one-letter type prefix, a
 * colon, then the value ({@code s:alice}, {@code l:42}, {@code i:7}, {@code b:true}, {@code
 * d:1.5}, and {@code j:{"items":["photo-1"]}} for a JSON document).
 *
 * <p>Supported: {@link String}, {@link Long}, {@link Integer}, {@link Boolean}, {@link Double},
 * and JSON documents built from them — a {@link Map} with {@link String} keys or a {@link List},
 * nested at most {@link #MAX_DEPTH} deep, with {@code null} allowed inside. On purpose there is
 * no Java serialization: deserializing Java objects read from a shared store (or a peer) is a
 * remote code execution risk. JSON is parsed into maps, lists, strings, numbers and booleans only
 * (no polymorphic typing), and a stored session stays readable ({@code redis-cli HGETALL}).
 *
 * <p>Maps and lists are mutable: a {@code StoreSession} notes the encoding of each one it hands
 * out and saves it if it changed by the end of the request, so {@code ((List) getAttribute("cart"))
 * .add(x)} is persisted without a second {@code setAttribute} (which Spring Session requires).
 *
 * <p>Not API. Stateless and thread-safe.
 */
public final class AttributeValues {

  /** Deepest nesting of maps and lists accepted. */
  public static final int MAX_DEPTH = 32;

  private static final String EXPECTED =
      "String, Long, Integer, Boolean, Double, or a Map with String keys or a List of those";

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  static {
    // bounded parsing of what a store hands back: no document deeper than we accept
    JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build());
  }

  private AttributeValues() {}

  /**
   * Checks that {@code value} may be stored in a session.
   *
   * @throws IllegalArgumentException naming the attribute, the rejected type and the supported ones
   */
  public static void requireSupported(String name, Object value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    String problem = problem(value, 0, "");
    if (problem != null) {
      throw new IllegalArgumentException("session attribute '" + name + "': " + problem + " (expected: " + EXPECTED + ")");
    }
  }

  // null when supported, else what is wrong and where
  private static String problem(Object value, int depth, String path) {
    if (value instanceof String || value instanceof Long || value instanceof Integer || value instanceof Boolean
        || value instanceof Double) {
      return null;
    }
    if (depth > 0 && (value == null || value instanceof java.math.BigInteger || value instanceof java.math.BigDecimal)) {
      // inside a JSON document: null, and the numbers a parser makes of long digit strings
      return null;
    }
    if (depth >= MAX_DEPTH && (value instanceof Map || value instanceof List)) {
      return "nested deeper than " + MAX_DEPTH + " at " + path;
    }
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          return "a map key of type " + (e.getKey() == null ? "null" : e.getKey().getClass().getName())
              + (path.isEmpty() ? "" : " at " + path);
        }
        String problem = problem(e.getValue(), depth + 1, path + "." + key);
        if (problem != null) {
          return problem;
        }
      }
      return null;
    }
    if (value instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        String problem = problem(list.get(i), depth + 1, path + "[" + i + "]");
        if (problem != null) {
          return problem;
        }
      }
      return null;
    }
    return "unsupported type " + value.getClass().getName() + (path.isEmpty() ? "" : " at " + path);
  }

  /** Whether {@code value} can change after it was handed out (a JSON map or list). */
  public static boolean isMutable(Object value) {
    return value instanceof Map || value instanceof List;
  }

  /** The stored form of a supported value. */
  public static String encode(Object value) {
    return switch (value) {
      case String s -> "s:" + s;
      case Long l -> "l:" + l;
      case Integer i -> "i:" + i;
      case Boolean b -> "b:" + b;
      case Double d -> "d:" + d;
      case Map<?, ?> m -> json(m);
      case List<?> l -> json(l);
      default -> throw new IllegalArgumentException("value: unsupported type "
          + value.getClass().getName() + " (expected: " + EXPECTED + ")");
    };
  }

  /** An independent copy of a supported value (the same object for the immutable types). */
  public static Object copy(Object value) {
    return isMutable(value) ? decode(encode(value)) : value;
  }

  private static String json(Object container) {
    try {
      return "j:" + JSON.writeValueAsString(container);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("value: cannot be written as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * The value of a stored form.
   *
   * @throws IllegalArgumentException if {@code stored} is not something {@link #encode} makes
   */
  public static Object decode(String stored) {
    if (stored.length() < 2 || stored.charAt(1) != ':') {
      throw malformed(stored);
    }
    String text = stored.substring(2);
    try {
      return switch (stored.charAt(0)) {
        case 's' -> text;
        case 'l' -> Long.parseLong(text);
        case 'i' -> Integer.parseInt(text);
        case 'd' -> Double.parseDouble(text);
        case 'b' -> switch (text) {
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          default -> throw malformed(stored);
        };
        case 'j' -> fromJson(stored, text);
        default -> throw malformed(stored);
      };
    } catch (NumberFormatException e) {
      throw malformed(stored);
    }
  }

  private static Object fromJson(String stored, String text) {
    Object value;
    try {
      // untyped: maps become LinkedHashMap, arrays ArrayList, numbers Integer/Long/Double
      value = JSON.readValue(text, Object.class);
    } catch (JsonProcessingException e) {
      throw malformed(stored);
    }
    if (!(value instanceof LinkedHashMap || value instanceof ArrayList)) {
      throw malformed(stored);
    }
    return value;
  }

  private static IllegalArgumentException malformed(String stored) {
    // Only the type prefix is quoted: values may be secrets (tokens, user ids).
    String prefix = stored.length() <= 2 ? stored : stored.substring(0, 2) + "…";
    return new IllegalArgumentException("stored attribute value: '" + prefix + "' ("
        + stored.length() + " chars) (expected: s:<text>, l:<long>, i:<int>, d:<double>, b:true|false or j:<JSON object or array>)");
  }
}
