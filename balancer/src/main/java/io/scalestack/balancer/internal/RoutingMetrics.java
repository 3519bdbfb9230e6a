package io.scalestack.balancer.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The meters of pools, in Prometheus names:
 *
 * <ul>
 *   <li>{@code scalestack_lb_pool_requests_total{pool,class}} — responses from the pool's
 *       backends by status class ({@code 1xx} … {@code 5xx});
 *   <li>{@code scalestack_lb_repins_total{pool}} — requests whose pinned backend (sticky cookie,
 *       source IP, hash key) was down, draining or ejected, sent to another one;
 *   <li>{@code scalestack_lb_outlier_ejections_total{pool,backend}} — backends ejected by passive
 *       health checking;
 *   <li>{@code scalestack_lb_pool_panic{pool}} — 1 while too few backends are healthy and all
 *       are used.
 * </ul>
 *
 * <p>Thread-safe.
 */
final class RoutingMetrics {

  private final MeterRegistry registry;

  RoutingMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  PoolMeters pool(String pool) {
    return new PoolMeters(pool);
  }

  /** The meters of one pool; counters registered once, so counting costs no lookup. Thread-safe. */
  final class PoolMeters {
    private final String pool;
    private final Counter[] classes = new Counter[5];
    private final Counter repins;
    private final AtomicBoolean panic = new AtomicBoolean();
    private final List<Meter.Id> ids = new ArrayList<>();

    private PoolMeters(String pool) {
      this.pool = pool;
      for (int i = 0; i < 5; i++) {
        classes[i] = Counter.builder("scalestack.lb.pool.requests")
            .description("Responses from the pool's backends, by status class")
            .tags("pool", pool, "class", (i + 1) + "xx")
            .register(registry);
        ids.add(classes[i].getId());
      }
      repins = Counter.builder("scalestack.lb.repins")
          .description("Requests whose pinned backend was unavailable, sent to another backend")
          .tags("pool", pool)
          .register(registry);
      ids.add(repins.getId());
      ids.add(Gauge.builder("scalestack.lb.pool.panic", panic, p -> p.get() ? 1 : 0)
          .description("1 while the pool has too few healthy backends and uses all of them")
          .tags("pool", pool)
          .strongReference(true)
          .register(registry)
          .getId());
    }

    void response(int status) {
      int c = status / 100;
      if (c >= 1 && c <= 5) {
        classes[c - 1].increment();
      }
    }

    void repin() {
      repins.increment();
    }

    double repins() {
      return repins.count();
    }

    void panic(boolean on) {
      if (panic.get() != on) {
        panic.set(on);
      }
    }

    boolean panic() {
      return panic.get();
    }

    void ejection(String backend) {
      Counter.builder("scalestack.lb.outlier.ejections")
          .description("Backends ejected by passive health checking")
          .tags("pool", pool, "backend", backend)
          .register(registry)
          .increment();
    }

    void close() {
      ids.forEach(registry::remove);
    }
  }
}
