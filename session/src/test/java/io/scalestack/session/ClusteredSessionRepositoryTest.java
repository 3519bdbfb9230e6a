package io.scalestack.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.scalestack.session.ClusteredSessionRepository.Replication;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Session clustering over real JGroups TCP connections on loopback, members discovered through files. */
class ClusteredSessionRepositoryTest {

  private static final Duration TEN_MINUTES = Duration.ofMinutes(10);

  @TempDir Path discovery;
  private final List<ClusteredSessionRepository> members = new ArrayList<>();
  private final Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);

  @AfterEach
  void leave() {
    members.forEach(ClusteredSessionRepository::close);
  }

  @Test
  void withBackupEverySessionHasTwoCopiesAndIsFoundFromAnyMember() {
    List<ClusteredSessionRepository> cluster = cluster(3, Replication.BACKUP);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      ids.add(saved(cluster.get(i % 3), Map.of("user", "u" + i)).id());
    }

    for (int i = 0; i < ids.size(); i++) {
      for (ClusteredSessionRepository member : cluster) {
        assertThat(member.find(ids.get(i)).orElseThrow().attributes()).isEqualTo(Map.of("user", "u" + i));
      }
    }
    assertThat(cluster.stream().mapToInt(ClusteredSessionRepository::localSessions).sum()).isEqualTo(2 * ids.size());
    assertThat(cluster).allSatisfy(member -> assertThat(member.localSessions()).isLessThan(ids.size()));
  }

  @Test
  void withAllEveryMemberHoldsEverySessionAndReadsLocally() {
    List<ClusteredSessionRepository> cluster = cluster(3, Replication.ALL);
    SessionData session = saved(cluster.get(0), Map.of("user", "alice"));

    assertThat(cluster).allSatisfy(member -> assertThat(member.localSessions()).isEqualTo(1));
    long sentBefore = cluster.get(2).messagesSent();
    assertThat(cluster.get(2).find(session.id()).orElseThrow().attributes()).isEqualTo(Map.of("user", "alice"));
    assertThat(cluster.get(2).messagesSent()).isEqualTo(sentBefore);
  }

  @Test
  void aMemberLeavingLosesNoSessionAndTheSurvivorsRestoreTwoCopies() {
    List<ClusteredSessionRepository> cluster = cluster(3, Replication.BACKUP);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ids.add(saved(cluster.get(i % 3), Map.of("n", (long) i)).id());
    }

    cluster.get(1).close();
    members.remove(cluster.get(1));
    List<ClusteredSessionRepository> survivors = List.of(cluster.get(0), cluster.get(2));
    await().atMost(Duration.ofSeconds(10)).until(() -> survivors.stream().allMatch(m -> m.members() == 2));

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(survivors.stream().mapToInt(ClusteredSessionRepository::localSessions).sum()).isEqualTo(200));
    for (int i = 0; i < ids.size(); i++) {
      assertThat(survivors.get(i % 2).find(ids.get(i)).orElseThrow().attributes()).isEqualTo(Map.of("n", (long) i));
    }
  }

  @Test
  void aJoiningMemberGetsItsShareAndEveryoneStillFindsEverySession() {
    List<ClusteredSessionRepository> cluster = new ArrayList<>(cluster(2, Replication.BACKUP));
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ids.add(saved(cluster.get(i % 2), Map.of("n", (long) i)).id());
    }

    ClusteredSessionRepository third = member("web-3", Replication.BACKUP);
    cluster.add(third);
    await().atMost(Duration.ofSeconds(10)).until(() -> cluster.stream().allMatch(m -> m.members() == 3));

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(third.localSessions()).isGreaterThan(30);
      assertThat(cluster.stream().mapToInt(ClusteredSessionRepository::localSessions).sum()).isEqualTo(200);
    });
    for (String id : ids) {
      assertThat(third.find(id)).isPresent();
    }
  }

  @Test
  void deltasFromTwoMembersOnOneSessionKeepEachOthersAttributes() {
    List<ClusteredSessionRepository> cluster = cluster(3, Replication.BACKUP);
    SessionData session = saved(cluster.get(0), Map.of("user", "alice"));

    cluster.get(1).save(new SessionData(session.id(), now, now, TEN_MINUTES, Map.of("user", "alice", "a", "1")),
        Set.of("a"), false);
    cluster.get(2).save(new SessionData(session.id(), now, now, TEN_MINUTES, Map.of("user", "alice", "b", "2")),
        Set.of("b"), false);

    for (ClusteredSessionRepository member : cluster) {
      assertThat(member.find(session.id()).orElseThrow().attributes())
          .isEqualTo(Map.of("user", "alice", "a", "1", "b", "2"));
    }
  }

  @Test
  void changeIdMovesTheSessionAndDeleteRemovesEveryCopy() {
    List<ClusteredSessionRepository> cluster = cluster(3, Replication.BACKUP);
    SessionData session = saved(cluster.get(0), Map.of("user", "alice"));

    String newId = cluster.get(1).changeId(session.id()).orElseThrow();

    assertThat(cluster.get(2).find(session.id())).isEmpty();
    assertThat(cluster.get(2).find(newId).orElseThrow().attributes()).isEqualTo(Map.of("user", "alice"));
    cluster.get(2).delete(newId);
    assertThat(cluster).allSatisfy(member -> assertThat(member.find(newId)).isEmpty());
    assertThat(cluster.stream().mapToInt(ClusteredSessionRepository::localSessions).sum()).isZero();
    // a delta for a session that is gone is dropped, not turned into a partial session
    assertThat(cluster.get(0).save(session, Set.of("user"), false)).isEmpty();
  }

  @Test
  void findForRequestExpiresAndRecordsAccessOncePerInterval() {
    List<ClusteredSessionRepository> cluster = cluster(2, Replication.BACKUP);
    SessionData session = saved(cluster.get(0), Map.of("user", "alice"));

    assertThat(cluster.get(1).findForRequest(session.id(), now.plusSeconds(30)).orElseThrow().lastAccessedTime())
        .isEqualTo(now);
    assertThat(cluster.get(1).findForRequest(session.id(), now.plusSeconds(61)).orElseThrow().lastAccessedTime())
        .isEqualTo(now.plusSeconds(61));
    assertThat(cluster.get(0).find(session.id()).orElseThrow().lastAccessedTime()).isEqualTo(now.plusSeconds(61));
    assertThat(cluster.get(0).findForRequest(session.id(), now.plusSeconds(61).plus(TEN_MINUTES))).isEmpty();
    assertThat(cluster.get(1).find(session.id())).isEmpty();
  }

  @Test
  void withTheFilterAUserLoggedInOnOneServerIsKnownOnTheOthers() throws Exception {
    List<ClusteredSessionRepository> cluster = cluster(3, Replication.BACKUP);
    List<WebServer> servers = new ArrayList<>();
    try {
      for (ClusteredSessionRepository member : cluster) {
        servers.add(WebServer.start(SessionFilter.builder().repository(member).build()));
      }
      Browser browser = new Browser();
      browser.post(servers.get(0), "/login?user=alice");
      browser.post(servers.get(1), "/set?name=cart&type=long&value=3");

      assertThat(browser.get(servers.get(2), "/me").body()).isEqualTo("alice");
      assertThat(browser.get(servers.get(0), "/get?name=cart").body()).isEqualTo("Long:3");
      browser.post(servers.get(2), "/logout");
      assertThat(browser.get(servers.get(1), "/me").status()).isEqualTo(401);
    } finally {
      servers.forEach(WebServer::close);
    }
  }

  @Test
  void deleteAllOfAPrincipalReachesEveryMemberAndCountsEachSessionOnce() {
    List<ClusteredSessionRepository> cluster = cluster(3, Replication.BACKUP);
    List<String> alice = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      alice.add(saved(cluster.get(i % 3), Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "alice")).id());
    }
    SessionData bob = saved(cluster.get(0), Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "bob"));

    assertThat(cluster.get(1).deleteAllOf("alice")).isEqualTo(12);

    for (String id : alice) {
      assertThat(cluster.get(2).find(id)).isEmpty();
    }
    assertThat(cluster.get(2).find(bob.id())).isPresent();
    assertThat(cluster.stream().mapToInt(ClusteredSessionRepository::localSessions).sum()).isEqualTo(2);
  }

  @Test
  void rejectsIncompleteSettings() {
    assertThatThrownBy(() -> ClusteredSessionRepository.builder().discoveryDirectory(discovery).build())
        .hasMessage("memberName: not set (expected: this server's unique name)");
    assertThatThrownBy(() -> ClusteredSessionRepository.builder().memberName("web-1").build())
        .hasMessage("discovery: not set (expected: discoveryDirectory or initialHosts)");
    assertThatThrownBy(() -> ClusteredSessionRepository.builder().bind("127.0.0.1", 70_000))
        .hasMessage("bindPort: 70000 (expected: 0..65535)");
  }

  private List<ClusteredSessionRepository> cluster(int size, Replication replication) {
    List<ClusteredSessionRepository> cluster = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      cluster.add(member("web-" + i, replication));
    }
    await().atMost(Duration.ofSeconds(15)).until(() -> cluster.stream().allMatch(m -> m.members() == size));
    return cluster;
  }

  private ClusteredSessionRepository member(String name, Replication replication) {
    ClusteredSessionRepository member = ClusteredSessionRepository.builder()
        .memberName(name)
        .clusterName("test-" + discovery.getFileName())
        .replication(replication)
        .discoveryDirectory(discovery)
        .build();
    members.add(member);
    return member;
  }

  private SessionData saved(ClusteredSessionRepository member, Map<String, Object> attributes) {
    SessionData session = new SessionData(member.create(now, TEN_MINUTES).id(), now, now, TEN_MINUTES, attributes);
    assertThat(member.save(session, Set.of(), true)).contains(session.id());
    return session;
  }
}
