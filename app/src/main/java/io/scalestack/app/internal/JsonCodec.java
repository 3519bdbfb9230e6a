package io.scalestack.app.internal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectReader;
import io.scalestack.cache.CacheCodec;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A cached record as JSON, through the service's one mapper: readable with {@code redis-cli GET},
 * and tolerant of a field added by a newer server (unknown fields are an error only for requests).
 * Thread-safe.
 */
final class JsonCodec<V> implements CacheCodec<V> {

  private final Class<V> type;
  private final ObjectReader reader;

  JsonCodec(Class<V> type) {
    this.type = type;
    this.reader = Json.MAPPER.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
  }

  @Override
  public byte[] encode(V value) {
    return Json.bytes(value);
  }

  @Override
  public V decode(byte[] bytes) {
    try {
      return reader.readValue(bytes);
    } catch (IOException e) {
      // written by encode: unreadable only if another version of the server changed the shape
      throw new UncheckedIOException("cached " + type.getSimpleName() + ": unreadable JSON", e);
    }
  }
}
