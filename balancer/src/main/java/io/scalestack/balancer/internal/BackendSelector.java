package io.scalestack.balancer.internal;

import io.scalestack.balancer.Algorithm;
import java.util.List;

/** Picks one backend among candidates. Implementations are thread-safe and lock-free. */
interface BackendSelector {

  /** One of {@code candidates}, which is non-empty and holds only selectable backends. */
  Backend select(List<Backend> candidates);

  static BackendSelector of(Algorithm algorithm) {
    return switch (algorithm) {
      case ROUND_ROBIN -> new RoundRobinSelector();
      case LEAST_CONNECTIONS -> new LeastConnectionsSelector();
    };
  }
}
