package io.scalestack.edge.internal;

import io.netty.handler.codec.http.HttpHeaders;

/**
 * Whether a response to a GET may be stored by this shared cache (RFC 9111 §3), decided on its
 * status and fields alone (requests with {@code Authorization} or {@code Range} never get here).
 *
 * <p>Freshness must be explicit: the edge applies no heuristic freshness (§4.2.2). A response
 * without it is stored only when it says {@code no-cache} and carries a validator, to be
 * revalidated before each use. {@code Set-Cookie} responses are not stored (nginx's default):
 * a shared cache must not hand one user's cookie to another.
 *
 * <p>Stateless; thread-safe.
 */
final class Storability {

  private Storability() {}

  /** RFC 9110 §15.1: the status codes heuristically cacheable, plus 302 and 307 with explicit freshness. */
  static boolean understood(int status) {
    return switch (status) {
      case 200, 203, 204, 300, 301, 302, 307, 308, 404, 405, 410, 414, 501 -> true;
      default -> false;
    };
  }

  static boolean storable(int status, HttpHeaders headers) {
    if (!understood(status)) {
      return false;
    }
    CacheControl cc = CacheControl.parse(headers);
    if (cc.noStore() || cc.isPrivate()) { // §5.2.2.5, §5.2.2.7 (a shared cache)
      return false;
    }
    if (Headers.vary(headers).contains("*")) { // §4.1: always fails to match
      return false;
    }
    if (headers.contains("set-cookie")) {
      return false;
    }
    boolean validator = headers.contains("etag") || headers.contains("last-modified");
    long date = HttpDates.parse(headers.get("date"));
    long lifetime = Entry.freshnessLifetime(cc, headers, date);
    if (cc.noCache()) {
      return validator;
    }
    return lifetime > 0 || (lifetime == 0 && validator);
  }
}
