package io.scalestack.edge.internal;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * HTTP dates (RFC 9110 §5.6.7): IMF-fixdate is generated; IMF-fixdate, the obsolete RFC 850 form
 * and asctime are accepted. Times are epoch milliseconds; -1 means absent or unparseable.
 *
 * <p>Stateless; thread-safe.
 */
final class HttpDates {

  private static final DateTimeFormatter IMF = DateTimeFormatter.RFC_1123_DATE_TIME.withZone(ZoneOffset.UTC);
  // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead means the last century
  private static final DateTimeFormatter RFC850 = new java.time.format.DateTimeFormatterBuilder()
      .appendPattern("EEEE, dd-MMM-")
      .appendValueReduced(java.time.temporal.ChronoField.YEAR, 2, 2, java.time.LocalDate.now(ZoneOffset.UTC).minusYears(49))
      .appendPattern(" HH:mm:ss 'GMT'")
      .toFormatter(Locale.US).withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US).withZone(ZoneOffset.UTC);

  private HttpDates() {}

  static long parse(String value) {
    if (value == null) {
      return -1;
    }
    String v = value.strip();
    for (DateTimeFormatter f : new DateTimeFormatter[] {IMF, RFC850, ASCTIME}) {
      try {
        return ZonedDateTime.parse(v, f).toInstant().toEpochMilli();
      } catch (DateTimeParseException e) {
        continue; // try the next of the three forms RFC 9110 §5.6.7 requires recipients to accept
      }
    }
    return -1;
  }

  static String format(long epochMillis) {
    return IMF.format(Instant.ofEpochMilli(epochMillis));
  }
}
