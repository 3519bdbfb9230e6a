package io.scalestack.balancer.internal;

import io.scalestack.balancer.Algorithm;
import java.util.List;

/** Picks one backend among candidates. Implementations are thread-safe and lock-free. */
interface BackendSelector {

  /**
   * One of {@code candidates}, which is non-empty and holds only selectable backends, for {@code
   * request}. Called on the request's event loop: must not block.
   */
  Backend select(List<Backend> candidates, RequestContext request);

  static BackendSelector of(Algorithm algorithm) {
    return switch (algorithm) {
      case ROUND_ROBIN -> new RoundRobinSelector();
      case LEAST_CONNECTIONS -> new LeastConnectionsSelector();
    };
  }
}
