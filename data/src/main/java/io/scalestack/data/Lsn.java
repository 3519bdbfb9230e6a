package io.scalestack.data;

import java.util.Objects;

/**
 * A PostgreSQL write-ahead-log position ({@code pg_lsn}): a 64-bit byte offset into the WAL,
 * written as two hexadecimal halves, {@code 16/B374D848}. Positions of one cluster (one timeline
 * history) compare by byte offset.
 *
 * <p>Immutable and thread-safe.
 */
public final class Lsn implements Comparable<Lsn> {

  /** The position before any WAL, {@code 0/0}. */
  public static final Lsn ZERO = new Lsn(0);

  private final long value;

  private Lsn(long value) {
    this.value = value;
  }

  /**
   * The position at byte offset {@code value}, read as unsigned.
   */
  public static Lsn of(long value) {
    return value == 0 ? ZERO : new Lsn(value);
  }

  /**
   * Parses the text form {@code X/Y} (each half 1 to 8 hex digits), as PostgreSQL prints it.
   *
   * @throws IllegalArgumentException if {@code text} is not in that form
   */
  public static Lsn parse(String text) {
    Objects.requireNonNull(text, "lsn");
    int slash = text.indexOf('/');
    if (slash < 1 || slash > 8 || text.length() - slash - 1 < 1 || text.length() - slash - 1 > 8) {
      throw new IllegalArgumentException("lsn: '" + text + "' (expected: X/Y, two groups of 1 to 8 hex digits)");
    }
    try {
      long high = Long.parseLong(text, 0, slash, 16);
      long low = Long.parseLong(text, slash + 1, text.length(), 16);
      return of(high << 32 | low);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("lsn: '" + text + "' (expected: X/Y, two groups of 1 to 8 hex digits)", e);
    }
  }

  /** The byte offset (unsigned). */
  public long asLong() {
    return value;
  }

  /** Whether this position is at or after {@code other}. */
  public boolean isAtLeast(Lsn other) {
    return compareTo(other) >= 0;
  }

  @Override
  public int compareTo(Lsn other) {
    return Long.compareUnsigned(value, other.value);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Lsn lsn && lsn.value == value;
  }

  @Override
  public int hashCode() {
    return Long.hashCode(value);
  }

  /** The PostgreSQL text form, for example {@code 0/3000148}. */
  @Override
  public String toString() {
    return Long.toHexString(value >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
        + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
  }
}
