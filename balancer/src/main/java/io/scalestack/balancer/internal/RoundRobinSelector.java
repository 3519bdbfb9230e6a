package io.scalestack.balancer.internal;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Each candidate in turn. Thread-safe. */
final class RoundRobinSelector implements BackendSelector {

  private final AtomicLong next = new AtomicLong();

  @Override
  public Backend select(List<Backend> candidates, RequestContext request) {
    return candidates.get((int) Math.floorMod(next.getAndIncrement(), (long) candidates.size()));
  }
}
