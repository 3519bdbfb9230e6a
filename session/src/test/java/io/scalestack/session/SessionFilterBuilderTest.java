package io.scalestack.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SessionFilterBuilderTest {

  @Test
  void defaultsAreCookieSessionAndThirtyMinutes() {
    try (RedisSessionRepository repository = RedisSessionRepository.create("redis://127.0.0.1:1")) {
      SessionFilter filter = SessionFilter.builder().repository(repository).build();

      assertThat(filter.cookieName()).isEqualTo("SESSION");
      assertThat(filter.maxInactiveInterval()).isEqualTo(Duration.ofMinutes(30));
      assertThat(filter.repository()).isSameAs(repository);
    }
  }

  @Test
  void requiresARepository() {
    assertThatThrownBy(() -> SessionFilter.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("repository: not set (expected: a SessionRepository, for example"
            + " RedisSessionRepository.create(\"redis://127.0.0.1:16379\"))");
  }

  @Test
  void rejectsCookieNamesThatAreNotTokens() {
    assertThatThrownBy(() -> SessionFilter.builder().cookieName("my session"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cookieName: 'my session' (expected: a token of letters, digits and !#$%&'*+-.^_`|~)");
    assertThatThrownBy(() -> SessionFilter.builder().cookieName("a=b")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> SessionFilter.builder().cookieName("")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void rejectsMaxInactiveIntervalBelowOneSecond() {
    assertThatThrownBy(() -> SessionFilter.builder().maxInactiveInterval(Duration.ofMillis(999)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxInactiveInterval: PT0.999S (expected: 1 s to 2147483647 s)");
  }
}
