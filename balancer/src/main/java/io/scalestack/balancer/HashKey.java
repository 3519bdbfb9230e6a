package io.scalestack.balancer;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the {@link Algorithm#HASH hash} algorithm takes its key from: a request header ({@code
 * header:X-User}), a cookie ({@code cookie:uid}), a query parameter ({@code query:user}) or the
 * request path ({@code path}, without the query). Parsed from, and printed as, that form.
 *
 * <p>Immutable; thread-safe.
 */
public final class HashKey {

  /** Which part of the request holds the key. */
  public enum Source {
    /** A header field; the first value when repeated. */
    HEADER,
    /** A cookie of the {@code Cookie} header. */
    COOKIE,
    /** A query parameter, as sent (not percent-decoded). */
    QUERY,
    /** The path of the request target, without the query. */
    PATH
  }

  // RFC 9110 §5.6.2 token characters: header, cookie and parameter names use them
  private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}");
  private static final String EXPECTED = "header:NAME, cookie:NAME, query:NAME or path";

  private final Source source;
  private final String name;

  private HashKey(Source source, String name) {
    this.source = source;
    this.name = name;
  }

  /** The key is the value of header {@code name}. */
  public static HashKey header(String name) {
    return new HashKey(Source.HEADER, token("header", name));
  }

  /** The key is the value of cookie {@code name}. */
  public static HashKey cookie(String name) {
    return new HashKey(Source.COOKIE, token("cookie", name));
  }

  /** The key is the value of query parameter {@code name}. */
  public static HashKey query(String name) {
    return new HashKey(Source.QUERY, token("query", name));
  }

  /** The key is the request path. */
  public static HashKey path() {
    return new HashKey(Source.PATH, "");
  }

  /**
   * Parses {@code header:NAME}, {@code cookie:NAME}, {@code query:NAME} or {@code path}
   * (the source case-insensitive).
   *
   * @throws IllegalArgumentException {@code hashKey: 'value' (expected: …)}
   */
  public static HashKey parse(String text) {
    if (text == null) {
      throw new IllegalArgumentException("hashKey: null (expected: " + EXPECTED + ")");
    }
    String s = text.strip();
    if (s.equalsIgnoreCase("path")) {
      return path();
    }
    int colon = s.indexOf(':');
    if (colon > 0) {
      String name = s.substring(colon + 1).strip();
      if (TOKEN.matcher(name).matches()) {
        switch (s.substring(0, colon).strip().toLowerCase(Locale.ROOT)) {
          case "header", "hdr" -> {
            return header(name);
          }
          case "cookie" -> {
            return cookie(name);
          }
          case "query", "url_param", "param" -> {
            return query(name);
          }
          default -> { }
        }
      }
    }
    throw new IllegalArgumentException("hashKey: '" + text + "' (expected: " + EXPECTED + ")");
  }

  /** Which part of the request holds the key. */
  public Source source() {
    return source;
  }

  /** The header, cookie or parameter name; empty for {@link Source#PATH}. */
  public String name() {
    return name;
  }

  private static String token(String field, String name) {
    Objects.requireNonNull(name, field);
    if (!TOKEN.matcher(name).matches()) {
      throw new IllegalArgumentException(field + ": '" + name + "' (expected: a token of 1 to 128 characters)");
    }
    return name;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HashKey other && source == other.source && name.equalsIgnoreCase(other.name);
  }

  @Override
  public int hashCode() {
    return Objects.hash(source, name.toLowerCase(Locale.ROOT));
  }

  /** The configuration form, for example {@code header:X-User} or {@code path}. */
  @Override
  public String toString() {
    return source == Source.PATH ? "path" : source.name().toLowerCase(Locale.ROOT) + ":" + name;
  }
}
