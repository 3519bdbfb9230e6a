package io.scalestack.engines;

import io.scalestack.engines.internal.FreePorts;

/**
 * Free TCP ports for members whose addresses are written into a configuration before they start
 * (test topologies, experiments): drawn below the kernel's ephemeral range, so no outgoing
 * connection's own end takes one in the meantime. Stateless, thread-safe.
 */
public final class Ports {

  private Ports() {}

  /** A port that was free on {@code bindAddress} ({@code 0.0.0.0} for every address) a moment ago. */
  public static int free(String bindAddress) {
    return FreePorts.pick(bindAddress);
  }
}
