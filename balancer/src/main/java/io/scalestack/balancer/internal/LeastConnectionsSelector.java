package io.scalestack.balancer.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The candidate with the fewest requests in flight; the scan starts at a rotating offset so that
 * ties are spread in turn rather than always going to the first backend. Thread-safe.
 */
final class LeastConnectionsSelector implements BackendSelector {

  private final AtomicLong offset = new AtomicLong();

  @Override
  public Backend select(List<Backend> candidates, RequestContext request) {
    int n = candidates.size();
    int start = (int) Math.floorMod(offset.getAndIncrement(), (long) n);
    Backend best = null;
    int bestInFlight = Integer.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      Backend candidate = candidates.get((start + i) % n);
      int inFlight = candidate.inFlight();
      if (inFlight < bestInFlight) {
        best = candidate;
        bestInFlight = inFlight;
      }
    }
    return best;
  }
}
