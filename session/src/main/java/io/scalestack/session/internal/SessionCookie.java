package io.scalestack.session.internal;

import jakarta.servlet.http.Cookie;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * The session cookie: reading its values from a request and writing the {@code Set-Cookie}
 * header that sets or expires it (RFC 6265 section 4.1).
 *
 * <p>The header is written by hand rather than through {@link Cookie} so that the attributes are
 * exactly these on every container: {@code Path=/}, {@code HttpOnly} (scripts cannot read the
 * id), {@code SameSite=Lax} (not sent on cross-site subrequests, a CSRF defence) and {@code
 * Secure} when the request came over TLS ({@link HttpServletRequest#isSecure()}, which a
 * container behind a TLS-terminating balancer derives from {@code X-Forwarded-Proto} when told to
 * trust it) or when configured for every request. No {@code Max-Age} when set: the cookie lasts the browser session
 * and the store decides expiry.
 *
 * <p>Not API. Immutable and thread-safe.
 */
public final class SessionCookie {

  /** Longest cookie value looked at; longer ones are ignored unread. */
  public static final int MAX_VALUE_CHARS = 4096;

  /** At most this many cookies with our name are tried (a client may send duplicates). */
  public static final int MAX_VALUES = 4;

  private final String name;
  private final boolean secure;

  /** The cookie called {@code name}, with the {@code Secure} attribute if {@code secure}. */
  public SessionCookie(String name, boolean secure) {
    this.name = name;
    this.secure = secure;
  }

  /** The cookie's name. */
  public String name() {
    return name;
  }

  /**
   * The values of the cookies with our name, in request order, at most {@link #MAX_VALUES},
   * without empty or overlong ones.
   */
  public List<String> values(HttpServletRequest request) {
    Cookie[] cookies = request.getCookies();
    List<String> values = new ArrayList<>(1);
    if (cookies == null) {
      return values;
    }
    for (Cookie cookie : cookies) {
      if (values.size() == MAX_VALUES) {
        break;
      }
      String value = cookie.getValue();
      if (name.equals(cookie.getName()) && value != null && !value.isEmpty()
          && value.length() <= MAX_VALUE_CHARS) {
        values.add(value);
      }
    }
    return values;
  }

  /** The {@code Set-Cookie} value that gives the client this session id, in answer to {@code request}. */
  public String set(String id, HttpServletRequest request) {
    return name + "=" + id + attributes(request);
  }

  /** The {@code Set-Cookie} value that makes the client drop the cookie. */
  public String expire(HttpServletRequest request) {
    // Max-Age=0 (RFC 6265 section 5.2.2); Expires in the past for clients that ignore Max-Age.
    return name + "=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT" + attributes(request);
  }

  // RFC 6265 section 4.1.2.5: a cookie that came over TLS must never go back in clear text
  private String attributes(HttpServletRequest request) {
    return secure || request.isSecure() ? "; Path=/; Secure; HttpOnly; SameSite=Lax" : "; Path=/; HttpOnly; SameSite=Lax";
  }

  /**
   * Whether {@code name} is a valid cookie name: an RFC 7230 token (RFC 6265 section 4.1.1).
   */
  public static boolean isValidName(String name) {
    if (name == null || name.isEmpty()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean tchar = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
      if (!tchar) {
        return false;
      }
    }
    return true;
  }
}
