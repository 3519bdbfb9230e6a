package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class LsnTest {

  @Test
  void parsesAndPrintsThePostgresTextForm() {
    Lsn lsn = Lsn.parse("16/B374D848");

    assertThat(lsn.asLong()).isEqualTo(0x16_B374D848L);
    assertThat(lsn).hasToString("16/B374D848");
    assertThat(Lsn.parse("0/0")).isSameAs(Lsn.ZERO);
    assertThat(Lsn.parse("0/3000148")).isEqualTo(Lsn.of(0x3000148));
  }

  @Test
  void comparesAsUnsignedByteOffsets() {
    Lsn high = Lsn.parse("FFFFFFFF/FFFFFFFF");

    assertThat(high.asLong()).isEqualTo(-1L);
    assertThat(high).isGreaterThan(Lsn.parse("7FFFFFFF/0"));
    assertThat(Lsn.parse("1/0").isAtLeast(Lsn.parse("0/FFFFFFFF"))).isTrue();
    assertThat(Lsn.parse("0/10").isAtLeast(Lsn.parse("0/11"))).isFalse();
  }

  @Test
  void rejectsTextThatIsNotAnLsn() {
    for (String text : new String[] {"", "/1", "1/", "123456789/0", "0/123456789", "g/0", "0:0"}) {
      assertThatThrownBy(() -> Lsn.parse(text))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("lsn: '" + text + "' (expected: X/Y, two groups of 1 to 8 hex digits)");
    }
  }
}
