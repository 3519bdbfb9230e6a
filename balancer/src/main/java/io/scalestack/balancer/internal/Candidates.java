package io.scalestack.balancer.internal;

import java.util.List;

/**
 * What a {@link BackendSelector} chooses from: every backend of the pool (for consistent hashing,
 * whose ring must not change when one goes down) and the eligible ones — selectable and, for a
 * retry, not tried yet.
 *
 * <p>Immutable; confined to one selection.
 *
 * @param members every backend of the pool, in a list whose identity changes only when the
 *     pool's membership or weights change
 * @param eligible the backends that may take this request; non-empty
 * @param slowStartNanos the pool's slow-start time, 0 for none
 * @param nowNanos the time of this selection
 * @param firstAttempt whether this is the request's first attempt (not a retry)
 */
record Candidates(List<Backend> members, List<Backend> eligible, long slowStartNanos, long nowNanos,
    boolean firstAttempt) {

  /** {@code backend}'s effective weight now (slow start applied), scaled by {@link Backend#WEIGHT_SCALE}. */
  int weight(Backend backend) {
    return backend.effectiveWeight(slowStartNanos, nowNanos);
  }

  boolean isEligible(Backend backend) {
    List<Backend> e = eligible;
    for (int i = 0, n = e.size(); i < n; i++) {
      if (e.get(i) == backend) {
        return true;
      }
    }
    return false;
  }
}
