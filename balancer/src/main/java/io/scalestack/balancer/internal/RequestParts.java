package io.scalestack.balancer.internal;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import java.util.List;

/**
 * Reads the parts of a request head that routing and hashing look at — path, query parameters,
 * cookies, host — without decoding more than needed. Stateless; thread-safe.
 */
final class RequestParts {

  private RequestParts() {}

  /** The path of {@code uri}: origin form up to {@code ?}; for absolute form (RFC 9112 §3.2.2) the path part. */
  static String path(String uri) {
    int start = 0;
    if (!uri.startsWith("/")) {
      int scheme = uri.indexOf("://");
      if (scheme < 0) {
        return uri; // asterisk form, or garbage the decoder let through
      }
      int slash = uri.indexOf('/', scheme + 3);
      if (slash < 0) {
        return "/";
      }
      start = slash;
    }
    int end = uri.length();
    int q = uri.indexOf('?', start);
    if (q >= 0) {
      end = q;
    }
    int hash = uri.indexOf('#', start);
    if (hash >= 0 && hash < end) {
      end = hash;
    }
    return uri.substring(start, end);
  }

  /** The raw value of query parameter {@code name} in {@code uri}, or null; the first when repeated. */
  static String queryParameter(String uri, String name) {
    int q = uri.indexOf('?');
    if (q < 0) {
      return null;
    }
    int end = uri.indexOf('#', q);
    if (end < 0) {
      end = uri.length();
    }
    int i = q + 1;
    while (i < end) {
      int amp = uri.indexOf('&', i);
      if (amp < 0 || amp > end) {
        amp = end;
      }
      int eq = uri.indexOf('=', i);
      int nameEnd = eq >= 0 && eq < amp ? eq : amp;
      if (nameEnd - i == name.length() && uri.regionMatches(i, name, 0, name.length())) {
        return nameEnd == amp ? "" : uri.substring(nameEnd + 1, amp);
      }
      i = amp + 1;
    }
    return null;
  }

  /** The value of cookie {@code name} in the {@code Cookie} fields (RFC 6265 §5.4), or null. */
  static String cookie(HttpHeaders headers, String name) {
    List<String> fields = headers.getAll(HttpHeaderNames.COOKIE);
    for (int f = 0; f < fields.size(); f++) {
      String value = cookie(fields.get(f), name);
      if (value != null) {
        return value;
      }
    }
    return null;
  }

  /** The value of cookie {@code name} in one {@code Cookie} field value, or null. */
  static String cookie(String field, String name) {
    int i = 0;
    int n = field.length();
    while (i < n) {
      while (i < n && (field.charAt(i) == ' ' || field.charAt(i) == '\t')) {
        i++;
      }
      int semi = field.indexOf(';', i);
      if (semi < 0) {
        semi = n;
      }
      int eq = field.indexOf('=', i);
      if (eq >= 0 && eq < semi && eq - i == name.length() && field.regionMatches(i, name, 0, name.length())) {
        String value = field.substring(eq + 1, semi).strip();
        if (value.length() >= 2 && value.charAt(0) == '"' && value.charAt(value.length() - 1) == '"') {
          value = value.substring(1, value.length() - 1);
        }
        return value;
      }
      i = semi + 1;
    }
    return null;
  }

  /** The host the request is for, lower case, without port; null when it has no Host. */
  static String host(HttpRequest head) {
    String host = head.headers().get(HttpHeaderNames.HOST);
    if (host == null) {
      return null;
    }
    host = host.strip();
    int end = host.length();
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      end = close < 0 ? end : close + 1;
    } else {
      int colon = host.lastIndexOf(':');
      if (colon >= 0) {
        end = colon;
      }
    }
    String h = host.substring(0, end);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1); // a fully qualified name is the same host (RFC 9110 §4.2.3)
    }
    return h.toLowerCase(java.util.Locale.ROOT);
  }
}
