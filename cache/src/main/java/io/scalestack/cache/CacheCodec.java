package io.scalestack.cache;

import java.nio.charset.StandardCharsets;

/**
 * Turns cached values into the bytes stored in Redis and back. Values kept in the in-memory L1
 * are shared by every reader of the server, so they should be immutable.
 *
 * <p>Implementations must be thread-safe.
 *
 * @param <V> the type of the cached values
 */
public interface CacheCodec<V> {

  /** The bytes of {@code value} (never {@code null}). */
  byte[] encode(V value);

  /** The value {@link #encode} made {@code bytes} from. */
  V decode(byte[] bytes);

  /** Strings as UTF-8. */
  static CacheCodec<String> utf8() {
    return new CacheCodec<>() {
      @Override
      public byte[] encode(String value) {
        return value.getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
      }
    };
  }
}
