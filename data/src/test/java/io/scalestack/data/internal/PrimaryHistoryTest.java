package io.scalestack.data.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrimaryHistoryTest {

  @Test
  void aReplicaThatReplayedTheNewestSampleHasNoLag() {
    PrimaryHistory history = new PrimaryHistory(10_000);
    history.record(1_000, 100);
    history.record(1_100, 200);

    assertThat(history.lagMillis(200, 5_000)).isZero();
    assertThat(history.lagMillis(250, 5_000)).isZero();
  }

  @Test
  void lagIsMeasuredFromTheNewestSampleTheReplicaHasReached() {
    PrimaryHistory history = new PrimaryHistory(10_000);
    history.record(1_000, 100);
    history.record(1_100, 200);
    history.record(1_200, 300);

    assertThat(history.lagMillis(250, 1_300)).isEqualTo(200); // had all of 1_100, not all of 1_200
    assertThat(history.lagMillis(100, 1_300)).isEqualTo(300);
    assertThat(history.lagMillis(50, 1_300)).isEqualTo(300); // behind every sample: at least since the oldest
  }

  @Test
  void anIdlePrimaryKeepsOneSampleWithItsNewestTime() {
    PrimaryHistory history = new PrimaryHistory(10_000);
    history.record(1_000, 100);
    history.record(2_000, 100);
    history.record(3_000, 100);
    history.record(3_100, 200);

    assertThat(history.lagMillis(100, 3_200)).isEqualTo(200);
  }

  @Test
  void dropsSamplesOlderThanTheRetentionButKeepsAReference() {
    PrimaryHistory history = new PrimaryHistory(1_000);
    history.record(0, 100);
    history.record(500, 200);
    history.record(5_000, 300);
    history.record(5_100, 400);

    assertThat(history.lagMillis(150, 5_200)).isEqualTo(5_200 - 5_000);
    assertThat(history.newestLsn()).isEqualTo(400);
  }
}
