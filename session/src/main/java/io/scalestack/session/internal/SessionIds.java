package io.scalestack.session.internal;

import java.security.SecureRandom;
import java.util.Base64;

/**
 * Session ids: 256 bits from {@link SecureRandom}, URL-safe base64 without padding (RFC 4648
 * section 5), 43 characters, all valid in a cookie value (RFC 6265 section 4.1.1).
 *
 * <p>Not API. Thread-safe.
 */
public final class SessionIds {

  /** Random bytes per id: 256 bits, twice the 128 bits that make guessing hopeless. */
  public static final int ID_BYTES = 32;

  /** Characters in an id: ceil(32 * 8 / 6). */
  public static final int ID_LENGTH = 43;

  /**
   * The leading characters an id keeps when it is rotated ({@link #rotate}): its family. A store
   * may key a session by its family (a Redis Cluster hash tag), so that the old and the new key
   * of a rotation live on one node and can be renamed atomically.
   */
  public static final int FAMILY_LENGTH = 11;

  // the fresh part of a rotated id: 24 bytes, 192 bits, exactly 32 base64url characters
  private static final int ROTATED_BYTES = 24;

  private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

  private final SecureRandom random;

  /** Ids drawn from the platform's default {@link SecureRandom}. */
  public SessionIds() {
    this(new SecureRandom());
  }

  /** Ids drawn from {@code random}. */
  public SessionIds(SecureRandom random) {
    this.random = random;
  }

  /** A fresh id. */
  public String next() {
    byte[] bytes = new byte[ID_BYTES];
    random.nextBytes(bytes);
    return ENCODER.encodeToString(bytes);
  }

  /**
   * A new id in the family of {@code id}: its first {@link #FAMILY_LENGTH} characters, then 192
   * fresh random bits. Whoever knew the old id learns nothing about the new one's random part,
   * which alone is far beyond guessing.
   */
  public String rotate(String id) {
    byte[] bytes = new byte[ROTATED_BYTES];
    random.nextBytes(bytes);
    return id.substring(0, FAMILY_LENGTH) + ENCODER.encodeToString(bytes);
  }

  /**
   * Whether {@code id} has the shape of an id this class makes. Checked before any store lookup,
   * so that hostile cookie values never reach the store.
   */
  public static boolean isWellFormed(String id) {
    if (id == null || id.length() != ID_LENGTH) {
      return false;
    }
    for (int i = 0; i < ID_LENGTH; i++) {
      char c = id.charAt(i);
      boolean base64Url = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_';
      if (!base64Url) {
        return false;
      }
    }
    return true;
  }

  /**
   * The first few characters of an id followed by an ellipsis: enough to correlate log lines, not
   * enough to hijack the session (an id is a bearer credential).
   */
  public static String redact(String id) {
    if (id == null) {
      return "null";
    }
    return id.length() <= 6 ? "…" : id.substring(0, 6) + "…";
  }
}
