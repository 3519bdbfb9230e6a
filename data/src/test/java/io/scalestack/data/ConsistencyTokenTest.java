package io.scalestack.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConsistencyTokenTest {

  @Test
  void aNewTokenHasNoWriteAndRoundTripsThroughTheEmptyString() {
    ConsistencyToken token = ConsistencyToken.create();

    assertThat(token.lsn()).isEqualTo(Lsn.ZERO);
    assertThat(token).hasToString("");
    assertThat(ConsistencyToken.parse("").lsn()).isEqualTo(Lsn.ZERO);
  }

  @Test
  void onlyMovesForward() {
    ConsistencyToken token = ConsistencyToken.create();

    token.advanceTo(Lsn.parse("0/3000148"));
    token.advanceTo(Lsn.parse("0/3000100"));

    assertThat(token.lsn()).isEqualTo(Lsn.parse("0/3000148"));
    token.advanceTo(Lsn.parse("1/0"));
    assertThat(token.lsn()).isEqualTo(Lsn.parse("1/0"));
  }

  @Test
  void survivesASessionStoreAsText() {
    ConsistencyToken token = ConsistencyToken.create();
    token.advanceTo(Lsn.parse("2A/10"));

    assertThat(ConsistencyToken.parse(token.toString()).lsn()).isEqualTo(Lsn.parse("2A/10"));
  }
}
