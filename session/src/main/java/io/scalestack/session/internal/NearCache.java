package io.scalestack.session.internal;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A web server's copies of the session hashes it read from or wrote to Redis, kept valid by Redis
 * itself: the connection they came over has {@code CLIENT TRACKING} on (Redis 6+, RESP3), so Redis
 * pushes an {@code invalidate} message on that connection for every key this server read once any
 * other client changes it, deletes it, or it expires or is evicted — and {@link #invalidate} drops
 * the copy.
 *
 * <p><b>Races.</b> A reply may reach {@link #install} after an invalidation that Redis sent later
 * than it executed the command: installing it would bring back a copy Redis has already declared
 * stale, and no second invalidation would come. So a caller takes a generation from {@link
 * #begin} <em>before</em> it sends the command, and {@link #install} refuses the reply if the
 * key was invalidated since (its generation moved). Two replies for one key from this server's own
 * concurrent requests may also be installed in either order; each carries the hash's {@code
 * version} field, which every write script increments, and the higher version wins.
 *
 * <p>Copies are served for at most {@code maxAgeNanos} after they were installed: a bound on
 * staleness should invalidations stop arriving while the connection still looks open (a network
 * partition that TCP has not noticed yet). The size is bounded: beyond {@code maxEntries} keys,
 * arbitrary entries are dropped (a dropped key costs one round trip on its next use, never a wrong
 * answer: see {@link #install} for a key that is no longer here).
 *
 * <p>Not API. Thread-safe: lock-free; {@link #invalidate} runs on the connection's event loop, the
 * other methods on request threads.
 */
public final class NearCache {

  private final int maxEntries;
  private final long maxAgeNanos;
  private final LongSupplier nanoTime;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  /** Moves on every invalidation of any key: the generation of keys that have no entry. */
  private final AtomicLong generations = new AtomicLong();

  /** One key's state: the generation it was last invalidated at, and its copy if it has one. */
  private record Entry(long generation, Map<String, String> hash, long version, long installedNanos) {}

  /**
   * @param maxEntries how many keys to keep, > 0
   * @param maxAgeNanos how long a copy is served after it was installed, > 0
   * @param nanoTime the monotonic clock for ages ({@code System::nanoTime} outside tests)
   */
  public NearCache(int maxEntries, long maxAgeNanos, LongSupplier nanoTime) {
    if (maxEntries <= 0) {
      throw new IllegalArgumentException("maxEntries: " + maxEntries + " (expected: > 0)");
    }
    if (maxAgeNanos <= 0) {
      throw new IllegalArgumentException("maxAgeNanos: " + maxAgeNanos + " (expected: > 0)");
    }
    this.maxEntries = maxEntries;
    this.maxAgeNanos = maxAgeNanos;
    this.nanoTime = nanoTime;
  }

  /** The copy of this key's hash, or null if there is none young enough. The map is unmodifiable. */
  public Map<String, String> get(String key) {
    Entry entry = entries.get(key);
    if (entry == null || entry.hash == null || nanoTime.getAsLong() - entry.installedNanos >= maxAgeNanos) {
      return null;
    }
    return entry.hash;
  }

  /**
   * Called before a command whose reply will be {@linkplain #install installed} is sent: the
   * generation to hand back to {@link #install}.
   */
  public long begin(String key) {
    long now = generations.get();
    Entry entry = entries.computeIfAbsent(key, k -> new Entry(now, null, 0, 0));
    evictIfFull();
    return entry.generation;
  }

  /**
   * Installs {@code hash} (as the reply to a command sent after {@link #begin} gave {@code
   * generation}) unless the key was invalidated since, or a copy with a higher version is already
   * here. A copy of the same version is replaced, which restarts its age.
   *
   * @param hash the whole hash, as field/value pairs; it must not change afterwards
   * @param version the hash's {@code version} field (0 if it has none)
   * @return whether the copy is now this one
   */
  public boolean install(String key, long generation, Map<String, String> hash, long version) {
    long now = nanoTime.getAsLong();
    Entry[] installed = new Entry[1];
    entries.compute(key, (k, entry) -> {
      if (entry == null) {
        // dropped since begin: installing is safe only if no key at all was invalidated since
        if (generations.get() != generation) {
          return null;
        }
      } else if (entry.generation != generation || (entry.hash != null && entry.version > version)) {
        return entry; // invalidated since, or we hold a newer copy (an equal one is refreshed: its age restarts)
      }
      installed[0] = new Entry(generation, Map.copyOf(hash), version, now);
      return installed[0];
    });
    if (installed[0] != null) {
      evictIfFull();
    }
    return installed[0] != null;
  }

  /** Drops the copy of this key, and makes any reply in flight for it unusable. */
  public void invalidate(String key) {
    long generation = generations.incrementAndGet();
    entries.computeIfPresent(key, (k, entry) -> new Entry(generation, null, 0, 0));
  }

  /**
   * Drops every copy, and makes every reply in flight unusable: when the connection that tracked
   * them is gone, or Redis says so (an {@code invalidate} with no keys: FLUSHALL, or the tracking
   * table overflowed).
   */
  public void clear() {
    generations.incrementAndGet();
    entries.clear();
  }

  /** How many keys have a copy; counts them, so call it rarely (a metrics scrape). */
  public int copies() {
    int copies = 0;
    for (Entry entry : entries.values()) {
      if (entry.hash != null) {
        copies++;
      }
    }
    return copies;
  }

  /** How many keys have an entry (with or without a copy). */
  public int size() {
    return entries.size();
  }

  private void evictIfFull() {
    if (entries.size() <= maxEntries) {
      return;
    }
    // Arbitrary victims, a tenth at a time so that eviction is not paid on every insert. A victim
    // with a reply in flight only loses that install (see install: no entry, generation check).
    int excess = entries.size() - maxEntries + Math.max(1, maxEntries / 10);
    Iterator<String> keys = entries.keySet().iterator();
    while (excess-- > 0 && keys.hasNext()) {
      keys.next();
      keys.remove();
    }
  }
}
