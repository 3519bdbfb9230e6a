package io.scalestack.balancer.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Least bandwidth: the candidate with the fewest request and response bytes in flight per unit of
 * weight; among equals (most often: none moving bytes), the fewest requests in flight per unit of
 * weight; remaining ties in turn. A backend busy receiving a large upload gets no new requests
 * while an idle one exists, even when it has fewer requests in flight. Lock-free.
 */
final class BandwidthSelector implements BackendSelector {

  private final AtomicLong offset = new AtomicLong();

  @Override
  public Backend select(Candidates candidates, RequestContext request) {
    List<Backend> eligible = candidates.eligible();
    int n = eligible.size();
    int start = (int) Math.floorMod(offset.getAndIncrement(), (long) n);
    Backend best = null;
    double bestBytes = 0;
    double bestRequests = 0;
    for (int i = 0; i < n; i++) {
      Backend candidate = eligible.get((start + i) % n);
      double weight = candidates.weight(candidate);
      double bytes = Math.max(0, candidate.bytesInFlight()) / weight;
      double requests = (candidate.inFlight() + 1) / weight;
      if (best == null || bytes < bestBytes || (bytes == bestBytes && requests < bestRequests)) {
        best = candidate;
        bestBytes = bytes;
        bestRequests = requests;
      }
    }
    return best;
  }
}
