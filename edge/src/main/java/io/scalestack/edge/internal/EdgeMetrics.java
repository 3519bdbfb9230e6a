package io.scalestack.edge.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.function.Supplier;

/**
 * The edge's meters, in Prometheus base units: requests by result (the hit ratio is
 * {@code hit / sum}), origin requests, bytes served, stale responses served, stored objects,
 * memory bytes and evictions.
 *
 * <p>Thread-safe (Micrometer meters are).
 */
final class EdgeMetrics {

  private final EnumMap<Result, Counter> requests = new EnumMap<>(Result.class);
  private final Counter originRequests;
  private final Counter bytesServed;
  private final Counter staleServed;
  private final Counter evictions;

  EdgeMetrics(MeterRegistry registry) {
    for (Result r : Result.values()) {
      requests.put(r, Counter.builder("scalestack.edge.requests").tag("result", r.tag)
          .description("Client requests by how they were answered").register(registry));
    }
    originRequests = Counter.builder("scalestack.edge.origin.requests").description("Requests sent to the origin").register(registry);
    bytesServed = Counter.builder("scalestack.edge.bytes.served").description("Response body bytes sent to clients").register(registry);
    staleServed = Counter.builder("scalestack.edge.stale.served").description("Stale responses served (stale-while-revalidate, stale-if-error)").register(registry);
    evictions = Counter.builder("scalestack.edge.evictions").description("Objects evicted from memory by the size bound").register(registry);
  }

  /** Hits (fresh, coalesced, and stale or revalidated answers from the cache) over all requests since start. */
  double hitRatio() {
    double all = 0;
    for (Counter c : requests.values()) {
      all += c.count();
    }
    double served = requests.get(Result.HIT).count() + requests.get(Result.STALE).count()
        + requests.get(Result.REVALIDATED).count();
    return all == 0 ? 0 : served / all;
  }

  void bindCache(MeterRegistry registry, Supplier<Number> objects, Supplier<Number> memoryBytes) {
    Gauge.builder("scalestack.edge.hit.ratio", this, EdgeMetrics::hitRatio)
        .description("Requests answered from the cache (hit, stale, revalidated) over all, since start").register(registry);
    Gauge.builder("scalestack.edge.objects", objects).description("Objects in the memory tier").strongReference(true).register(registry);
    Gauge.builder("scalestack.edge.memory.bytes", memoryBytes).description("Weighted bytes in the memory tier").strongReference(true).register(registry);
  }

  void served(Result result, long bodyBytes) {
    requests.get(result).increment();
    if (bodyBytes > 0) {
      bytesServed.increment(bodyBytes);
    }
    if (result == Result.STALE) {
      staleServed.increment();
    }
  }

  void originRequest() {
    originRequests.increment();
  }

  void eviction() {
    evictions.increment();
  }

  double originRequests() {
    return originRequests.count();
  }
}
