package io.scalestack.balancer.internal;

import io.scalestack.balancer.Algorithm;
import io.scalestack.balancer.Pool;

/**
 * Picks one backend of a pool for a request: one implementation per {@link Algorithm}.
 * Implementations are thread-safe, never block, and run on event loops; they are lock-free
 * except smooth round robin, which holds its lock for one pass over the candidates.
 */
interface BackendSelector {

  /**
   * One of {@code candidates.eligible()}, which is non-empty, for {@code request}.
   */
  Backend select(Candidates candidates, RequestContext request);

  /** The selector for {@code pool}'s algorithm; {@code repins} counts keys whose backend moved. */
  static BackendSelector of(Pool pool, Runnable repins) {
    return switch (pool.algorithm()) {
      case ROUND_ROBIN -> new RoundRobinSelector();
      case LEAST_CONNECTIONS -> new LeastConnectionsSelector();
      case RESPONSE_TIME -> new ResponseTimeSelector();
      case RANDOM -> new RandomSelector();
      case SOURCE_HASH -> HashSelector.sourceIp(pool.hashLoadFactor(), repins);
      case HASH -> HashSelector.of(pool.hashKey(), pool.hashLoadFactor(), repins);
      case BANDWIDTH -> new BandwidthSelector();
    };
  }
}
