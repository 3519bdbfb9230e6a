package io.scalestack.balancer.internal;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Least response time with the power of two choices (Finagle's and Envoy's peak-EWMA balancer):
 * two distinct candidates at random, and the one with the lower cost {@code latency × (inFlight +
 * 1) / weight} wins, where latency is the backend's peak-EWMA response time ({@link
 * ResponseTime}). Comparing two instead of all keeps a herd from piling onto the single fastest
 * backend between two latency samples. A backend not sampled yet costs nothing while idle, so
 * it is tried at once, but a great deal once a request is on it and no answer has come back yet
 * (Finagle's penalty): a new slow backend must not collect a burst before its first sample.
 * Lock-free (the EWMA read takes its own tiny lock).
 */
final class ResponseTimeSelector implements BackendSelector {

  // a floor on latency so that in-flight counts still order backends with tiny latencies
  private static final double FLOOR_NANOS = 1_000;
  // the cost of an unsampled backend that already has requests in flight: above any real latency
  private static final double PENALTY_NANOS = 1e15;

  @Override
  public Backend select(Candidates candidates, RequestContext request) {
    List<Backend> eligible = candidates.eligible();
    int n = eligible.size();
    if (n == 1) {
      return eligible.getFirst();
    }
    ThreadLocalRandom random = ThreadLocalRandom.current();
    int i = random.nextInt(n);
    int j = random.nextInt(n - 1);
    if (j >= i) {
      j++;
    }
    Backend a = eligible.get(i);
    Backend b = eligible.get(j);
    return cost(a, candidates) <= cost(b, candidates) ? a : b;
  }

  private static double cost(Backend backend, Candidates candidates) {
    int inFlight = backend.inFlight();
    double average = backend.responseTime().averageNanos(candidates.nowNanos());
    if (average == 0 && !backend.responseTime().sampled()) {
      return inFlight == 0 ? 0 : PENALTY_NANOS + inFlight;
    }
    return (average + FLOOR_NANOS) * (inFlight + 1) / candidates.weight(backend);
  }
}
