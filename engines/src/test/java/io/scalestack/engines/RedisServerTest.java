package io.scalestack.engines;

import static io.scalestack.engines.EngineTestSupport.engineCache;
import static io.scalestack.engines.EngineTestSupport.isDead;
import static io.scalestack.engines.EngineTestSupport.newDirectory;
import static io.scalestack.engines.EngineTestSupport.redis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.scalestack.engines.internal.EngineCache;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RedisServerTest {

  private static RedisServer.Builder builder(Path data) {
    return RedisServer.builder().port(0).dataDirectory(data).engineCache(engineCache());
  }

  @Test
  @SuppressWarnings("try") // closing inside try-with-resources is what is tested
  void keepsAppendOnlyDataAcrossCloseAndStart() throws Exception {
    Path data = newDirectory("redis-aof");
    try (RedisServer redis = builder(data).build().start()) {
      assertThat(redis.isRunning()).isTrue();
      assertThat(redis.uri()).isEqualTo("redis://127.0.0.1:" + redis.address().getPort());
      assertThat(redis(redis.address(), "SET", "greeting", "hello")).isEqualTo("+OK");
      long firstPid = redis.pid();

      redis.close();
      assertThat(redis.isRunning()).isFalse();
      assertThat(isDead(firstPid)).isTrue();
      assertThat(data.resolve("appendonly.aof")).isNotEmptyFile();
      redis.close(); // idempotent

      redis.start();
      assertThat(redis.pid()).isNotEqualTo(firstPid);
      assertThat(redis(redis.address(), "GET", "greeting")).isEqualTo("hello");
      assertThat(redis(redis.address(), "INFO", "persistence")).contains("aof_enabled:1");
    }
  }

  @Test
  @SuppressWarnings("try") // closing inside try-with-resources is what is tested
  void startsAgainOverTheSameDirectoryAfterKill() throws Exception {
    Path data = newDirectory("redis-kill");
    try (RedisServer first = builder(data).build().start()) {
      redis(first.address(), "SET", "before-close", "kept");
      first.close(); // a clean stop first, so the value is on disk for certain
      first.start();
      long killedPid = first.pid();

      first.kill();

      assertThat(first.isRunning()).isFalse();
      assertThat(isDead(killedPid)).isTrue();
      try (RedisServer second = builder(data).build().start()) {
        assertThat(redis(second.address(), "GET", "before-close")).isEqualTo("kept");
        assertThat(redis(second.address(), "PING")).isEqualTo("+PONG");
      }
    }
  }

  @Test
  void writesEngineOutputToTheLogFileNotToStdout() throws Exception {
    Path data = newDirectory("redis-log");
    Path log = data.resolve("logs/engine.log");
    try (RedisServer redis = builder(data.resolve("data")).logFile(log).build().start()) {
      assertThat(Files.readString(log)).contains("Ready to accept connections", "pid=" + redis.pid());
    }
  }

  @Test
  void failsWithTheLogTailWhenThePortIsTaken() throws Exception {
    Path data = newDirectory("redis-port-taken");
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      RedisServer redis = RedisServer.builder()
          .port(taken.getLocalPort())
          .dataDirectory(data)
          .engineCache(engineCache())
          .build();

      assertThatThrownBy(redis::start)
          .isInstanceOf(EngineException.class)
          .hasMessageContaining("redis-server exited with code")
          .hasMessageContaining(data.resolve("redis.log").toString())
          .hasMessageContaining("Address already in use");
      assertThat(redis.isRunning()).isFalse();
    }
  }

  @Test
  void rejectsAHostBinaryThatIsNotExecutable() throws Exception {
    Path data = newDirectory("redis-bad-binary");
    Path notExecutable = Files.writeString(data.resolve("redis-server"), "not a program");

    RedisServer redis = builder(data).binary(notExecutable).build();

    assertThatThrownBy(redis::start)
        .isInstanceOf(EngineException.class)
        .hasMessage("binary: " + notExecutable + " (expected: an executable redis-server)");
  }

  @Test
  void runsAHostBinary() throws Exception {
    Path data = newDirectory("redis-host");
    // The bundled binary, copied elsewhere, stands in for a host installation the builder points at.
    Path bundled = EngineCache.redisServer(engineCache());
    Path host = Files.copy(bundled, data.resolve("my-redis-server"));
    host.toFile().setExecutable(true);

    try (RedisServer redis = builder(data.resolve("data")).binary(host).build().start()) {
      assertThat(ProcessHandle.of(redis.pid()).flatMap(h -> h.info().command())).contains(host.toString());
      assertThat(redis(redis.address(), "PING")).isEqualTo("+PONG");
    }
  }

  @Test
  void externalModeOnlyChecksAndNeverStopsTheServer() throws Exception {
    Path data = newDirectory("redis-external");
    try (RedisServer owned = builder(data).build().start()) {
      RedisServer external = RedisServer.builder()
          .external(true)
          .port(owned.address().getPort())
          .build();

      external.start();
      assertThat(external.isRunning()).isTrue();
      assertThat(external.uri()).isEqualTo(owned.uri());
      assertThatThrownBy(external::pid).isInstanceOf(IllegalStateException.class);
      external.close();

      assertThat(external.isRunning()).isFalse();
      assertThat(owned.isRunning()).isTrue();
      assertThat(redis(owned.address(), "PING")).isEqualTo("+PONG");
    }
  }

  @Test
  void externalModeFailsClearlyWhenNothingAnswers() throws Exception {
    int closedPort;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      closedPort = probe.getLocalPort();
    }
    RedisServer external = RedisServer.builder()
        .external(true)
        .port(closedPort)
        .startupTimeout(Duration.ofMillis(300))
        .build();

    assertThatThrownBy(external::start)
        .isInstanceOf(EngineException.class)
        .hasMessageStartingWith("Redis at ")
        .hasMessageContaining("did not answer PING within PT0.3S")
        .hasMessageContaining("Connection refused");
  }
}
