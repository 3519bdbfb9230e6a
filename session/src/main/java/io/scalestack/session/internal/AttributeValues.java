package io.scalestack.session.internal;

import java.util.Objects;

/**
 * The session attribute types and their text encoding in a store: a one-letter type prefix, a
 * colon, then the value ({@code s:alice}, {@code l:42}, {@code i:7}, {@code b:true}).
 *
 * <p>Only {@link String}, {@link Long}, {@link Integer} and {@link Boolean} are supported, on
 * purpose: Java deserialization of data read from a shared store is a remote code execution
 * risk, and a typed text encoding keeps stored sessions readable ({@code redis-cli HGETALL}).
 *
 * <p>Not API. Stateless and thread-safe.
 */
public final class AttributeValues {

  private static final String EXPECTED = "String, Long, Integer or Boolean";

  private AttributeValues() {}

  /**
   * Checks that {@code value} may be stored in a session.
   *
   * @throws IllegalArgumentException naming the attribute, the rejected type and the supported ones
   */
  public static void requireSupported(String name, Object value) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(value, "value");
    if (!(value instanceof String || value instanceof Long || value instanceof Integer
        || value instanceof Boolean)) {
      throw new IllegalArgumentException("session attribute '" + name + "': unsupported type "
          + value.getClass().getName() + " (expected: " + EXPECTED + ")");
    }
  }

  /** The stored form of a supported value. */
  public static String encode(Object value) {
    return switch (value) {
      case String s -> "s:" + s;
      case Long l -> "l:" + l;
      case Integer i -> "i:" + i;
      case Boolean b -> "b:" + b;
      default -> throw new IllegalArgumentException("value: unsupported type "
          + value.getClass().getName() + " (expected: " + EXPECTED + ")");
    };
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
        case 'b' -> switch (text) {
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          default -> throw malformed(stored);
        };
        default -> throw malformed(stored);
      };
    } catch (NumberFormatException e) {
      throw malformed(stored);
    }
  }

  private static IllegalArgumentException malformed(String stored) {
    // Only the type prefix is quoted: values may be secrets (tokens, user ids).
    String prefix = stored.length() <= 2 ? stored : stored.substring(0, 2) + "…";
    return new IllegalArgumentException("stored attribute value: '" + prefix + "' ("
        + stored.length() + " chars) (expected: s:<text>, l:<long>, i:<int> or b:true|false)");
  }
}
