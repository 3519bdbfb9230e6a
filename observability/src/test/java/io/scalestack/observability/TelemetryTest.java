package io.scalestack.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Counter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

class TelemetryTest {

  @Test
  void scrapeShowsCountersInPrometheusFormatTaggedWithTheMember() {
    try (Telemetry telemetry = Telemetry.forMember("web-1")) {
      Counter.builder("scalestack_test_requests").register(telemetry.registry()).increment(3);

      assertThat(telemetry.scrape())
          .contains("scalestack_test_requests_total{member=\"web-1\"} 3.0")
          .contains("jvm_memory_used_bytes");
    }
  }

  @Test
  void rejectsBlankMemberName() {
    assertThatThrownBy(() -> Telemetry.forMember(" "))
        .hasMessage("member: ' ' (expected: a non-blank member name)");
  }

  @Test
  void writesOneJsonObjectPerLogLine(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("logs/web-1.log");
    JsonLogging.toFile("web-1", file);
    LoggerFactory.getLogger("test").info("hello {}", "world");

    LoggerFactory.getLogger("test").warn("quote \" and\nnewline", new IllegalStateException("boom"));

    // Lines reach the file from the appender's own thread.
    await().atMost(Duration.ofSeconds(5)).until(() -> Files.exists(file) && Files.readAllLines(file).size() == 2);
    var lines = Files.readAllLines(file);
    assertThat(lines.get(0)).startsWith("{\"time\":\"").endsWith("}")
        .contains("\"level\":\"INFO\",\"member\":\"web-1\",\"logger\":\"test\"")
        .contains("\"message\":\"hello world\"")
        .doesNotContain("\"error\"");
    assertThat(lines.get(1)).contains("\"message\":\"quote \\\" and\\nnewline\"")
        .contains("\"error\":\"java.lang.IllegalStateException: boom\\n\\tat ");
  }
}
