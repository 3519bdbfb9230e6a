package io.scalestack.balancer.internal;

import java.util.List;

/**
 * Smooth weighted round robin, nginx's algorithm: each pick adds every candidate's effective
 * weight to its running weight, takes the candidate with the largest running weight, and
 * subtracts the total from it. Over any {@code Σw} consecutive picks among a stable set, a
 * backend of weight {@code w} is picked exactly {@code w} times, spread out ({@code a a b a c a}
 * rather than {@code a a a a b c}).
 *
 * <p>Thread-safe: one pass over the candidates under this selector's lock (a few nanoseconds per
 * backend); the running weights live in {@link Backend#smoothCurrent}.
 */
final class RoundRobinSelector implements BackendSelector {

  @Override
  public synchronized Backend select(Candidates candidates, RequestContext request) {
    List<Backend> eligible = candidates.eligible();
    Backend best = null;
    long total = 0;
    for (int i = 0, n = eligible.size(); i < n; i++) {
      Backend backend = eligible.get(i);
      int weight = candidates.weight(backend);
      backend.smoothCurrent += weight;
      total += weight;
      if (best == null || backend.smoothCurrent > best.smoothCurrent) {
        best = backend;
      }
    }
    best.smoothCurrent -= total;
    return best;
  }
}
