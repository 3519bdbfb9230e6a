package io.scalestack.balancer.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The meters of TCP mode, per backend, in Prometheus names:
 *
 * <ul>
 *   <li>{@code scalestack_lb_tcp_connections_total{backend}} — client connections relayed to the
 *       backend (counted once its connection is established);
 *   <li>{@code scalestack_lb_tcp_connections_active{backend}} — those open now;
 *   <li>{@code scalestack_lb_tcp_received_bytes_total{backend}} — bytes from clients to the backend;
 *   <li>{@code scalestack_lb_tcp_sent_bytes_total{backend}} — bytes from the backend to clients;
 *   <li>{@code scalestack_lb_tcp_connect_failures_total{backend}} — connects to the backend that
 *       failed or timed out (the client then tries another backend).
 * </ul>
 *
 * <p>Meters are created on a backend's first connection and stay (a removed backend's active
 * gauge reads 0 once its last connection ends). Thread-safe.
 */
final class TcpMetrics {

  private final MeterRegistry registry;
  private final Map<String, Meters> byBackend = new ConcurrentHashMap<>();

  TcpMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** The meters of backend {@code name}. */
  Meters of(String name) {
    Meters meters = byBackend.get(name);
    return meters != null ? meters : byBackend.computeIfAbsent(name, Meters::new);
  }

  /** One backend's meters; thread-safe. */
  final class Meters {
    final Counter connections;
    final AtomicInteger active = new AtomicInteger();
    final Counter received;
    final Counter sent;
    final Counter connectFailures;

    private Meters(String backend) {
      connections = Counter.builder("scalestack.lb.tcp.connections")
          .description("TCP client connections relayed to the backend")
          .tags("backend", backend)
          .register(registry);
      Gauge.builder("scalestack.lb.tcp.connections.active", active, AtomicInteger::get)
          .description("TCP client connections relayed to the backend and open now")
          .tags("backend", backend)
          .strongReference(true)
          .register(registry);
      received = Counter.builder("scalestack.lb.tcp.received.bytes")
          .description("Bytes relayed from TCP clients to the backend")
          .tags("backend", backend)
          .register(registry);
      sent = Counter.builder("scalestack.lb.tcp.sent.bytes")
          .description("Bytes relayed from the backend to TCP clients")
          .tags("backend", backend)
          .register(registry);
      connectFailures = Counter.builder("scalestack.lb.tcp.connect.failures")
          .description("Connects to the backend that failed or timed out")
          .tags("backend", backend)
          .register(registry);
    }
  }
}
