package io.scalestack.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

  @Test
  void emptyFileIsTheBuiltInTopologyOfTheSpec() {
    TopologyConfig config = ConfigLoader.parse("scalestack.yaml", "");

    assertThat(config.balancer().listen().toString()).isEqualTo("127.0.1.1/<unresolved>:8080");
    assertThat(config.controlPlane().getPort()).isEqualTo(7070);
    assertThat(config.web().size()).isEqualTo(3);
    assertThat(config.web().address(1).getHostString()).isEqualTo("127.0.1.11");
    assertThat(config.web().address(3).getHostString()).isEqualTo("127.0.1.13");
    assertThat(config.redis().listen().getPort()).isEqualTo(16379);
    assertThat(config.postgres().listen().getPort()).isEqualTo(15432);
    assertThat(config.postgres().replicas()).isEqualTo(2);
    assertThat(config.session().strategy()).isEqualTo("store");
    assertThat(ConfigLoader.defaults()).isEqualTo(config);
  }

  @Test
  void sessionStrategyIsStoreLocalOrStickyAndTheOldNameMeansStore() {
    assertThat(ConfigLoader.parse("s.yaml", "session:\n  strategy: local\n").session().strategy()).isEqualTo("local");
    assertThat(ConfigLoader.parse("s.yaml", "session:\n  strategy: sticky\n").session().strategy()).isEqualTo("sticky");
    assertThat(ConfigLoader.parse("s.yaml", "session:\n  strategy: shared-store\n").session().strategy())
        .isEqualTo("store");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ConfigLoader.parse("s.yaml", "session:\n  strategy: cookies\n"))
        .hasMessageContaining("session.strategy: cookies (expected: one of store, shared-store, local, sticky, clustered)");
  }

  @Test
  void sessionHaAndDurabilityAreReadAndCheckedAndOffByDefault() {
    TopologyConfig config = ConfigLoader.parse("s.yaml", "session:\n  ha: true\n  durability: replica-ack\n");
    assertThat(config.session().ha()).isTrue();
    assertThat(config.session().durability()).isEqualTo("replica-ack");
    assertThat(ConfigLoader.defaults().session().ha()).isFalse();
    assertThat(ConfigLoader.defaults().session().durability()).isEqualTo("async");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> ConfigLoader.parse("s.yaml", "session:\n  durability: sync\n"))
        .hasMessageContaining("session.durability: sync (expected: one of async, replica-ack)");
  }

  @Test
  void theDocumentedExampleIsExactlyTheDefaults() {
    // docs/scalestack.example.yaml lists every key with its default: keep it true.
    assertThat(ConfigLoader.load(Path.of("../docs/scalestack.example.yaml"))).isEqualTo(ConfigLoader.defaults());
  }

  @Test
  void readsEveryGivenField() {
    TopologyConfig config = ConfigLoader.parse("s.yaml", """
        home: /tmp/ss
        balancer:
          algorithm: least-connections
          healthCheck:
            intervalMillis: 250
            rise: 3
        web:
          size: 5
          firstAddress: 127.0.3.20
        session:
          maxInactiveSeconds: 60
        postgres:
          runAsUser: daemon
        """);

    assertThat(config.home()).isEqualTo(Path.of("/tmp/ss"));
    assertThat(config.balancer().algorithm()).isEqualTo("least-connections");
    assertThat(config.balancer().healthCheckInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(config.balancer().rise()).isEqualTo(3);
    assertThat(config.balancer().fall()).isEqualTo(2);
    assertThat(config.web().size()).isEqualTo(5);
    assertThat(config.web().address(5).getHostString()).isEqualTo("127.0.3.24");
    assertThat(config.session().maxInactive()).isEqualTo(Duration.ofSeconds(60));
    assertThat(config.postgres().runAsUser()).isEqualTo("daemon");
  }

  @Test
  void postgresReplicasAreBoundedTakeTheNextPortsAndNeedAServerWeRun() {
    assertThat(ConfigLoader.parse("scalestack.yaml", "postgres:\n  mode: external\n").postgres().replicas()).isZero();
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "postgres:\n  replicas: 9\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("scalestack.yaml:2: postgres.replicas: 9 (expected: 0..8)");
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "postgres:\n  mode: external\n  replicas: 1\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("scalestack.yaml:3: postgres.replicas: 1 (expected: 0 with mode external: scalestack runs no"
            + " replicas of a server it does not run)");
    // pg-replica-1 would take 127.0.0.1:16379, Redis's port
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "postgres:\n  listen: 127.0.0.1:16378\n  replicas: 1\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("postgres.replicas");
  }

  @Test
  void workerPoolHasDefaultsAndIsChecked() {
    TopologyConfig defaults = ConfigLoader.defaults();
    assertThat(defaults.workers().size()).isEqualTo(2);
    assertThat(defaults.workers().address(2).getHostString()).isEqualTo("127.0.1.52");
    assertThat(defaults.workers().queue()).isEqualTo("photo-edits");
    assertThat(defaults.workers().leaseTimeout()).isEqualTo(java.time.Duration.ofSeconds(6));

    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "workers:\n  size: 9\n  maxSize: 4\n"))
        .hasMessage("scalestack.yaml:3: workers.maxSize: 4 (expected: >= workers.size (9))");
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "workers:\n  queue: photo edits\n"))
        .hasMessage("scalestack.yaml:2: workers.queue: photo edits (expected: 1..64 characters of [A-Za-z0-9_-])");
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "workers:\n  firstAddress: 127.0.1.13\n"))
        .hasMessageContaining("workers.firstAddress: 127.0.1.13:8080 (expected: an address no other member uses; web.firstAddress has it)");
  }

  @Test
  void rejectsUnknownKeyWithItsLineAndTheKnownKeys() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", """
        web:
          size: 3
          sizee: 4
        """))
        .isInstanceOf(ConfigException.class)
        .hasMessage("scalestack.yaml:3: web.sizee: unknown key (expected one of: size, maxSize, firstAddress, port, heapMegabytes, bcryptCost)");
  }

  @Test
  void rejectsUnknownTopLevelKey() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "webb:\n  size: 3\n"))
        .hasMessageStartingWith("scalestack.yaml:1: webb: unknown key (expected one of: home, controlPlane, balancer, web,");
  }

  @Test
  void rejectsWrongType() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "web:\n  size: three\n"))
        .hasMessage("scalestack.yaml:2: web.size: three (expected: an integer 1..64)");
  }

  @Test
  void rejectsMappingWhereAValueBelongs() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "web:\n  size:\n    a: 1\n"))
        .hasMessage("scalestack.yaml:3: web.size: a mapping (expected: a single value)");
  }

  @Test
  void rejectsPortOutOfRange() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "balancer:\n  listen: 127.0.1.1:70000\n"))
        .hasMessage("scalestack.yaml:2: balancer.listen: 127.0.1.1:70000 (expected: host:port with an IPv4 host and a port in 1..65535)");
  }

  @Test
  void rejectsWebPortOutOfRange() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "web:\n  port: 0\n"))
        .hasMessage("scalestack.yaml:2: web.port: 0 (expected: 1..65535)");
  }

  @Test
  void rejectsDuplicateAddressNamingBothFields() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", """
        balancer:
          listen: 127.0.1.1:8080
          admin: 127.0.1.1:8080
        """))
        .hasMessage("scalestack.yaml:3: balancer.admin: 127.0.1.1:8080 (expected: an address no other member uses; balancer.listen has it)");
  }

  @Test
  void rejectsWebPoolOverlappingAnotherMember() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", """
        balancer:
          listen: 127.0.1.12:8080
        """))
        .hasMessage("scalestack.yaml:1: web.firstAddress: 127.0.1.12:8080 (expected: an address no other member uses; balancer.listen has it)");
  }

  @Test
  void rejectsUnknownAlgorithm() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "balancer:\n  algorithm: fastest\n"))
        .hasMessage("scalestack.yaml:2: balancer.algorithm: fastest (expected: one of round-robin, least-connections, response-time, random, source-hash, bandwidth)");
  }

  @Test
  void rejectsKeyGivenTwice() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "web:\n  size: 2\n  size: 3\n"))
        .hasMessage("scalestack.yaml:3: web.size: given twice (expected: once)");
  }

  @Test
  void rejectsInvalidYamlWithItsLine() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "web:\n  size: [1\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("scalestack.yaml:3: not valid YAML:");
  }

  @Test
  void rejectsHostModeWithoutBinary() {
    assertThatThrownBy(() -> ConfigLoader.parse("scalestack.yaml", "redis:\n  mode: host\n"))
        .hasMessage("scalestack.yaml:2: redis.binary: (absent) (expected: a path, since mode is host)");
  }

  @Test
  void rejectsMissingFile(@TempDir Path dir) {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> ConfigLoader.load(missing))
        .hasMessage(missing + ": no such file (expected: a readable YAML file)");
  }

  @Test
  void loadsAFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("scalestack.yaml");
    Files.writeString(file, "web:\n  size: 2\n");
    assertThat(ConfigLoader.load(file).web().size()).isEqualTo(2);
  }
}
