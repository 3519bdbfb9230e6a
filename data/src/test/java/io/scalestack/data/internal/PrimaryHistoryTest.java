package io.scalestack.data.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrimaryHistoryTest {

  /** A history with the given retention and samples: time, position, time, position, ... */
  private static PrimaryHistory history(long retentionMillis, long... timeAndLsn) {
    PrimaryHistory history = new PrimaryHistory(retentionMillis);
    for (int i = 0; i < timeAndLsn.length; i += 2) {
      history.record(timeAndLsn[i], timeAndLsn[i + 1]);
    }
    return history;
  }

  @Test
  void aReplicaThatReplayedTheNewestSampleHasNoLag() {
    PrimaryHistory history = history(10_000, 1_000, 100, 1_100, 200);

    assertThat(history.lagMillis(200, 5_000)).isZero();
    assertThat(history.lagMillis(250, 5_000)).isZero();
  }

  @Test
  void lagIsMeasuredFromTheNewestSampleTheReplicaHasReached() {
    PrimaryHistory history = history(10_000, 1_000, 100, 1_100, 200, 1_200, 300);

    assertThat(history.lagMillis(250, 1_300)).isEqualTo(200); // had all of 1_100, not all of 1_200
    assertThat(history.lagMillis(100, 1_300)).isEqualTo(300);
    assertThat(history.lagMillis(50, 1_300)).isEqualTo(300); // behind every sample: at least since the oldest
  }

  @Test
  void anIdlePrimaryKeepsOneSampleWithItsNewestTime() {
    PrimaryHistory history = history(10_000, 1_000, 100, 2_000, 100, 3_000, 100, 3_100, 200);

    assertThat(history.lagMillis(100, 3_200)).isEqualTo(200);
  }

  @Test
  void dropsSamplesOlderThanTheRetentionButKeepsAReference() {
    PrimaryHistory history = history(1_000, 0, 100, 500, 200, 5_000, 300, 5_100, 400);

    assertThat(history.lagMillis(150, 5_200)).isEqualTo(5_200 - 5_000);
    assertThat(history.newestLsn()).isEqualTo(400);
  }
}
