package io.scalestack.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code kill -9} of the control plane: no member may outlive it by more than 5 s. */
class ControlPlaneDeathTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private Process controlPlane;

  @AfterEach
  void cleanUp() {
    if (controlPlane != null) {
      controlPlane.descendants().forEach(ProcessHandle::destroyForcibly);
      controlPlane.destroyForcibly();
    }
  }

  @Test
  void everyChildExitsWithinFiveSecondsOfTheControlPlanesKill() throws Exception {
    TestTopology topology = new TestTopology(2);
    controlPlane = new JvmMemberLauncher()
        .command("controlplane", 256, List.of("up", "-c", topology.configFile.toString()))
        .redirectErrorStream(true)
        .redirectOutput(topology.home.resolve("controlplane.out").toFile())
        .start();

    HttpClient http = HttpClient.newHttpClient();
    await().atMost(Duration.ofSeconds(120)).ignoreExceptions().until(() -> {
      HttpResponse<String> members = http.send(HttpRequest.newBuilder(URI.create(topology.controlPlaneUrl() + "/api/members")).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode list = JSON.readTree(members.body());
      if (list.size() != 6) { // redis, pg-primary, pg-replica-1, lb, web-1, web-2
        return false;
      }
      for (JsonNode member : list) {
        if (!member.path("state").asText().equals("HEALTHY")) {
          return false;
        }
      }
      return true;
    });

    // Everything below the control plane: member JVMs, redis-server, the postmaster and its backends.
    List<ProcessHandle> descendants = controlPlane.descendants().toList();
    assertThat(descendants).hasSizeGreaterThanOrEqualTo(6);

    controlPlane.destroyForcibly(); // SIGKILL: no shutdown hook runs
    controlPlane.waitFor();

    await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> assertThat(descendants.stream().filter(ControlPlaneDeathTest::running)
            .map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList()).isEmpty());
  }

  // A child that exited but was not reaped yet is a zombie: isAlive() says true, yet it runs no
  // more (orphans are reaped by init, which may take a moment on a loaded machine).
  private static boolean running(ProcessHandle process) {
    if (!process.isAlive()) {
      return false;
    }
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + process.pid() + "/stat"));
      // pid (comm) state ...: the state follows the last ')' (comm may contain spaces or parentheses)
      return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
    } catch (java.io.IOException e) {
      // gone between the two checks, or /proc unreadable: trust whether its entry is still there
      return java.nio.file.Files.exists(java.nio.file.Path.of("/proc/" + process.pid()));
    }
  }
}
