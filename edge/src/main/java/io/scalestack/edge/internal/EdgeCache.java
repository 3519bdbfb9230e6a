package io.scalestack.edge.internal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.netty.handler.codec.http.HttpHeaders;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The store: a memory tier (Caffeine, W-TinyLFU, bounded by a weigher on head and body bytes), an
 * optional {@link DiskTier} for what memory evicts, the indexes purges use (url → its variants,
 * tag → keys), and the in-flight origin requests that coalesce concurrent misses.
 *
 * <p>Purges walk the indexes, so a purge costs O(objects purged) and leaves nothing behind: there
 * is no ban list that later lookups would have to test (Varnish's bans grow with purge history).
 *
 * <p>Thread-safe: every structure is concurrent; called from all event loops.
 */
final class EdgeCache implements AutoCloseable {

  /** The variants stored for one request target, and the {@code Vary} of the latest of them. */
  static final class UrlNode {
    final Set<CacheKey> variants = ConcurrentHashMap.newKeySet();
    volatile List<String> vary = List.of();
    final CacheKey plain;

    UrlNode(String url) {
      this.plain = new CacheKey(url, "");
    }
  }

  /** One origin request that concurrent requests for its key wait on. */
  static final class Flight {
    final CompletableFuture<Outcome> done = new CompletableFuture<>();
    /** A purge came while the origin was answering: what it answers may predate the purge, so it is not stored. */
    volatile boolean purged;
  }

  /** A flight's result for the waiters: a usable entry (or null: go to the origin yourself). */
  record Outcome(Entry entry, Result result) {}

  private final Cache<CacheKey, Entry> memory;
  private final ConcurrentHashMap<String, UrlNode> urls = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Set<CacheKey>> tags = new ConcurrentHashMap<>();
  final ConcurrentHashMap<CacheKey, Flight> flights = new ConcurrentHashMap<>();
  private final DiskTier disk;
  private final EdgeMetrics metrics;

  EdgeCache(long maxMemoryBytes, Path diskDirectory, long maxDiskBytes, EdgeMetrics metrics) throws IOException {
    this.metrics = metrics;
    this.disk = diskDirectory == null ? null
        : new DiskTier(diskDirectory, maxDiskBytes, (key, record) -> unindex(key, record.tags()));
    // Maintenance and the removal listener run on the calling thread: eviction work is small and
    // bounded per call, and it keeps the memory bound exact without a background pool.
    this.memory = Caffeine.newBuilder()
        .maximumWeight(maxMemoryBytes)
        .weigher((CacheKey k, Entry e) -> e.weight)
        .executor(Runnable::run)
        .removalListener(this::removed)
        .build();
  }

  long objects() {
    return memory.estimatedSize();
  }

  long memoryBytes() {
    return memory.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
  }

  boolean hasDisk() {
    return disk != null;
  }

  /** The key a request for {@code url} looks up: its secondary part from the stored {@code Vary}. */
  CacheKey keyFor(String url, HttpHeaders request) {
    UrlNode node = urls.get(url);
    if (node == null) {
      return new CacheKey(url, "");
    }
    List<String> vary = node.vary;
    return vary.isEmpty() ? node.plain : new CacheKey(url, Headers.secondaryKey(vary, request));
  }

  Entry get(CacheKey key) {
    return memory.getIfPresent(key);
  }

  boolean onDisk(CacheKey key) {
    return disk != null && disk.contains(key);
  }

  /** An entry read back from disk, and a body reference its reader owns. */
  record Promoted(Entry entry, io.netty.buffer.ByteBuf body) {}

  /**
   * Reads {@code key} back from disk into memory; completes with the entry and a body reference
   * for the caller (the memory tier's admission policy may turn the entry away at once), or null.
   */
  CompletableFuture<Promoted> promote(CacheKey key) {
    return disk.take(key).thenApply(entry -> {
      if (entry == null) {
        return null;
      }
      io.netty.buffer.ByteBuf mine = entry.body.retainedDuplicate();
      memory.put(key, entry);
      return new Promoted(entry, mine);
    });
  }

  /** Stores {@code entry}, replacing the variant with its key. Indexed first, so a purge finds it. */
  void put(Entry entry) {
    CacheKey key = entry.key;
    urls.compute(key.url(), (u, node) -> {
      UrlNode n = node != null ? node : new UrlNode(u);
      n.vary = entry.vary;
      n.variants.add(key);
      return n;
    });
    for (String tag : entry.tags) {
      tags.computeIfAbsent(tag, t -> ConcurrentHashMap.newKeySet()).add(key);
    }
    if (disk != null) {
      disk.remove(key);
    }
    memory.put(key, entry);
  }

  /** Removes one stored response (no longer storable, or invalid). */
  void remove(CacheKey key) {
    memory.invalidate(key);
    if (disk != null) {
      disk.remove(key);
    }
  }

  /** Removes every variant of {@code url} (RFC 9111 §4.4 invalidation, or a purge); returns how many. */
  int purgeUrl(String url) {
    for (Map.Entry<CacheKey, Flight> f : flights.entrySet()) { // the flights now in progress: a few
      if (f.getKey().url().equals(url)) {
        f.getValue().purged = true;
      }
    }
    UrlNode node = urls.remove(url);
    if (node == null) {
      return 0;
    }
    int n = 0;
    for (CacheKey key : node.variants) {
      n += purgeKey(key) ? 1 : 0;
    }
    return n;
  }

  /** Removes every object whose {@code Surrogate-Key} named {@code tag}; returns how many. */
  int purgeTag(String tag) {
    // an answer in flight may carry this tag (unknown until it arrives): none of them is stored
    for (Flight f : flights.values()) {
      f.purged = true;
    }
    Set<CacheKey> keys = tags.remove(tag);
    if (keys == null) {
      return 0;
    }
    int n = 0;
    for (CacheKey key : keys) {
      n += purgeKey(key) ? 1 : 0;
    }
    return n;
  }

  private boolean purgeKey(CacheKey key) {
    boolean inMemory = memory.asMap().remove(key) != null;
    boolean onDisk = disk != null && disk.remove(key);
    return inMemory || onDisk;
  }

  private void removed(CacheKey key, Entry entry, RemovalCause cause) {
    if (entry == null) {
      return;
    }
    if (cause == RemovalCause.REPLACED) {
      entry.body.release();
      return;
    }
    if (cause.wasEvicted()) {
      metrics.eviction();
      if (disk != null && cause == RemovalCause.SIZE) {
        disk.store(entry); // takes over the body's reference; keeps the indexes
        return;
      }
    }
    entry.body.release();
    unindex(key, entry.tags);
  }

  private void unindex(CacheKey key, Set<String> entryTags) {
    if (memory.asMap().containsKey(key) || (disk != null && disk.contains(key))) {
      return; // stored again meanwhile
    }
    urls.computeIfPresent(key.url(), (u, node) -> {
      node.variants.remove(key);
      return node.variants.isEmpty() ? null : node;
    });
    for (String tag : entryTags) {
      tags.computeIfPresent(tag, (t, keys) -> {
        keys.remove(key);
        return keys.isEmpty() ? null : keys;
      });
    }
  }

  @Override
  public void close() {
    memory.invalidateAll();
    memory.cleanUp();
    if (disk != null) {
      disk.close();
    }
  }
}
