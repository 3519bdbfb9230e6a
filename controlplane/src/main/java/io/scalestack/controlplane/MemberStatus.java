package io.scalestack.controlplane;

import java.time.Duration;

/**
 * One member of the topology as the supervisor sees it at one moment: what it is, where it
 * listens, whether it is healthy, and (for web servers) the load the balancer sends it.
 *
 * <p>An immutable snapshot; thread-safe.
 *
 * @param name for example {@code web-2}, {@code lb}, {@code redis}, {@code pg-primary}
 * @param role {@code balancer}, {@code web}, {@code redis} or {@code postgres}
 * @param address where it serves, {@code host:port}
 * @param state the supervisor's state for it
 * @param pid the operating-system process id, or -1 while none runs
 * @param restarts how many times the supervisor restarted it
 * @param uptime how long the current process has run
 * @param balancerState for web servers, the balancer's view ({@code UP}, {@code DOWN}, {@code
 *     DRAINING}), else empty
 * @param inFlight for web servers, requests the balancer has in flight to it, else 0
 * @param requests for web servers, requests the balancer has sent it, else 0
 */
public record MemberStatus(
    String name,
    String role,
    String address,
    MemberState state,
    long pid,
    int restarts,
    Duration uptime,
    String balancerState,
    long inFlight,
    long requests) {

  /** The supervisor's life cycle of a member. */
  public enum MemberState {
    /** Launched, not yet answering its health check. */
    STARTING,
    /** Answering its health check. */
    HEALTHY,
    /** Its process died; the supervisor will start it again. */
    RESTARTING,
    /** Stopped on purpose (scale down, shutdown). */
    STOPPED,
    /** Died and will not be restarted (restart disabled, or it failed to start). */
    FAILED
  }
}
