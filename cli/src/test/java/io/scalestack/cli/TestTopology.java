package io.scalestack.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A topology on a loopback /24 of its own with free ports, written as a {@code scalestack.yaml}.
 * Its home is under the system temp directory, made world-traversable, because PostgreSQL runs as
 * an unprivileged user when the tests run as root.
 */
final class TestTopology {

  final String net = "127.0." + ThreadLocalRandom.current().nextInt(100, 250);
  final int lbPort = freePort();
  final int adminPort = freePort();
  final int webPort = freePort();
  final int workerPort = freePort();
  final int edgePort = freePort();
  final int edgeAdminPort = freePort();
  final int controlPort = freePort();
  final int redisPort = freePort();
  final int pgPort = freePort();
  final Path home;
  final Path configFile;

  TestTopology(int webServers) {
    this(webServers, false);
  }

  TestTopology(int webServers, boolean sessionHa) {
    this(webServers, sessionHa, 0);
  }

  /**
   * With {@code sessionHa}: Redis with two replicas and three Sentinels (down after 1 s),
   * replica-ack writes; {@code workers} photo workers (lease timeout 3 s), and the CDN edge when
   * there are workers (the photo tests use both).
   */
  TestTopology(int webServers, boolean sessionHa, int workers) {
    try {
      home = Files.createTempDirectory("scalestack-it-");
      Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x"));
      configFile = home.resolve("scalestack.yaml");
      Files.writeString(configFile, """
          home: %s
          controlPlane:
            listen: %s.2:%d
          balancer:
            listen: %s.1:%d
            admin: %s.1:%d
            healthCheck:
              intervalMillis: 200
              timeoutMillis: 500
              rise: 2
              fall: 2
          web:
            size: %d
            firstAddress: %s.11
            port: %d
            heapMegabytes: 128
            bcryptCost: 4
          edge:
            enabled: %s
            listen: %s.2:%d
            admin: %s.2:%d
            maxMemoryMegabytes: 32
          workers:
            size: %d
            firstAddress: %s.51
            port: %d
            heapMegabytes: 512
            leaseTimeoutMillis: 3000
          redis:
            listen: %s.3:%d
          %s
          postgres:
            listen: %s.4:%d
            replicas: 1
            shards: 2
          supervisor:
            restartDelayMillis: 200
          """.formatted(home, net, controlPort, net, lbPort, net, adminPort, webServers, net, webPort,
          workers > 0, net, edgePort, net, edgeAdminPort, workers, net, workerPort, net, redisPort, sessionHa ? "session:\n  ha: true\n  durability: replica-ack" : "",
          net, pgPort));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String edgeUrl() {
    return "http://" + net + ".2:" + edgePort;
  }

  String balancerUrl() {
    return "http://" + net + ".1:" + lbPort;
  }

  String adminUrl() {
    return "http://" + net + ".1:" + adminPort;
  }

  String controlPlaneUrl() {
    return "http://" + net + ".2:" + controlPort;
  }

  private static int freePort() {
    return io.scalestack.engines.Ports.free("0.0.0.0");
  }
}
