package io.scalestack.cache;

/**
 * Loads the value of a key from the source of truth (the database) on a cache miss. It runs on the
 * thread of the {@link TieredCache#get} caller that won the load (others wait for it), or on the
 * cache's executor for an early refresh; it may block. It must read data at least as new as the
 * last committed write (the primary, or a replica known to be caught up): a lagging read filled
 * into the cache after an invalidation would be served until the TTL.
 *
 * <p>Implementations must be thread-safe when one loader is shared by several keys.
 *
 * @param <V> the type of the cached values
 */
@FunctionalInterface
public interface Loader<V> {

  /**
   * The current value of {@code key}, or {@code null} if it has none (absence is not cached; cache
   * an {@code Optional} or a marker value to cache it).
   */
  V load(String key) throws Exception;
}
