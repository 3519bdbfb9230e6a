package io.scalestack.engines.internal;

import io.scalestack.engines.EngineException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/**
 * Picks a free TCP port for engines that cannot be told "port 0" (Redis treats 0 as "no TCP",
 * PostgreSQL needs the number up front). Another process can take the port between the pick and
 * the engine's bind; callers retry with a new port when the engine reports "address in use".
 */
public final class FreePorts {

  private FreePorts() {}

  /** A port that was free on {@code bindAddress} a moment ago. */
  public static int pick(String bindAddress) {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(bindAddress))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new EngineException("cannot find a free port on " + bindAddress + ": " + e, e);
    }
  }
}
