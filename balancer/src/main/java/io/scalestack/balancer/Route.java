package io.scalestack.balancer;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Content switching (HAProxy's {@code use_backend … if …}, nginx's {@code location}): a request
 * whose head meets every condition of a route goes to the route's {@link #pool()}; routes are
 * tried in the order given and the first match wins; a request no route matches goes to {@link
 * Pool#DEFAULT}. A route may rewrite the start of the path ({@code /api/users} →
 * {@code /users}).
 *
 * <p>Conditions look at the request as the client sent it: the {@code Host} (without port,
 * case-insensitive; {@code *.example.com} matches any subdomain), the path (without query), a
 * header, a cookie, the method.
 *
 * <p>Immutable; thread-safe. Built by {@link #to(String)}.
 */
public final class Route {

  private final String pool;
  private final String host;
  private final String pathPrefix;
  private final Pattern pathRegex;
  private final String headerName;
  private final Pattern headerValue;
  private final String cookieName;
  private final String cookieValue;
  private final Set<String> methods;
  private final String rewriteFrom;
  private final String rewriteTo;

  private Route(Builder b) {
    this.pool = b.pool;
    this.host = b.host;
    this.pathPrefix = b.pathPrefix;
    this.pathRegex = b.pathRegex;
    this.headerName = b.headerName;
    this.headerValue = b.headerValue;
    this.cookieName = b.cookieName;
    this.cookieValue = b.cookieValue;
    this.methods = Set.copyOf(b.methods);
    this.rewriteFrom = b.rewriteFrom;
    this.rewriteTo = b.rewriteTo;
  }

  /** A route to pool {@code pool}, matching every request until conditions are added. */
  public static Builder to(String pool) {
    return new Builder(pool);
  }

  public String pool() {
    return pool;
  }

  /** The host to match (lower case, maybe {@code *.suffix}), or null for any. */
  public String host() {
    return host;
  }

  /** The path prefix to match, or null for any. */
  public String pathPrefix() {
    return pathPrefix;
  }

  /** The regular expression the whole path must match, or null for any. */
  public Pattern pathRegex() {
    return pathRegex;
  }

  /** The header that must be present, or null. */
  public String headerName() {
    return headerName;
  }

  /** The regular expression the header's value must match, or null for any value. */
  public Pattern headerValue() {
    return headerValue;
  }

  /** The cookie that must be present, or null. */
  public String cookieName() {
    return cookieName;
  }

  /** The value the cookie must have, or null for any value. */
  public String cookieValue() {
    return cookieValue;
  }

  /** The methods to match (upper case), empty for any. */
  public Set<String> methods() {
    return methods;
  }

  /** The path prefix replaced on the way to the backend, or null for no rewriting. */
  public String rewriteFrom() {
    return rewriteFrom;
  }

  /** What replaces {@link #rewriteFrom()}. */
  public String rewriteTo() {
    return rewriteTo;
  }

  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    if (host != null) {
      parts.add("host=" + host);
    }
    if (pathPrefix != null) {
      parts.add("pathPrefix=" + pathPrefix);
    }
    if (pathRegex != null) {
      parts.add("pathRegex=" + pathRegex.pattern());
    }
    if (headerName != null) {
      parts.add("header=" + headerName + (headerValue != null ? "~" + headerValue.pattern() : ""));
    }
    if (cookieName != null) {
      parts.add("cookie=" + cookieName + (cookieValue != null ? "=" + cookieValue : ""));
    }
    if (!methods.isEmpty()) {
      parts.add("methods=" + new TreeSet<>(methods));
    }
    if (rewriteFrom != null) {
      parts.add("rewrite " + rewriteFrom + " -> " + rewriteTo);
    }
    return "Route[" + String.join(", ", parts) + " => " + pool + "]";
  }

  /** Builds a {@link Route}; setters validate at once. Not thread-safe. */
  public static final class Builder {
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}");
    private static final Pattern HOST = Pattern.compile("(\\*\\.)?[a-z0-9_]([a-z0-9_.-]{0,252})?");

    private final String pool;
    private String host;
    private String pathPrefix;
    private Pattern pathRegex;
    private String headerName;
    private Pattern headerValue;
    private String cookieName;
    private String cookieValue;
    private final Set<String> methods = new TreeSet<>();
    private String rewriteFrom;
    private String rewriteTo;

    private Builder(String pool) {
      String error = Pool.nameError(pool);
      if (error != null) {
        throw new IllegalArgumentException(error);
      }
      this.pool = pool;
    }

    /** Matches requests for {@code host} ({@code shop.example}, or {@code *.example} for any subdomain). */
    public Builder host(String host) {
      Objects.requireNonNull(host, "host");
      String h = host.strip().toLowerCase(Locale.ROOT);
      if (!HOST.matcher(h).matches()) {
        throw new IllegalArgumentException("host: '" + host + "' (expected: a host name, or *.domain)");
      }
      this.host = h;
      return this;
    }

    /** Matches paths that start with {@code prefix} (which starts with {@code /}). */
    public Builder pathPrefix(String prefix) {
      this.pathPrefix = path("pathPrefix", prefix);
      return this;
    }

    /** Matches paths that {@code regex} matches whole. */
    public Builder pathRegex(String regex) {
      this.pathRegex = compile("pathRegex", regex);
      return this;
    }

    /** Matches requests carrying header {@code name}, whatever its value. */
    public Builder header(String name) {
      this.headerName = token("header", name);
      this.headerValue = null;
      return this;
    }

    /** Matches requests whose header {@code name} has a value {@code valueRegex} matches whole. */
    public Builder header(String name, String valueRegex) {
      this.headerName = token("header", name);
      this.headerValue = compile("headerValue", valueRegex);
      return this;
    }

    /** Matches requests carrying cookie {@code name}. */
    public Builder cookie(String name) {
      this.cookieName = token("cookie", name);
      this.cookieValue = null;
      return this;
    }

    /** Matches requests carrying cookie {@code name} with exactly {@code value}. */
    public Builder cookie(String name, String value) {
      this.cookieName = token("cookie", name);
      this.cookieValue = Objects.requireNonNull(value, "cookieValue");
      return this;
    }

    /** Matches requests with one of {@code methods} ({@code GET}, {@code POST}, …). */
    public Builder methods(String... methods) {
      for (String method : methods) {
        this.methods.add(token("method", method).toUpperCase(Locale.ROOT));
      }
      return this;
    }

    /** Removes {@code prefix} from the start of the path on the way to the backend ({@code /api/x} → {@code /x}). */
    public Builder stripPrefix(String prefix) {
      return rewritePrefix(prefix, "/");
    }

    /** Replaces {@code from} at the start of the path with {@code to} on the way to the backend. */
    public Builder rewritePrefix(String from, String to) {
      this.rewriteFrom = path("rewriteFrom", from);
      this.rewriteTo = path("rewriteTo", to);
      return this;
    }

    public Route build() {
      return new Route(this);
    }

    private static String path(String field, String value) {
      Objects.requireNonNull(value, field);
      if (!value.startsWith("/") || value.length() > 2048 || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException(field + ": '" + value + "' (expected: a path starting with '/', visible ASCII)");
      }
      return value;
    }

    private static String token(String field, String value) {
      Objects.requireNonNull(value, field);
      if (!TOKEN.matcher(value).matches()) {
        throw new IllegalArgumentException(field + ": '" + value + "' (expected: a token of 1 to 128 characters)");
      }
      return value;
    }

    private static Pattern compile(String field, String regex) {
      Objects.requireNonNull(regex, field);
      try {
        return Pattern.compile(regex);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(field + ": '" + regex + "' (expected: a Java regular expression; "
            + e.getDescription() + " at index " + e.getIndex() + ")");
      }
    }
  }
}
