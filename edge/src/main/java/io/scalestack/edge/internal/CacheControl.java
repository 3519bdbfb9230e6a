package io.scalestack.edge.internal;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.List;
import java.util.Locale;

/**
 * The response {@code Cache-Control} directives a shared cache acts on (RFC 9111 §5.2.2, RFC 5861).
 * Delta-seconds are -1 when absent. Parsing is defensive: an invalid or repeated freshness value
 * counts as 0 (stale), as RFC 9111 §4.2.1 allows ("the response should be considered stale"), and
 * values are capped at 2^31 (§1.2.2). Qualified {@code private="…"} and {@code no-cache="…"} are
 * treated as their unqualified forms: the conservative reading for a shared cache (§5.2.2.4, §5.2.2.7).
 *
 * <p>Immutable; thread-safe.
 */
record CacheControl(
    boolean noStore,
    boolean noCache,
    boolean isPrivate,
    boolean isPublic,
    boolean mustRevalidate,
    boolean proxyRevalidate,
    long maxAge,
    long sMaxAge,
    long staleWhileRevalidate,
    long staleIfError) {

  static final CacheControl NONE = new CacheControl(false, false, false, false, false, false, -1, -1, -1, -1);
  private static final long MAX_DELTA = 1L << 31;

  static CacheControl parse(HttpHeaders headers) {
    List<String> lines = headers.getAll("cache-control");
    if (lines.isEmpty()) {
      return NONE;
    }
    boolean noStore = false, noCache = false, priv = false, pub = false, mustRevalidate = false, proxyRevalidate = false;
    long maxAge = -1, sMaxAge = -1, swr = -1, sie = -1;
    for (String line : lines) {
      for (String part : splitDirectives(line)) {
        String directive = part.strip();
        if (directive.isEmpty()) {
          continue;
        }
        int eq = directive.indexOf('=');
        String name = (eq < 0 ? directive : directive.substring(0, eq)).strip().toLowerCase(Locale.ROOT);
        String value = eq < 0 ? null : unquote(directive.substring(eq + 1).strip());
        switch (name) {
          case "no-store" -> noStore = true;
          case "no-cache" -> noCache = true;
          case "private" -> priv = true;
          case "public" -> pub = true;
          case "must-revalidate" -> mustRevalidate = true;
          case "proxy-revalidate" -> proxyRevalidate = true;
          case "max-age" -> maxAge = maxAge >= 0 ? 0 : delta(value);
          case "s-maxage" -> sMaxAge = sMaxAge >= 0 ? 0 : delta(value);
          case "stale-while-revalidate" -> swr = swr >= 0 ? 0 : delta(value);
          case "stale-if-error" -> sie = sie >= 0 ? 0 : delta(value);
          default -> { } // extensions a cache does not understand are ignored (§5.2.3)
        }
      }
    }
    return new CacheControl(noStore, noCache, priv, pub, mustRevalidate, proxyRevalidate, maxAge, sMaxAge, swr, sie);
  }

  /** Whether an explicit directive forbids serving this response stale (RFC 9111 §4.2.4, §5.2.2.2, §5.2.2.8, §5.2.2.10). */
  boolean staleForbidden() {
    return mustRevalidate || proxyRevalidate || sMaxAge >= 0 || noCache;
  }

  private static long delta(String value) {
    if (value == null || value.isEmpty()) {
      return 0;
    }
    long v = 0;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < '0' || c > '9') {
        return 0; // invalid: stale (§4.2.1)
      }
      v = Math.min(MAX_DELTA, v * 10 + (c - '0'));
    }
    return v;
  }

  private static String unquote(String v) {
    return v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"' ? v.substring(1, v.length() - 1) : v;
  }

  /** Splits on commas outside quoted strings ({@code private="a, b"} is one directive). */
  private static List<String> splitDirectives(String line) {
    if (line.indexOf('"') < 0) {
      return List.of(line.split(","));
    }
    java.util.ArrayList<String> out = new java.util.ArrayList<>();
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        out.add(line.substring(start, i));
        start = i + 1;
      }
    }
    out.add(line.substring(start));
    return out;
  }
}
