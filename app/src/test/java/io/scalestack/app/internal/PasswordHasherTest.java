package io.scalestack.app.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class PasswordHasherTest {

  private final PasswordHasher hasher = new PasswordHasher(4, 1);

  @Test
  void verifiesTheRightPasswordOnly() {
    String hash = hasher.hash("correct horse");

    assertThat(hash).startsWith("$2a$04$").hasSize(60);
    assertThat(hasher.verify("correct horse", Optional.of(hash))).isTrue();
    assertThat(hasher.verify("correct hors", Optional.of(hash))).isFalse();
    assertThat(hasher.verify("", Optional.of(hash))).isFalse();
  }

  @Test
  void anUnknownUserNeverVerifies() {
    assertThat(hasher.verify("correct horse", Optional.empty())).isFalse();
    assertThat(hasher.verify("", Optional.empty())).isFalse();
  }

  @Test
  void aPasswordLongerThanBcryptReadsNeverVerifies() {
    // bcrypt reads 72 bytes; a longer login password would otherwise match on its prefix alone.
    String stored = "p".repeat(72);
    String hash = hasher.hash(stored);

    assertThat(hasher.verify(stored, Optional.of(hash))).isTrue();
    assertThat(hasher.verify(stored + "suffix", Optional.of(hash))).isFalse();
  }

  @Test
  void rejectsACostOutsideBcryptsRange() {
    assertThatThrownBy(() -> new PasswordHasher(3, 1)).hasMessage("bcryptCost: 3 (expected: 4..31)");
    assertThatThrownBy(() -> new PasswordHasher(4, 0)).hasMessage("maxConcurrentHashes: 0 (expected: > 0)");
  }
}
