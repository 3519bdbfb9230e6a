package io.scalestack.edge.internal;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.IllegalReferenceCountException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One stored response (RFC 9111 §3) with everything the hit path needs precomputed: the encoded
 * status line and header section (without {@code Age}, which changes with every use), the body
 * in one direct buffer, the corrected initial age and the freshness lifetime.
 *
 * <p>Times are epoch milliseconds of the edge's clock. The body's reference belongs to the cache
 * (released when the entry leaves it); a user takes its own with {@link #retainedBody()}.
 *
 * <p>Immutable; thread-safe.
 */
final class Entry {

  private static final int OVERHEAD_BYTES = 512; // key, indexes, object headers: a rough but fixed charge

  final CacheKey key;
  final int status;
  final String reason;
  /** The stored header fields: hop-by-hop fields removed, {@code Age} and {@code Date} as received. */
  final HttpHeaders headers;
  final ByteBuf body;
  /** Status line and fields (no {@code Age}, no final CRLF), ready to write. */
  final byte[] head;
  final long requestTime;
  final long responseTime;
  final long correctedInitialAge;
  /** The freshness lifetime, or -1 without explicit freshness (then stored only for revalidation). */
  final long freshnessLifetime;
  final CacheControl cacheControl;
  final String etag;
  final long lastModified;
  final List<String> vary;
  final Set<String> tags;
  final int weight;

  private Entry(CacheKey key, int status, String reason, HttpHeaders headers, ByteBuf body, long requestTime,
      long responseTime) {
    this.key = key;
    this.status = status;
    this.reason = reason;
    this.headers = headers;
    this.body = body;
    this.requestTime = requestTime;
    this.responseTime = responseTime;
    this.cacheControl = CacheControl.parse(headers);
    this.etag = headers.get("etag");
    this.lastModified = HttpDates.parse(headers.get("last-modified"));
    this.vary = Headers.vary(headers);
    this.tags = tagsOf(headers);
    long date = HttpDates.parse(headers.get("date"));
    // RFC 9111 §4.2.3: age calculation
    long ageValue = seconds(headers.get("age")) * 1000;
    long apparentAge = date < 0 ? 0 : Math.max(0, responseTime - date);
    long responseDelay = Math.max(0, responseTime - requestTime);
    this.correctedInitialAge = Math.max(apparentAge, ageValue + responseDelay);
    this.freshnessLifetime = freshnessLifetime(cacheControl, headers, date < 0 ? responseTime : date);
    this.head = encodeHead(status, reason, headers, body.readableBytes());
    this.weight = (int) Math.min(Integer.MAX_VALUE, (long) head.length + body.readableBytes() + OVERHEAD_BYTES);
  }

  /** A new entry; takes over the caller's reference to {@code body}. */
  static Entry create(CacheKey key, int status, String reason, HttpHeaders headers, ByteBuf body, long requestTime,
      long responseTime) {
    return new Entry(key, status, reason, headers, body, requestTime, responseTime);
  }

  /**
   * RFC 9111 §4.2.1: s-maxage (shared caches) over max-age over Expires − Date. No heuristic
   * freshness (§4.2.2): a response without explicit freshness is stored only when it can be
   * revalidated, and then is stale at once.
   */
  static long freshnessLifetime(CacheControl cc, HttpHeaders headers, long date) {
    if (cc.sMaxAge() >= 0) {
      return cc.sMaxAge() * 1000;
    }
    if (cc.maxAge() >= 0) {
      return cc.maxAge() * 1000;
    }
    List<String> expires = headers.getAll("expires");
    if (!expires.isEmpty()) {
      long e = expires.size() == 1 ? HttpDates.parse(expires.get(0)) : -1;
      // an invalid Expires (such as "0") means already expired (§5.3)
      return e < 0 ? 0 : Math.max(0, e - date);
    }
    return -1;
  }

  /** This entry's headers refreshed by a 304 (RFC 9111 §4.3.4, §3.2); shares the body (retained). */
  Entry refreshedBy(HttpHeaders notModified, long requestTime, long responseTime) {
    HttpHeaders merged = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
    merged.set(headers);
    for (String name : notModified.names()) {
      String lower = name.toLowerCase(java.util.Locale.ROOT);
      // §3.2: the stored body stays, so do the fields that describe its framing and coding
      if (lower.equals("content-length") || lower.equals("content-encoding") || lower.equals("content-range")
          || lower.equals("transfer-encoding")) {
        continue;
      }
      merged.set(name, notModified.getAll(name));
    }
    Headers.stripHopByHop(merged);
    return new Entry(key, status, reason, merged, body.retain(), requestTime, responseTime);
  }

  /** The current age (RFC 9111 §4.2.3) at {@code now}, in milliseconds. */
  long currentAge(long now) {
    return correctedInitialAge + Math.max(0, now - responseTime);
  }

  /** Fresh and usable without contacting the origin (not {@code no-cache}, §5.2.2.4). */
  boolean isFresh(long now) {
    return !cacheControl.noCache() && freshnessLifetime > currentAge(now);
  }

  private long staleness(long now) {
    return currentAge(now) - Math.max(0, freshnessLifetime);
  }

  /** RFC 5861 §3: within the stale-while-revalidate window, and no directive forbids serving stale. */
  boolean staleWhileRevalidate(long now) {
    return !cacheControl.staleForbidden() && cacheControl.staleWhileRevalidate() >= 0
        && staleness(now) < cacheControl.staleWhileRevalidate() * 1000;
  }

  /** RFC 5861 §4: within the stale-if-error window, and no directive forbids serving stale. */
  boolean staleIfError(long now) {
    return !cacheControl.staleForbidden() && cacheControl.staleIfError() >= 0
        && staleness(now) < cacheControl.staleIfError() * 1000;
  }

  boolean hasValidator() {
    return etag != null || lastModified >= 0;
  }

  /** Whether a request with these headers selects this entry (RFC 9111 §4.1). */
  boolean matches(HttpHeaders request) {
    return !vary.contains("*") && Headers.secondaryKey(vary, request).equals(key.secondary());
  }

  /** A new reference to the body, or null when the entry was removed meanwhile (then it is a miss). */
  ByteBuf retainedBody() {
    try {
      return body.retainedDuplicate();
    } catch (IllegalReferenceCountException e) {
      return null; // released by a concurrent replacement or eviction: the caller treats it as a miss
    }
  }

  boolean bodyless() {
    return status == 204 || status == 304 || status < 200;
  }

  private static byte[] encodeHead(int status, String reason, HttpHeaders headers, int length) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    write(out, "HTTP/1.1 " + status + " " + reason + "\r\n");
    String via = null;
    for (Map.Entry<String, String> h : headers) {
      String name = h.getKey();
      if (name.equalsIgnoreCase("age") || name.equalsIgnoreCase("content-length")
          || name.equalsIgnoreCase(Headers.SURROGATE_KEY)) {
        continue;
      }
      if (name.equalsIgnoreCase("via")) {
        via = via == null ? h.getValue() : via + ", " + h.getValue();
        continue;
      }
      write(out, name + ": " + h.getValue() + "\r\n");
    }
    write(out, "Via: " + (via == null ? Headers.VIA : via + ", " + Headers.VIA) + "\r\n");
    if (!(status == 204 || status == 304 || status < 200)) {
      write(out, "Content-Length: " + length + "\r\n");
    }
    return out.toByteArray();
  }

  private static void write(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    out.write(b, 0, b.length);
  }

  private static long seconds(String value) {
    if (value == null) {
      return 0;
    }
    String v = value.strip();
    if (v.isEmpty() || v.length() > 10) {
      return v.isEmpty() ? 0 : Integer.MAX_VALUE;
    }
    for (int i = 0; i < v.length(); i++) {
      if (v.charAt(i) < '0' || v.charAt(i) > '9') {
        return 0;
      }
    }
    return Long.parseLong(v);
  }

  private static Set<String> tagsOf(HttpHeaders headers) {
    List<String> lines = headers.getAll(Headers.SURROGATE_KEY);
    if (lines.isEmpty()) {
      return Set.of();
    }
    Set<String> tags = new LinkedHashSet<>();
    for (String line : lines) {
      for (String t : line.split(" ")) {
        // bounded: at most 64 tags of at most 256 characters each per object
        if (!t.isBlank() && t.length() <= 256 && tags.size() < 64) {
          tags.add(t.strip());
        }
      }
    }
    return Set.copyOf(tags);
  }
}
