package io.scalestack.blob.internal;

/**
 * The one rule for object keys, shared by every {@code BlobStore}: a key that passes it is a safe relative file path
 * (it cannot climb out of a directory store's root) and a plain S3 object key, so both stores accept the same keys.
 * Stateless and thread-safe.
 */
public final class Keys {

  /** The longest key; well under S3's 1024-byte limit and common file-system path limits. */
  public static final int MAX_LENGTH = 512;

  private static final String EXPECTED = "(expected: 1.." + MAX_LENGTH
      + " characters of [A-Za-z0-9._/-], no leading '/', no '.', '..' or empty segment)";

  private Keys() {
  }

  /**
   * Returns {@code key} if it follows the rule.
   *
   * @throws IllegalArgumentException naming the key and the rule, if it does not
   */
  public static String check(String key) {
    if (key == null) {
      throw new IllegalArgumentException("key: null " + EXPECTED);
    }
    if (!valid(key)) {
      throw new IllegalArgumentException("key: '" + printable(key) + "' " + EXPECTED);
    }
    return key;
  }

  private static boolean valid(String key) {
    int length = key.length();
    if (length == 0 || length > MAX_LENGTH) {
      return false;
    }
    int segmentStart = 0;
    for (int i = 0; i <= length; i++) {
      if (i == length || key.charAt(i) == '/') {
        // covers the leading '/' (an empty first segment), '//' and a trailing '/'
        if (!validSegment(key, segmentStart, i)) {
          return false;
        }
        segmentStart = i + 1;
      } else if (!allowed(key.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static boolean validSegment(String key, int start, int end) {
    int length = end - start;
    if (length == 0) {
      return false;
    }
    boolean dots = key.charAt(start) == '.' && (length == 1 || length == 2 && key.charAt(start + 1) == '.');
    return !dots;
  }

  private static boolean allowed(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-';
  }

  /** A rejected key goes into an exception message and often a log line: keep it short and free of control characters. */
  private static String printable(String key) {
    StringBuilder out = new StringBuilder(Math.min(key.length(), 80) + 4);
    for (int i = 0; i < key.length() && out.length() < 80; i++) {
      char c = key.charAt(i);
      out.append(c < 0x20 || c == 0x7f ? '?' : c);
    }
    if (out.length() < key.length()) {
      out.append("...(").append(key.length()).append(" characters)");
    }
    return out.toString();
  }
}
