package io.scalestack.cache.internal;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A value as stored in Redis: {@code <expiry millis>:<load millis>:<payload bytes>}. The header is
 * ASCII digits so that the Lua lease script can read the expiry with {@code string.match}; the
 * load time (XFetch's delta) travels with the value so that every server refreshes early with the
 * same knowledge. Immutable (the payload array is not copied: do not modify it).
 *
 * @param expiry when the value stops being fresh, in epoch milliseconds of the cache's clock
 * @param delta how long the load that made it took, in milliseconds
 * @param payload the value, encoded by the cache's codec
 */
public record Envelope(long expiry, long delta, byte[] payload) {

  /** The stored form. */
  public byte[] encode() {
    byte[] header = (expiry + ":" + delta + ":").getBytes(StandardCharsets.US_ASCII);
    byte[] bytes = Arrays.copyOf(header, header.length + payload.length);
    System.arraycopy(payload, 0, bytes, header.length, payload.length);
    return bytes;
  }

  /** The envelope of a stored value, or {@code null} for none or a value this format cannot read. */
  public static Envelope decode(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    int first = indexOf(bytes, 0);
    int second = first < 0 ? -1 : indexOf(bytes, first + 1);
    if (second < 0) {
      return null;
    }
    try {
      long expiry = Long.parseLong(new String(bytes, 0, first, StandardCharsets.US_ASCII));
      long delta = Long.parseLong(new String(bytes, first + 1, second - first - 1, StandardCharsets.US_ASCII));
      return new Envelope(expiry, delta, Arrays.copyOfRange(bytes, second + 1, bytes.length));
    } catch (NumberFormatException e) {
      // not written by this class (a foreign key under our prefix): a miss, reloaded and overwritten
      return null;
    }
  }

  /** Whether the value is still fresh at {@code now}. */
  public boolean freshAt(long now) {
    return expiry > now;
  }

  private static int indexOf(byte[] bytes, int from) {
    for (int i = from; i < bytes.length && i < from + 20; i++) {
      if (bytes[i] == ':') {
        return i;
      }
    }
    return -1;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof Envelope e && e.expiry == expiry && e.delta == delta && Arrays.equals(e.payload, payload);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(expiry) * 31 + Arrays.hashCode(payload);
  }

  @Override
  public String toString() {
    return "Envelope[expiry=" + expiry + ", delta=" + delta + ", " + payload.length + " bytes]";
  }
}
