package io.scalestack.edge.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.api.Test;

/** RFC 9111 parsing and arithmetic without sockets: directives, freshness, age, storability, validators. */
class CachePolicyTest {

  static HttpHeaders headers(String... pairs) {
    HttpHeaders h = new DefaultHttpHeaders();
    for (int i = 0; i + 1 < pairs.length; i += 2) {
      h.add(pairs[i], pairs[i + 1]);
    }
    return h;
  }

  @Test
  void directivesAreParsedCaseInsensitivelyAcrossLinesAndQuotes() {
    CacheControl cc = CacheControl.parse(headers("Cache-Control", "Public, MAX-AGE=\"60\"", "cache-control",
        "private=\"set-cookie, x-a\", stale-while-revalidate=30, stale-if-error=600"));
    assertThat(cc.isPublic()).isTrue();
    assertThat(cc.isPrivate()).isTrue(); // qualified private is treated as private (conservative for a shared cache)
    assertThat(cc.maxAge()).isEqualTo(60);
    assertThat(cc.staleWhileRevalidate()).isEqualTo(30);
    assertThat(cc.staleIfError()).isEqualTo(600);
  }

  @Test
  void invalidOrRepeatedFreshnessMeansStale() {
    assertThat(CacheControl.parse(headers("Cache-Control", "max-age=abc")).maxAge()).isZero();
    assertThat(CacheControl.parse(headers("Cache-Control", "max-age=60, max-age=120")).maxAge()).isZero();
    assertThat(CacheControl.parse(headers("Cache-Control", "max-age=99999999999")).maxAge()).isEqualTo(1L << 31);
  }

  @Test
  void sMaxAgeImpliesProxyRevalidate() {
    assertThat(CacheControl.parse(headers("Cache-Control", "s-maxage=10, stale-while-revalidate=60")).staleForbidden()).isTrue();
    assertThat(CacheControl.parse(headers("Cache-Control", "max-age=10, stale-while-revalidate=60")).staleForbidden()).isFalse();
  }

  @Test
  void ageIsComputedPerRfc9111Section423() {
    long date = 1_000_000_000L;
    HttpHeaders h = headers("Date", HttpDates.format(date), "Age", "7", "Cache-Control", "max-age=100");
    // request sent 2 s before the response arrived, response dated 3 s before it arrived
    Entry e = Entry.create(new CacheKey("/x", ""), 200, "OK", h, Unpooled.EMPTY_BUFFER, date + 1000, date + 3000);
    // corrected_initial_age = max(apparent 3 s, age 7 s + delay 2 s) = 9 s
    assertThat(e.currentAge(date + 3000)).isEqualTo(9000);
    assertThat(e.currentAge(date + 13000)).isEqualTo(19000);
    assertThat(e.isFresh(date + 3000 + 90_999)).isTrue();
    assertThat(e.isFresh(date + 3000 + 91_000)).isFalse();
  }

  @Test
  void storability() {
    assertThat(Storability.storable(200, headers("Cache-Control", "max-age=60"))).isTrue();
    assertThat(Storability.storable(200, headers("Cache-Control", "no-store, max-age=60"))).isFalse();
    assertThat(Storability.storable(200, headers("Cache-Control", "private, max-age=60"))).isFalse();
    assertThat(Storability.storable(200, headers())).isFalse(); // no heuristic freshness
    assertThat(Storability.storable(200, headers("Cache-Control", "no-cache", "ETag", "\"a\""))).isTrue();
    assertThat(Storability.storable(200, headers("Cache-Control", "no-cache"))).isFalse(); // nothing to revalidate with
    assertThat(Storability.storable(200, headers("Cache-Control", "max-age=60", "Vary", "*"))).isFalse();
    assertThat(Storability.storable(200, headers("Cache-Control", "max-age=60", "Set-Cookie", "a=b"))).isFalse();
    assertThat(Storability.storable(404, headers("Cache-Control", "max-age=60"))).isTrue();
    assertThat(Storability.storable(500, headers("Cache-Control", "max-age=60"))).isFalse();
    assertThat(Storability.storable(206, headers("Cache-Control", "max-age=60"))).isFalse();
  }

  @Test
  void weakComparisonForIfNoneMatch() {
    assertThat(Headers.noneMatchHits("W/\"a\"", "\"a\"")).isTrue();
    assertThat(Headers.noneMatchHits("\"b\", \"a\"", "W/\"a\"")).isTrue();
    assertThat(Headers.noneMatchHits("*", "\"a\"")).isTrue();
    assertThat(Headers.noneMatchHits("\"b\"", "\"a\"")).isFalse();
    assertThat(Headers.noneMatchHits("\"b\"", null)).isFalse();
  }

  @Test
  void secondaryKeyNormalizesWhitespaceAndKeepsFieldsApart() {
    var vary = Headers.vary(headers("Vary", "Accept-Encoding, Accept-Language"));
    assertThat(Headers.secondaryKey(vary, headers("Accept-Encoding", "gzip,  br", "Accept-Language", "en")))
        .isEqualTo(Headers.secondaryKey(vary, headers("accept-encoding", "gzip, br", "accept-language", "en")));
    assertThat(Headers.secondaryKey(vary, headers("Accept-Encoding", "gzip")))
        .isNotEqualTo(Headers.secondaryKey(vary, headers("Accept-Language", "gzip")));
  }

  @Test
  void httpDatesInAllThreeForms() {
    long t = HttpDates.parse("Sun, 06 Nov 1994 08:49:37 GMT");
    assertThat(t).isEqualTo(784111777000L);
    assertThat(HttpDates.parse("Sunday, 06-Nov-94 08:49:37 GMT")).isEqualTo(t);
    assertThat(HttpDates.parse("Sun Nov  6 08:49:37 1994")).isEqualTo(t);
    assertThat(HttpDates.parse("0")).isEqualTo(-1);
  }
}
