package io.scalestack.balancer;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Session persistence for a {@link Pool}: which backend a returning client is sent to.
 *
 * <ul>
 *   <li>{@link #insertCookie(String)} — the balancer sets a cookie naming the backend that
 *       answered, as an opaque signed id ({@code SRV=web-1.Hk3…}: the backend's name and an HMAC
 *       of it, never its address), and sends later requests carrying it there (HAProxy's {@code
 *       cookie SRV insert indirect nocache}).
 *   <li>{@link #prefixCookie(String)} — the application's own session cookie ({@code
 *       JSESSIONID}) is prefixed with the signed id when the backend sets it, and the prefix is
 *       removed before requests reach the backend (HAProxy's {@code cookie JSESSIONID prefix}).
 *   <li>{@link #sourceIp()} — a consistent hash of the client's address picks the backend.
 * </ul>
 *
 * <p>When the pinned backend is down, draining or removed, the request goes to another one chosen
 * by the pool's algorithm (with cookie insertion the client gets the new pin), counted in {@code
 * scalestack_lb_repins_total}. A cookie whose signature does not verify is ignored.
 *
 * <p>Immutable; thread-safe.
 */
public final class Sticky {

  /** How the pin travels. */
  public enum Mode {
    /** A cookie of the balancer's own. */
    INSERT_COOKIE,
    /** A prefix on the application's session cookie. */
    PREFIX_COOKIE,
    /** The client's IP address. */
    SOURCE_IP
  }

  // RFC 6265 §4.1.1: a cookie-name is a token
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}");

  private final Mode mode;
  private final String cookieName;

  private Sticky(Mode mode, String cookieName) {
    this.mode = mode;
    this.cookieName = cookieName;
  }

  /** The balancer inserts cookie {@code cookieName} (for example {@code SRV}). */
  public static Sticky insertCookie(String cookieName) {
    return new Sticky(Mode.INSERT_COOKIE, token(cookieName));
  }

  /** The balancer prefixes the application's cookie {@code cookieName} (for example {@code JSESSIONID}). */
  public static Sticky prefixCookie(String cookieName) {
    return new Sticky(Mode.PREFIX_COOKIE, token(cookieName));
  }

  /** The client's IP address pins it. */
  public static Sticky sourceIp() {
    return new Sticky(Mode.SOURCE_IP, "");
  }

  /**
   * Parses {@code insert:NAME}, {@code prefix:NAME} or {@code source}.
   *
   * @throws IllegalArgumentException {@code sticky: 'value' (expected: …)}
   */
  public static Sticky parse(String text) {
    if (text != null) {
      String s = text.strip();
      if (s.equalsIgnoreCase("source") || s.equalsIgnoreCase("source-ip")) {
        return sourceIp();
      }
      int colon = s.indexOf(':');
      if (colon > 0 && TOKEN.matcher(s.substring(colon + 1)).matches()) {
        String kind = s.substring(0, colon);
        if (kind.equalsIgnoreCase("insert")) {
          return insertCookie(s.substring(colon + 1));
        }
        if (kind.equalsIgnoreCase("prefix")) {
          return prefixCookie(s.substring(colon + 1));
        }
      }
    }
    throw new IllegalArgumentException("sticky: " + (text == null ? "null" : "'" + text + "'")
        + " (expected: insert:COOKIE, prefix:COOKIE or source)");
  }

  public Mode mode() {
    return mode;
  }

  /** The cookie's name; empty for {@link Mode#SOURCE_IP}. */
  public String cookieName() {
    return cookieName;
  }

  private static String token(String name) {
    Objects.requireNonNull(name, "cookieName");
    if (!TOKEN.matcher(name).matches()) {
      throw new IllegalArgumentException("cookieName: '" + name + "' (expected: a cookie name token of 1 to 64 characters)");
    }
    return name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Sticky other && mode == other.mode && cookieName.equals(other.cookieName);
  }

  @Override
  public int hashCode() {
    return Objects.hash(mode, cookieName);
  }

  /** The configuration form: {@code insert:SRV}, {@code prefix:JSESSIONID} or {@code source}. */
  @Override
  public String toString() {
    return switch (mode) {
      case INSERT_COOKIE -> "insert:" + cookieName;
      case PREFIX_COOKIE -> "prefix:" + cookieName;
      case SOURCE_IP -> "source";
    };
  }
}
