package io.scalestack.balancer.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Weighted least connections: the candidate with the lowest {@code (inFlight + 1) / weight}
 * (HAProxy's {@code leastconn}, counted in requests because connections are pooled). The scan
 * starts at a rotating offset so that ties are spread in turn rather than always going to the
 * first backend. Lock-free.
 */
final class LeastConnectionsSelector implements BackendSelector {

  private final AtomicLong offset = new AtomicLong();

  @Override
  public Backend select(Candidates candidates, RequestContext request) {
    List<Backend> eligible = candidates.eligible();
    int n = eligible.size();
    int start = (int) Math.floorMod(offset.getAndIncrement(), (long) n);
    Backend best = null;
    long bestLoad = 0;
    long bestWeight = 1;
    for (int i = 0; i < n; i++) {
      Backend candidate = eligible.get((start + i) % n);
      long load = candidate.inFlight() + 1L;
      long weight = candidates.weight(candidate);
      // load / weight < bestLoad / bestWeight, without division
      if (best == null || load * bestWeight < bestLoad * weight) {
        best = candidate;
        bestLoad = load;
        bestWeight = weight;
      }
    }
    return best;
  }
}
