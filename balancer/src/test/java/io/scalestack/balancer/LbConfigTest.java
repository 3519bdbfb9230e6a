package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** lb.yaml: a full file gives a working balancer; every mistake names file, line, field, value, expected. */
class LbConfigTest {

  @Test
  void aFullFileConfiguresPoolsRoutesAlgorithmsHealthChecksAndStickiness(@TempDir Path dir) throws Exception {
    try (NamedBackend a = NamedBackend.start("a");
        NamedBackend b = NamedBackend.start("b");
        NamedBackend api = NamedBackend.start("api")) {
      Path file = dir.resolve("lb.yaml");
      Files.writeString(file, """
          listen: 127.0.0.1:0
          admin:
            listen: 127.0.0.1:0
            token: an-admin-token-0123456789
          ioThreads: 2
          retries: 2
          connectTimeout: 2s
          responseTimeout: PT10S
          stickySecret: a-long-random-secret-string
          healthCheck: {type: http, path: /health, interval: 30s, jitter: 0.2, timeout: 500ms, rise: 2, fall: 3}
          pools:
            default:
              algorithm: round robin
              backends:
                - {name: a, address: %s, weight: 2}
                - {name: b, address: %s}
            api:
              algorithm: hash
              hashKey: header:X-User
              hashLoadFactor: 1.25
              sticky: insert:SRV
              slowStart: 30s
              panicThresholdPercent: 50
              outlierDetection: {consecutiveErrors: 4, baseEjectionTime: 10s, maxEjectionPercent: 50}
              healthCheck: {type: tcp, interval: 200ms}
              backends:
                - name: api-1
                  address: %s
          routes:
            - {pool: api, pathPrefix: /api/, stripPrefix: /api, methods: [GET, POST]}
          """.formatted(address(a), address(b), address(api)));

      try (LoadBalancer lb = LbConfig.load(file).build().start()) {
        await().atMost(Duration.ofSeconds(5)).until(() ->
            lb.backends().stream().allMatch(s -> s.state() == BackendState.UP));

        List<String> servedBy = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          servedBy.add(get(lb.address(), "/").body());
        }
        assertThat(servedBy).containsExactly("a", "b", "a", "a", "b", "a");
        assertThat(get(lb.address(), "/api/users").body()).isEqualTo("api");
        assertThat(api.seen).extracting(NamedBackend.Seen::uri).containsExactly("/users");
        assertThat(get(lb.adminAddress(), "/backends").statusCode()).as("the token is required").isEqualTo(401);

        Pool apiPool = lb.pools().get(1);
        assertThat(apiPool.name()).isEqualTo("api");
        assertThat(apiPool.algorithm()).isEqualTo(Algorithm.HASH);
        assertThat(apiPool.hashKey()).isEqualTo(HashKey.header("X-User"));
        assertThat(apiPool.hashLoadFactor()).isEqualTo(1.25);
        assertThat(apiPool.sticky()).isEqualTo(Sticky.insertCookie("SRV"));
        assertThat(apiPool.slowStart()).isEqualTo(Duration.ofSeconds(30));
        assertThat(apiPool.panicThresholdPercent()).isEqualTo(50);
        assertThat(apiPool.outlierDetection().consecutiveErrors()).isEqualTo(4);
        assertThat(apiPool.outlierDetection().baseEjectionTime()).isEqualTo(Duration.ofSeconds(10));
        assertThat(apiPool.healthCheck()).contains(
            HealthCheck.builder().type(HealthCheck.Type.TCP).interval(Duration.ofMillis(200)).build());
        assertThat(lb.pools().get(0).healthCheck()).isEmpty();
        assertThat(lb.backends()).extracting(BackendStatus::weight).containsExactly(2, 1, 1);
      }
    }
  }

  @Test
  void everyMistakeNamesFileLineFieldValueAndExpectation() {
    assertError("pools:\n  default:\n    algoritm: hash\n",
        "lb.yaml:3: pools.default.algoritm: unknown key (expected one of: algorithm, hashKey, hashLoadFactor, sticky, "
            + "slowStart, panicThresholdPercent, sendProxyProtocol, outlierDetection, healthCheck, backends)");
    assertError("pools:\n  default:\n    algorithm: fastest\n",
        "lb.yaml:3: pools.default.algorithm: 'fastest' (expected: round-robin, least-connections, response-time, "
            + "random, source-hash, hash or bandwidth)");
    assertError("pools:\n  api:\n    backends:\n      - {name: x, address: 127.0.0.1:80, weight: 300}\n",
        "lb.yaml:4: pools.api.backends[0].weight: 300 (expected: 1..256)");
    assertError("pools:\n  api:\n    backends:\n      - {name: x, address: nowhere}\n",
        "lb.yaml:4: pools.api.backends[0].address: 'nowhere' (expected: host:port)");
    assertError("healthCheck:\n  interval: soon\n",
        "lb.yaml:2: healthCheck.interval: 'soon' (expected: a duration such as 500ms, 30s, 5m, 1h or PT30S)");
    assertError("healthCheck:\n  type: udp\n", "lb.yaml:2: healthCheck.type: 'udp' (expected: http or tcp)");
    assertError("listen: 127.0.0.1:99999\n", "lb.yaml:1: listen: '127.0.0.1:99999' (expected: host:port)");
    assertError("retries: lots\n", "lb.yaml:1: retries: 'lots' (expected: an integer)");
    assertError("retries: 1000\n", "lb.yaml:1: retries: 1000 (expected: 0..100)");
    assertError("retryIdempotent: yes\n", "lb.yaml:1: retryIdempotent: 'yes' (expected: true or false)");
    assertError("requestHeaderTimeout: soon\n",
        "lb.yaml:1: requestHeaderTimeout: 'soon' (expected: a duration such as 500ms, 30s, 5m, 1h or PT30S)");
    LbConfig.parse("lb.yaml", "retryIdempotent: true\nretryBudgetPercent: 10\nrequestHeaderTimeout: 5s\n").build().close();
    assertError("routes:\n  - {pool: api, pathPrefix: /api/}\n",
        "lb.yaml:2: routes[0].pool: 'api' (expected: one of default)");
    assertError("routes:\n  - {pool: default, pathRegex: '(x'}\n",
        "lb.yaml:2: routes[0].pathRegex: '(x' (expected: a Java regular expression; Unclosed group at index 2)");
    assertError("pools:\n  p:\n    algorithm: hash\n",
        "lb.yaml:3: pools.p: hashKey: missing for pool 'p' (expected: header:NAME, cookie:NAME, query:NAME or path with algorithm hash)");
    assertError("listen: [1, 2]\n", "lb.yaml:1: listen: a list (expected: a single value)");
    assertError("listen: 'a\n", "lb.yaml:2: not valid YAML: found unexpected end of stream (expected: YAML key: value lines)");
    assertThatThrownBy(() -> LbConfig.load(Path.of("/nonexistent/lb.yaml")))
        .isInstanceOf(LbConfigException.class)
        .hasMessage("/nonexistent/lb.yaml: no such file (expected: a readable YAML file)");
    LbConfig.parse("lb.yaml", "").build().close();
  }

  private static void assertError(String yaml, String message) {
    assertThatThrownBy(() -> LbConfig.parse("lb.yaml", yaml).build().close())
        .isInstanceOf(LbConfigException.class)
        .hasMessage(message);
  }

  private static String address(NamedBackend backend) {
    return backend.address().getAddress().getHostAddress() + ":" + backend.address().getPort();
  }
}
