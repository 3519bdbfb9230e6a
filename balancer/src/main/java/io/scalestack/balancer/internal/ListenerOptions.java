package io.scalestack.balancer.internal;

import io.scalestack.balancer.Algorithm;
import io.scalestack.balancer.Mode;
import io.scalestack.balancer.Pool;
import io.scalestack.balancer.Sticky;
import java.util.Objects;

/**
 * What the main listener speaks ({@link Mode}) and whether each of its connections starts with a
 * PROXY protocol header; and which pool settings make sense in that mode.
 *
 * <p>Immutable; thread-safe.
 *
 * @param mode HTTP or TCP
 * @param acceptProxyProtocol whether every client connection must start with a PROXY protocol
 *     header (v1 or v2), whose source address then stands for the client
 */
public record ListenerOptions(Mode mode, boolean acceptProxyProtocol) {

  /** The default: HTTP, no PROXY protocol. */
  public static final ListenerOptions HTTP = new ListenerOptions(Mode.HTTP, false);

  public ListenerOptions {
    Objects.requireNonNull(mode, "mode");
  }

  /**
   * The error message when {@code pool} cannot work in {@code mode}, else null. A TCP connection
   * has no header, cookie, query or path: the {@code hash} algorithm (whose keys are all of those)
   * and cookie stickiness need HTTP; source-hash and source stickiness hash the client address and
   * work in both. In HTTP mode backend connections are pooled and shared by many clients, so
   * sending a PROXY protocol header (which names one client) needs TCP mode.
   */
  public static String poolError(Mode mode, Pool pool) {
    if (mode == Mode.TCP) {
      if (pool.algorithm() == Algorithm.HASH) {
        return "pool '" + pool.name() + "': algorithm: hash" + (pool.hashKey() != null ? " with hashKey " + pool.hashKey() : "")
            + " (expected in tcp mode: round-robin, least-connections, response-time, random, source-hash or bandwidth;"
            + " a TCP connection has no header, cookie, query or path to hash: source-hash hashes the client address)";
      }
      Sticky sticky = pool.sticky();
      if (sticky != null && sticky.mode() != Sticky.Mode.SOURCE_IP) {
        return "pool '" + pool.name() + "': sticky: " + sticky
            + " (expected in tcp mode: source or none; a TCP connection carries no cookies)";
      }
      return null;
    }
    if (pool.sendProxyProtocol() != null) {
      return "pool '" + pool.name() + "': sendProxyProtocol: " + pool.sendProxyProtocol().configName()
          + " (expected: only with mode tcp; in http mode backend connections are pooled and shared by many clients)";
    }
    return null;
  }
}
