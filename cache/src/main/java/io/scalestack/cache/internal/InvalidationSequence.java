package io.scalestack.cache.internal;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counts invalidations per stripe of keys, so that a reader can tell whether its key was
 * invalidated while it was loading: it takes {@link #current} before it reads L2 or the database
 * and puts into L1 only if the count is unchanged after (checked again after the put, so that
 * either the reader sees the invalidation or the invalidation sees the reader's entry). Keys that
 * share a stripe only cost each other an L1 put. Thread-safe, lock-free.
 */
public final class InvalidationSequence {

  private static final int STRIPES = 4096;

  private final AtomicLongArray stripes = new AtomicLongArray(STRIPES);

  /** The count of {@code key}'s stripe. */
  public long current(String key) {
    return stripes.get(index(key));
  }

  /** Counts an invalidation of {@code key}: call it before dropping the key from L1. */
  public void bump(String key) {
    stripes.incrementAndGet(index(key));
  }

  /** Counts an invalidation of every key: call it before clearing L1. */
  public void bumpAll() {
    for (int i = 0; i < STRIPES; i++) {
      stripes.incrementAndGet(i);
    }
  }

  private static int index(String key) {
    int h = key.hashCode() * 0x9E3779B9;
    return (h ^ (h >>> 16)) & (STRIPES - 1);
  }
}
