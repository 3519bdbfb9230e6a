package io.scalestack.edge.internal;

import io.netty.handler.codec.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Header-field helpers shared by the client and origin sides. Stateless; thread-safe. */
final class Headers {

  /** The edge's {@code Via} entry (RFC 9110 §7.6.3). */
  static final String VIA = "1.1 scalestack-edge";
  /** Fastly's surrogate-key header: space-separated purge tags; internal, never sent to clients. */
  static final String SURROGATE_KEY = "surrogate-key";

  // RFC 9110 §7.6.1: connection-specific fields a proxy must not forward, plus the legacy ones
  // (Keep-Alive, Proxy-Connection) and the proxy-authentication pair of RFC 2616 §13.5.1.
  private static final String[] HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
    "proxy-authenticate", "proxy-authorization"
  };

  private Headers() {}

  /** Removes hop-by-hop fields, including those the {@code Connection} field names (RFC 9110 §7.6.1). */
  static void stripHopByHop(HttpHeaders headers) {
    for (String line : headers.getAll("connection")) {
      for (String token : line.split(",")) {
        String name = token.strip();
        if (!name.isEmpty()) {
          headers.remove(name);
        }
      }
    }
    for (String name : HOP_BY_HOP) {
      headers.remove(name);
    }
  }

  /** The comma-separated list values of a field over all its lines, trimmed, empty members dropped. */
  static List<String> listValues(HttpHeaders headers, String name) {
    List<String> lines = headers.getAll(name);
    if (lines.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      for (String token : line.split(",")) {
        String t = token.strip();
        if (!t.isEmpty()) {
          out.add(t);
        }
      }
    }
    return out;
  }

  /** The {@code Vary} field names, lower-cased ({@code *} kept as is). */
  static List<String> vary(HttpHeaders headers) {
    List<String> names = listValues(headers, "vary");
    if (names.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>(names.size());
    for (String n : names) {
      out.add(n.toLowerCase(Locale.ROOT));
    }
    return List.copyOf(out);
  }

  /**
   * The secondary cache key of a request for a response that varies on {@code vary}: each named
   * field's lines joined by commas, whitespace around the commas removed (the normalization RFC
   * 9111 §4.1 allows), fields separated by a newline (which no field value can contain).
   */
  static String secondaryKey(List<String> vary, HttpHeaders request) {
    if (vary.isEmpty()) {
      return "";
    }
    StringBuilder sb = new StringBuilder();
    for (String name : vary) {
      List<String> values = listValues(request, name);
      for (int i = 0; i < values.size(); i++) {
        if (i > 0) {
          sb.append(',');
        }
        sb.append(values.get(i));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * Whether {@code If-None-Match} matches {@code etag} by the weak comparison (RFC 9110 §13.1.2:
   * {@code *} matches any current representation; {@code W/} prefixes are ignored).
   */
  static boolean noneMatchHits(String ifNoneMatch, String etag) {
    if (ifNoneMatch.strip().equals("*")) {
      return true;
    }
    if (etag == null) {
      return false;
    }
    String opaque = weakless(etag.strip());
    for (String candidate : ifNoneMatch.split(",")) {
      if (weakless(candidate.strip()).equals(opaque)) {
        return true;
      }
    }
    return false;
  }

  private static String weakless(String tag) {
    return tag.startsWith("W/") ? tag.substring(2) : tag;
  }
}
