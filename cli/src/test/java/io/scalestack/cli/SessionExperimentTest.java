package io.scalestack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/**
 * {@code scalestack experiment sessions} on real topologies, small: what the seeds say about each
 * strategy must come out of the run — the store and the cluster lose no session when a web server
 * is killed with -9, sticky sessions lose the killed server's share.
 */
class SessionExperimentTest {

  private static final int USERS = 30;

  private final StringWriter log = new StringWriter();

  @Test
  void storeLosesNoSessionOnKillAndCostsLessThanOneRoundTripPerRequest() throws Exception {
    SessionExperiment.Row store = run("store");

    assertThat(store.lostOnKill()).isZero();
    assertThat(store.failedRequests()).isZero();
    assertThat(store.lostOnScaleIn()).isZero();
    // every GET /api/me reads the session: from Redis (one EVALSHA) the first time a server sees
    // it, from that server's near-cache copy after (INFO commandstats)
    assertThat(store.roundTripsPerRequest()).isGreaterThan(0).isLessThan(1.0);
    // copies only, at most one per session and server
    assertThat(store.sessionsHeld().values()).allMatch(held -> held <= store.loggedIn())
        .anyMatch(held -> held > 0);
  }

  @Test
  void stickyLosesTheKilledServersSessions() throws Exception {
    SessionExperiment.Row sticky = run("sticky");

    // round robin pinned about a third of the users to web-2
    assertThat(sticky.lostOnKill()).isBetween((long) (USERS * 0.1), (long) (USERS * 0.6));
    assertThat(sticky.failedDuringKill()).isPositive();
    assertThat(sticky.roundTripsPerRequest()).isZero();
  }

  @Test
  void clusteredWithBackupLosesNoSessionOnKillOrScaleIn() throws Exception {
    SessionExperiment.Row clustered = run("clustered-backup");

    assertThat(clustered.lostOnKill()).isZero();
    assertThat(clustered.failedRequests()).isZero();
    assertThat(clustered.lostOnScaleIn()).isZero();
    // two copies of each session over three servers
    assertThat(clustered.sessionsHeld().values().stream().mapToLong(Long::longValue).sum())
        .isEqualTo(2L * clustered.loggedIn());
  }

  private SessionExperiment.Row run(String strategy) throws Exception {
    SessionExperiment.Row row = new SessionExperiment(strategy, USERS, 1, new PrintWriter(log, true)).run();
    StringWriter table = new StringWriter();
    SessionExperiment.print(java.util.List.of(row), USERS, 1, new PrintWriter(table, true));
    System.out.print(table);
    return row;
  }
}
