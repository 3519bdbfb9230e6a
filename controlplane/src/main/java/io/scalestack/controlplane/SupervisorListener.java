package io.scalestack.controlplane;

/**
 * Hears about members changing state, for showing start-up progress and incidents to a person.
 *
 * <p>Called from the supervisor's threads, possibly concurrently: implementations must be
 * thread-safe and quick.
 */
@FunctionalInterface
public interface SupervisorListener {

  /** {@code member} moved to {@code state}; {@code detail} is a short human-readable reason. */
  void onMemberEvent(String member, MemberStatus.MemberState state, String detail);

  /** A listener that ignores everything. */
  static SupervisorListener none() {
    return (member, state, detail) -> {};
  }
}
