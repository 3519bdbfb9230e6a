package io.scalestack.blob;

import java.util.Optional;

/**
 * Immutable objects (photos) by key, shared by every web server and worker: no member keeps them on its own disk.
 * Implementations are thread-safe.
 *
 * <p>Keys are 1..512 characters of {@code [A-Za-z0-9._/-]}, with no leading {@code /}, no empty segment
 * ({@code //}) and no {@code .} or {@code ..} segment; every method throws {@link IllegalArgumentException} for any
 * other key. I/O and remote failures throw {@link BlobStoreException}.
 */
public interface BlobStore extends AutoCloseable {

  /**
   * Stores bytes under key, replacing any earlier object; atomic: a reader sees the whole old or the whole new object,
   * never a part.
   */
  void put(String key, byte[] bytes);

  /** The object, or empty if there is none. */
  Optional<byte[]> get(String key);

  /** Whether an object is stored under key. */
  boolean exists(String key);

  /** Removes the object; nothing happens if there is none. */
  void delete(String key);

  /** Releases the store's resources; the stored objects stay. */
  @Override
  void close();
}
