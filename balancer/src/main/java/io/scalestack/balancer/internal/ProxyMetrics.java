package io.scalestack.balancer.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.scalestack.balancer.BackendState;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * The balancer's meters, in Prometheus names:
 *
 * <ul>
 *   <li>{@code scalestack_lb_requests_total{backend,status}} — answered requests ({@code
 *       backend="none"} when none was reached);
 *   <li>{@code scalestack_lb_request_duration_seconds{backend}} — time from the request head to
 *       the end of its response, with histogram buckets;
 *   <li>{@code scalestack_lb_retries_total{reason}} — retries: {@code connect-failure}, {@code
 *       no-connection}, {@code send-failure} (never reached the backend), {@code empty-response}
 *       (an idempotent request retried after its connection died without an answer);
 *   <li>{@code scalestack_lb_retry_budget_exhausted_total} — retries refused by the retry budget;
 *   <li>{@code scalestack_lb_client_connections_total{protocol,tls}} — client connections by the
 *       protocol they turned out to speak: {@code http/1.1}, {@code h2c} (HTTP/2 with prior
 *       knowledge) or {@code h2} (HTTP/2 chosen by ALPN);
 *   <li>{@code scalestack_lb_ejections_total{backend}} — backends taken down after a connect
 *       failure;
 *   <li>{@code scalestack_lb_health_checks_total{backend,result}};
 *   <li>{@code scalestack_lb_backend_state{backend,state}} — 1 for the backend's current state, 0
 *       for the others; {@code scalestack_lb_backend_in_flight{backend}}; {@code
 *       scalestack_lb_backend_connections{backend}}.
 * </ul>
 *
 * <p>Thread-safe.
 */
final class ProxyMetrics {

  private final MeterRegistry registry;
  private final Map<Backend, List<Meter.Id>> gauges = new ConcurrentHashMap<>();
  private final Map<String, RequestMeters> requestMeters = new ConcurrentHashMap<>();

  ProxyMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  void request(String backend, int status, long nanos) {
    RequestMeters meters = requestMeters.get(backend);
    if (meters == null) {
      meters = requestMeters.computeIfAbsent(backend, this::requestMeters);
    }
    meters.counter(status).increment();
    meters.duration.record(nanos, TimeUnit.NANOSECONDS);
  }

  // looked up once per backend name and status, not per request: this is the hot path
  private final class RequestMeters {
    final String backend;
    final Timer duration;
    final AtomicReferenceArray<Counter> byStatus = new AtomicReferenceArray<>(600);

    RequestMeters(String backend, Timer duration) {
      this.backend = backend;
      this.duration = duration;
    }

    Counter counter(int status) {
      int index = status >= 0 && status < 600 ? status : 0;
      Counter counter = byStatus.get(index);
      if (counter == null) {
        counter = Counter.builder("scalestack.lb.requests")
            .description("Requests answered by the load balancer")
            .tags("backend", backend, "status", Integer.toString(status))
            .register(registry);
        byStatus.set(index, counter);
      }
      return counter;
    }
  }

  private RequestMeters requestMeters(String backend) {
    return new RequestMeters(backend, Timer.builder("scalestack.lb.request.duration")
        .description("Time from a request to the end of its response")
        .tags("backend", backend)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(60))
        .register(registry));
  }

  void clientConnection(String protocol, boolean tls) {
    Counter.builder("scalestack.lb.client.connections")
        .description("Client connections, by protocol")
        .tags("protocol", protocol, "tls", Boolean.toString(tls))
        .register(registry)
        .increment();
  }

  void retry(String reason) {
    Counter.builder("scalestack.lb.retries")
        .description("Requests retried, by reason")
        .tags("reason", reason)
        .register(registry)
        .increment();
  }

  void retryBudgetExhausted() {
    Counter.builder("scalestack.lb.retry.budget.exhausted")
        .description("Retries refused because the retry budget was spent")
        .register(registry)
        .increment();
  }

  void ejection(String backend) {
    Counter.builder("scalestack.lb.ejections")
        .description("Backends taken down at once after a connect failure")
        .tags("backend", backend)
        .register(registry)
        .increment();
  }

  void healthCheck(String backend, boolean ok) {
    Counter.builder("scalestack.lb.health.checks")
        .description("Active health checks, by result")
        .tags("backend", backend, "result", ok ? "success" : "failure")
        .register(registry)
        .increment();
  }

  /** Registers the gauges of {@code backend}; call {@link #unregister} before re-adding its name. */
  void register(Backend backend) {
    List<Meter.Id> ids = new ArrayList<>();
    for (BackendState state : BackendState.values()) {
      ids.add(Gauge.builder("scalestack.lb.backend.state", backend, b -> b.state() == state ? 1 : 0)
          .description("1 for the backend's current state, 0 otherwise")
          .tags("backend", backend.name(), "state", state.name())
          .strongReference(true)
          .register(registry)
          .getId());
    }
    ids.add(Gauge.builder("scalestack.lb.backend.in.flight", backend, Backend::inFlight)
        .description("Requests in flight to the backend")
        .tags("backend", backend.name())
        .strongReference(true)
        .register(registry)
        .getId());
    ids.add(Gauge.builder("scalestack.lb.backend.connections", backend, b -> b.pool().activeConnections())
        .description("Open or opening connections to the backend")
        .tags("backend", backend.name())
        .strongReference(true)
        .register(registry)
        .getId());
    gauges.put(backend, ids);
  }

  void unregister(Backend backend) {
    List<Meter.Id> ids = gauges.remove(backend);
    if (ids != null) {
      ids.forEach(registry::remove);
    }
  }
}
