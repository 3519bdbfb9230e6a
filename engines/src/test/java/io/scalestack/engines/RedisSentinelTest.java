package io.scalestack.engines;

import static io.scalestack.engines.EngineTestSupport.engineCache;
import static io.scalestack.engines.EngineTestSupport.newDirectory;
import static io.scalestack.engines.EngineTestSupport.redis;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Replication and Sentinel failover with real processes. */
class RedisSentinelTest {

  private final List<AutoCloseable> started = new ArrayList<>();

  @AfterEach
  void stopEverything() throws Exception {
    for (AutoCloseable resource : started.reversed()) {
      resource.close();
    }
  }

  @Test
  void replicaCopiesWhatThePrimaryWrites() throws Exception {
    Path data = newDirectory("redis-replica");
    RedisServer primary = server(RedisServer.builder().port(0).dataDirectory(data.resolve("primary")));
    RedisServer replica = server(RedisServer.builder().port(0).dataDirectory(data.resolve("replica"))
        .replicaOf(primary.address()));

    assertThat(redis(primary.address(), "SET", "greeting", "hello")).isEqualTo("+OK");

    await().atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(redis(replica.address(), "GET", "greeting")).isEqualTo("hello"));
    assertThat(redis(replica.address(), "INFO", "replication"))
        .contains("role:slave", "master_port:" + primary.address().getPort(), "master_link_status:up");
    assertThat(redis(replica.address(), "SET", "greeting", "overwritten")).startsWith("-READONLY");
  }

  @Test
  void threeSentinelsPromoteTheReplicaWhenThePrimaryIsKilled() throws Exception {
    Path data = newDirectory("redis-sentinel");
    RedisServer primary = server(RedisServer.builder().port(0).dataDirectory(data.resolve("primary")));
    RedisServer replica = server(RedisServer.builder().port(0).dataDirectory(data.resolve("replica"))
        .replicaOf(primary.address()));
    List<RedisSentinel> sentinels = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      RedisSentinel sentinel = RedisSentinel.builder()
          .port(0)
          .dataDirectory(data.resolve("sentinel-" + i))
          .engineCache(engineCache())
          .masterName("photos")
          .monitor(primary.address())
          .downAfter(Duration.ofMillis(500))
          .failoverTimeout(Duration.ofSeconds(5))
          .build()
          .start();
      started.add(sentinel);
      sentinels.add(sentinel);
    }
    assertThat(Files.readString(sentinels.get(0).configFile()))
        .contains("sentinel monitor photos 127.0.0.1 " + primary.address().getPort() + " 2",
            "sentinel down-after-milliseconds photos 500");
    assertThat(RedisSentinel.uri(sentinels)).isEqualTo("redis-sentinel://127.0.0.1:"
        + sentinels.get(0).address().getPort() + ",127.0.0.1:" + sentinels.get(1).address().getPort()
        + ",127.0.0.1:" + sentinels.get(2).address().getPort() + "#photos");
    // A failover needs each Sentinel to know the replica and its two peers (learnt through the primary).
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      for (RedisSentinel sentinel : sentinels) {
        assertThat(sentinel.primaryAddress()).contains(primary.address());
        assertThat(sentinel.knownReplicas()).isEqualTo(1);
        assertThat(sentinel.knownSentinels()).isEqualTo(2);
      }
    });

    long killedAt = System.nanoTime();
    primary.kill();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      for (RedisSentinel sentinel : sentinels) {
        assertThat(sentinel.primaryAddress()).contains(replica.address());
      }
    });
    System.out.printf("sentinel: all three name the replica as primary %.1f s after kill -9%n",
        (System.nanoTime() - killedAt) / 1e9);
    await().atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(redis(replica.address(), "SET", "after", "failover")).isEqualTo("+OK"));
  }

  @Test
  void validatesItsConfiguration() {
    assertThatThrownBy(() -> RedisSentinel.builder().downAfter(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("downAfter: PT-1S (expected: > 0)");
    assertThatThrownBy(() -> RedisSentinel.builder().failoverTimeout(Duration.ofNanos(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("failoverTimeout: PT0.00000001S (expected: >= 1 ms)");
    assertThatThrownBy(() -> RedisSentinel.builder().quorum(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("quorum: 0 (expected: >= 1)");
    assertThatThrownBy(() -> RedisSentinel.builder().masterName("my master"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("masterName: 'my master' (expected: 1 to 64 letters, digits, '.', '_' or '-')");
    assertThatThrownBy(() -> RedisSentinel.builder().dataDirectory(Path.of("x")).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("monitor: not set (expected: the primary's address)");
    assertThatThrownBy(() -> RedisServer.builder().replicaOf(new InetSocketAddress("127.0.0.1", 0)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("replicaOf: /127.0.0.1:0 (expected: a port in 1..65535)");
  }

  private RedisServer server(RedisServer.Builder builder) {
    RedisServer server = builder.engineCache(engineCache()).build().start();
    started.add(server);
    return server;
  }
}
