package io.scalestack.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SupervisorTest {

  @TempDir Path home;

  @Test
  void externalRedisThatDoesNotAnswerFailsStartUpBeforeAnyMemberIsLaunched() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    TopologyConfig config = ConfigLoader.parse("test.yaml", """
        home: %s
        redis:
          mode: external
          listen: 127.0.0.1:%d
        """.formatted(home, closedPort));
    AtomicInteger launches = new AtomicInteger();
    Supervisor supervisor = Supervisor.builder()
        .config(config)
        .launcher((member, heap, args) -> {
          launches.incrementAndGet();
          return new ProcessBuilder("true");
        })
        .build();

    assertThatThrownBy(supervisor::start).hasMessageContaining("127.0.0.1:" + closedPort);
    assertThat(launches).hasValue(0);
    assertThat(supervisor.members()).isEmpty();
    supervisor.close();
  }

  @Test
  void closingAgainAfterAFailedStartIsHarmless() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    // Redis is registered as a member, then the external PostgreSQL check fails start(), which closes
    TopologyConfig config = ConfigLoader.parse("test.yaml", """
        home: %s
        postgres:
          mode: external
          listen: 127.0.0.1:%d
        """.formatted(home, closedPort));
    Supervisor supervisor = Supervisor.builder()
        .config(config)
        .launcher((member, heap, args) -> new ProcessBuilder("true"))
        .build();

    assertThatThrownBy(supervisor::start).hasMessageContaining("127.0.0.1:" + closedPort);
    assertThat(supervisor.members()).extracting(MemberStatus::name).contains("redis");
    // what `scalestack up` does after a failed start: before, this threw RejectedExecutionException
    supervisor.close();
    supervisor.close();
  }

  @Test
  void scaleRejectsAnUnknownPoolAndASizeOutOfRange() {
    Supervisor supervisor = Supervisor.builder()
        .config(ConfigLoader.parse("test.yaml", "home: " + home + "\n"))
        .launcher((member, heap, args) -> new ProcessBuilder("true"))
        .build();

    assertThatThrownBy(() -> supervisor.scale("workers", 2)).hasMessage("pool: 'workers' (expected: web or worker)");
    assertThatThrownBy(() -> supervisor.scale("worker", 9)).hasMessage("size: 9 (expected: 0..8)");
    assertThatThrownBy(() -> supervisor.scale("web", 0)).hasMessage("size: 0 (expected: 1..8)");
    assertThatThrownBy(() -> supervisor.scale("web", 9)).hasMessage("size: 9 (expected: 1..8)");
    supervisor.close();
  }

  @Test
  void builderNamesWhatIsMissing() {
    assertThatThrownBy(() -> Supervisor.builder().build()).hasMessage("config: null (expected: a TopologyConfig)");
    assertThatThrownBy(() -> Supervisor.builder().config(ConfigLoader.defaults()).build())
        .hasMessage("launcher: null (expected: a MemberLauncher)");
  }
}
