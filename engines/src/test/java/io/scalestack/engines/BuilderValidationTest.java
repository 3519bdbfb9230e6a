package io.scalestack.engines;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BuilderValidationTest {

  @Test
  void rejectsAPortOutOfRange() {
    assertThatThrownBy(() -> RedisServer.builder().port(70000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port: 70000 (expected: 0..65535)");
    assertThatThrownBy(() -> PostgresServer.builder().port(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("port: -1 (expected: 0..65535)");
  }

  @Test
  void rejectsANonPositiveStartupTimeout() {
    assertThatThrownBy(() -> RedisServer.builder().startupTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("startupTimeout: PT0S (expected: > 0)");
    assertThatThrownBy(() -> PostgresServer.builder().startupTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("startupTimeout: PT-1S (expected: > 0)");
  }

  @Test
  void rejectsABlankBindAddress() {
    assertThatThrownBy(() -> RedisServer.builder().bindAddress(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bindAddress: ' ' (expected: a host name or IP address)");
  }

  @Test
  void requiresADataDirectoryUnlessExternal() {
    assertThatThrownBy(() -> RedisServer.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("dataDirectory: not set (expected: a directory for the AOF and dump)");
    assertThatThrownBy(() -> PostgresServer.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("dataDirectory: not set (expected: a directory for the cluster)");
    assertThatThrownBy(() -> RedisServer.builder().external(true).port(0).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("port: 0 (expected: 1..65535 for an external server)");
  }

  @Test
  void rejectsDatabaseAndUserNamesThatAreNotPlainIdentifiers() {
    assertThatThrownBy(() -> PostgresServer.builder().database("1photos"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("database: '1photos' (expected: a letter or _, then up to 62 letters, digits or _)");
    assertThatThrownBy(() -> PostgresServer.builder().user("a\"; DROP"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("user: 'a\"; DROP' (expected:");
    assertThatThrownBy(() -> PostgresServer.builder().runAsUser("no body"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("runAsUser: 'no body' (expected: an operating-system user name)");
  }

  @Test
  void rejectsAPasswordWithALineBreakWithoutEchoingIt() {
    assertThatThrownBy(() -> PostgresServer.builder().password("secret\nmore"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("password: <hidden, 11 characters> (expected: not empty, without line breaks)")
        .message().doesNotContain("secret");
    assertThatThrownBy(() -> PostgresServer.builder().password(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("password: <hidden, 0 characters> (expected: not empty, without line breaks)");
  }

  @Test
  void rejectsNullsByName() {
    assertThatThrownBy(() -> RedisServer.builder().dataDirectory(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("dataDirectory");
  }

  @Test
  void refusesAddressBeforeStartWhenThePortIsChosenAtStart() {
    RedisServer redis = RedisServer.builder().port(0).dataDirectory(java.nio.file.Path.of("unused")).build();

    assertThatThrownBy(redis::address)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("address: unknown before start() (expected: start() first, as port is 0)");
  }
}
