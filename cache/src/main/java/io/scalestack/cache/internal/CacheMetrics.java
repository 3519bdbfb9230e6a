package io.scalestack.cache.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The meters of one cache, tagged {@code cache=<name>} (Prometheus names: {@code
 * scalestack_cache_requests_total{tier=l1|l2,result=hit|miss}}, {@code
 * scalestack_cache_loads_total{result=success|failure}}, {@code scalestack_cache_load_seconds},
 * {@code scalestack_cache_evictions_total}, {@code scalestack_cache_invalidations_total}, {@code
 * scalestack_cache_stale_served_total}, {@code scalestack_cache_lease_waits_total}, {@code
 * scalestack_cache_refreshes_total}, {@code scalestack_cache_fills_rejected_total}, {@code
 * scalestack_cache_l1_entries}, {@code scalestack_cache_hot_keys}). Thread-safe.
 */
public final class CacheMetrics {

  /** An L1 hit. */
  public final Counter l1Hits;
  /** An L1 miss. */
  public final Counter l1Misses;
  /** A fresh value found in Redis. */
  public final Counter l2Hits;
  /** No fresh value in Redis. */
  public final Counter l2Misses;
  /** A load that returned. */
  public final Counter loadSuccesses;
  /** A load that threw. */
  public final Counter loadFailures;
  /** The time of each load. */
  public final Timer loadTime;
  /** An L1 entry evicted (size or expiry). */
  public final Counter evictions;
  /** A call of invalidate on this server. */
  public final Counter invalidations;
  /** A caller served the previous (expired) value while another server loads. */
  public final Counter staleServed;
  /** A caller that waited for another server's load. */
  public final Counter leaseWaits;
  /** A load made ahead of expiry (early refresh or a hot key). */
  public final Counter refreshes;
  /** A fill refused because an invalidation took the lease: the stale-set race, prevented. */
  public final Counter fillsRejected;

  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();

  /** Registers the meters. */
  public CacheMetrics(MeterRegistry registry, String cache, Supplier<Number> l1Entries, Supplier<Number> hotKeys) {
    this.registry = registry;
    l1Hits = counter("scalestack_cache_requests", cache, "tier", "l1", "result", "hit");
    l1Misses = counter("scalestack_cache_requests", cache, "tier", "l1", "result", "miss");
    l2Hits = counter("scalestack_cache_requests", cache, "tier", "l2", "result", "hit");
    l2Misses = counter("scalestack_cache_requests", cache, "tier", "l2", "result", "miss");
    loadSuccesses = counter("scalestack_cache_loads", cache, "result", "success");
    loadFailures = counter("scalestack_cache_loads", cache, "result", "failure");
    loadTime = add(Timer.builder("scalestack_cache_load").description("time of the cache's loads from the database")
        .tag("cache", cache).register(registry));
    evictions = counter("scalestack_cache_evictions", cache);
    invalidations = counter("scalestack_cache_invalidations", cache);
    staleServed = counter("scalestack_cache_stale_served", cache);
    leaseWaits = counter("scalestack_cache_lease_waits", cache);
    refreshes = counter("scalestack_cache_refreshes", cache);
    fillsRejected = counter("scalestack_cache_fills_rejected", cache);
    add(Gauge.builder("scalestack_cache_l1_entries", l1Entries).tag("cache", cache).register(registry));
    add(Gauge.builder("scalestack_cache_hot_keys", hotKeys).tag("cache", cache).register(registry));
  }

  private Counter counter(String name, String cache, String... tags) {
    return add(Counter.builder(name).tag("cache", cache).tags(tags).register(registry));
  }

  private <M extends Meter> M add(M meter) {
    meters.add(meter);
    return meter;
  }

  /** Removes the meters from the registry. */
  public void remove() {
    meters.forEach(registry::remove);
  }
}
