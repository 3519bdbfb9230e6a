package io.scalestack.balancer.internal;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** A candidate at random, in proportion to its effective weight. Lock-free. */
final class RandomSelector implements BackendSelector {

  @Override
  public Backend select(Candidates candidates, RequestContext request) {
    List<Backend> eligible = candidates.eligible();
    int n = eligible.size();
    long total = 0;
    for (int i = 0; i < n; i++) {
      total += candidates.weight(eligible.get(i));
    }
    long r = ThreadLocalRandom.current().nextLong(total);
    for (int i = 0; i < n; i++) {
      Backend backend = eligible.get(i);
      r -= candidates.weight(backend);
      if (r < 0) {
        return backend;
      }
    }
    // weights changed between the two passes (slow start moved on): any candidate will do
    return eligible.get(n - 1);
  }
}
