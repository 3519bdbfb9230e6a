package io.scalestack.engines.internal;

import io.scalestack.engines.EngineException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks a free TCP port for engines that cannot be told "port 0" (Redis treats 0 as "no TCP",
 * PostgreSQL needs the number up front), and for topologies whose ports are written into a
 * config before anything starts. Another process can take the port between the pick and the
 * bind, so the port is drawn below the kernel's ephemeral range ({@code ip_local_port_range},
 * 32768–60999 by default): there, the kernel never hands it to an outgoing connection (a JDBC
 * client's own end, say), which is what took such a port in CI. Only another listener can still
 * take it; callers that can retry with a new port do so when the engine reports "address in use".
 */
public final class FreePorts {

  private static final int LOWEST = 10_000;
  private static final int ATTEMPTS = 64;

  private FreePorts() {}

  /** A port that was free on {@code bindAddress} a moment ago. */
  public static int pick(String bindAddress) {
    InetAddress address;
    try {
      address = InetAddress.getByName(bindAddress);
    } catch (IOException e) {
      throw new EngineException("cannot find a free port on " + bindAddress + ": " + e, e);
    }
    int ephemeralLow = ephemeralLow();
    int taken = 0;
    if (ephemeralLow - LOWEST >= 1_000) {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        int port = ThreadLocalRandom.current().nextInt(LOWEST, ephemeralLow);
        try (ServerSocket socket = new ServerSocket(port, 1, address)) {
          return socket.getLocalPort();
        } catch (IOException inUse) {
          taken++; // in use, or not ours to bind: draw another
        }
      }
    }
    // no room below the ephemeral range, or every draw taken: let the kernel choose
    try (ServerSocket socket = new ServerSocket(0, 1, address)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new EngineException("cannot find a free port on " + bindAddress + " (" + taken + " drawn ports taken): " + e, e);
    }
  }

  /** The first port of the kernel's ephemeral range (Linux), or 32768 where it cannot be read. */
  private static int ephemeralLow() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }
}
