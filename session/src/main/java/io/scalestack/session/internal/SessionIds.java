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
