package io.scalestack.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.scalestack.engines.testing.TestEngines;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link RedisSessionRepository} against a real Redis. */
class RedisSessionRepositoryTest {

  private static final Duration THIRTY_MINUTES = Duration.ofMinutes(30);

  private static RedisClient adminClient;
  private static StatefulRedisConnection<String, String> adminConnection;
  private static RedisCommands<String, String> redis;

  private RedisSessionRepository repository;
  private final Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);

  @BeforeAll
  static void connectToRedis() {
    adminClient = RedisClient.create(TestEngines.redis().uri());
    adminConnection = adminClient.connect();
    redis = adminConnection.sync();
  }

  @AfterAll
  static void disconnectFromRedis() {
    adminConnection.close();
    adminClient.shutdown();
  }

  @BeforeEach
  void createRepository() {
    repository = RedisSessionRepository.create(TestEngines.redis().uri());
  }

  @AfterEach
  void closeRepository() {
    repository.close();
  }

  @Test
  void createMakesDistinctUrlSafeIdsOf256BitsAndStoresNothing() {
    SessionData one = repository.create(now, THIRTY_MINUTES);
    SessionData two = repository.create(now, THIRTY_MINUTES);

    assertThat(one.id()).matches("[A-Za-z0-9_-]{43}").isNotEqualTo(two.id());
    assertThat(redis.exists(key(one.id()))).isZero();
  }

  @Test
  void savedNewSessionIsFoundWithEveryAttributeTypeIntact() {
    SessionData session = new SessionData(repository.create(now, THIRTY_MINUTES).id(), now, now.plusSeconds(5),
        THIRTY_MINUTES, Map.of("name", "Zoë: s:1\n", "empty", "", "id", 42L, "count", -7, "admin", false));

    assertThat(repository.save(session, Set.of(), true)).contains(session.id() + ".1"); // with the version the client must see next

    assertThat(repository.find(session.id())).contains(session);
    assertThat(redis.hgetall(key(session.id()))).containsEntry("attr:id", "l:42").containsEntry("attr:count", "i:-7")
        .containsEntry("attr:admin", "b:false").containsEntry("attr:name", "s:Zoë: s:1\n").containsEntry("attr:empty", "s:");
  }

  @Test
  void saveOfAnExistingSessionWritesOnlyTheChangedAttributes() {
    SessionData session = saved(Map.of("a", "1", "b", "2", "c", "3"));
    redis.hset(key(session.id()), "attr:b", "s:written by another server");

    SessionData changed = new SessionData(session.id(), now, now.plusSeconds(60), THIRTY_MINUTES,
        Map.of("a", "one", "b", "2"));
    repository.save(changed, Set.of("a", "c"), false);

    assertThat(repository.find(session.id()).orElseThrow().attributes())
        .isEqualTo(Map.of("a", "one", "b", "written by another server"));
    assertThat(redis.hget(key(session.id()), "lastAccessedTime"))
        .isEqualTo(Long.toString(now.plusSeconds(60).toEpochMilli()));
  }

  @Test
  void findForRequestRecordsTheAccessOnlyOnceTheRecordingIntervalPassed() {
    SessionData session = saved(Map.of("user", "alice")); // last accessed at now, 30 minutes
    assertThat(SessionData.accessRecordingInterval(THIRTY_MINUTES)).isEqualTo(Duration.ofSeconds(60));
    redis.pexpire(key(session.id()), 10_000);

    SessionData early = repository.findForRequest(session.id(), now.plusSeconds(59)).orElseThrow();
    assertThat(early.lastAccessedTime()).isEqualTo(now);
    assertThat(redis.pttl(key(session.id()))).isLessThanOrEqualTo(10_000);

    SessionData due = repository.findForRequest(session.id(), now.plusSeconds(60)).orElseThrow();
    assertThat(due.lastAccessedTime()).isEqualTo(now.plusSeconds(60));
    assertThat(due.attributes()).isEqualTo(Map.of("user", "alice"));
    assertThat(redis.hget(key(session.id()), "lastAccessedTime")).isEqualTo(Long.toString(now.plusSeconds(60).toEpochMilli()));
    assertThat(redis.pttl(key(session.id()))).isGreaterThan(THIRTY_MINUTES.toMillis() - 5_000);
  }

  @Test
  void findForRequestDeletesASessionExpiredByTheCallersClock() {
    SessionData alive = saved(Map.of("user", "alice"));
    SessionData session = saved(Map.of("user", "bob"));

    // SessionData.isExpired's rule: expired once the whole interval has passed, not a millisecond before
    assertThat(repository.findForRequest(alive.id(), now.plus(THIRTY_MINUTES).minusMillis(1))).isPresent();
    assertThat(repository.findForRequest(session.id(), now.plus(THIRTY_MINUTES))).isEmpty();
    assertThat(redis.exists(key(session.id()))).isZero();
    assertThat(repository.findForRequest(session.id(), now)).isEmpty();
    assertThat(repository.findForRequest("A".repeat(1_000_000), now)).isEmpty();
  }

  @Test
  void accessRecordingIntervalIsAMinuteOrOnePercentButAtMostATenth() {
    assertThat(SessionData.accessRecordingInterval(Duration.ofHours(24))).isEqualTo(Duration.ofSeconds(864));
    assertThat(SessionData.accessRecordingInterval(Duration.ofMinutes(5))).isEqualTo(Duration.ofSeconds(30));
    assertThat(SessionData.accessRecordingInterval(Duration.ofSeconds(2))).isEqualTo(Duration.ofMillis(200));
    assertThat(SessionData.accessRecordingInterval(Duration.ZERO)).isEqualTo(Duration.ofSeconds(60));
  }

  @Test
  void aNewSessionWithThousandsOfAttributesIsWrittenWhole() {
    Map<String, Object> attributes = new HashMap<>();
    for (int i = 0; i < 3000; i++) {
      attributes.put("a" + i, (long) i);
    }
    SessionData session = saved(attributes);

    assertThat(repository.find(session.id()).orElseThrow().attributes()).isEqualTo(attributes);
    Set<String> removed = new HashSet<>(attributes.keySet());
    // the id, and the version the client must see next (near cache): the second write
    assertThat(repository.save(new SessionData(session.id(), now, now, THIRTY_MINUTES, Map.of()), removed, false))
        .contains(session.id() + ".2");
    assertThat(repository.find(session.id()).orElseThrow().attributes()).isEmpty();
  }

  @Test
  void saveOfASessionThatIsGoneDropsTheChangesInsteadOfResurrectingIt() {
    SessionData session = saved(Map.of("user", "alice"));
    repository.delete(session.id()); // a logout on another server

    Optional<String> result = repository.save(session, Set.of("user"), false);

    assertThat(result).isEmpty();
    assertThat(redis.exists(key(session.id()))).isZero();
  }

  @Test
  void saveSetsTheTtlToTheMaxInactiveIntervalOrNoneWhenItIsNotPositive() {
    SessionData expiring = saved(Map.of());
    SessionData forever = new SessionData(expiring.id(), now, now, Duration.ZERO, Map.of());

    assertThat(redis.pttl(key(expiring.id()))).isBetween(1L, THIRTY_MINUTES.toMillis());
    repository.save(forever, Set.of(), false);
    assertThat(redis.pttl(key(expiring.id()))).isEqualTo(-1); // exists, no TTL
    redis.del(key(expiring.id()));
  }

  @Test
  void changeIdMovesTheSessionWithItsTtlAndTheOldIdFindsNothing() {
    SessionData session = saved(Map.of("user", "alice"));
    redis.pexpire(key(session.id()), 120_000);

    String newId = repository.changeId(session.id()).orElseThrow();

    assertThat(newId).isNotEqualTo(session.id()).matches("[A-Za-z0-9_-]{43}");
    assertThat(repository.find(session.id())).isEmpty();
    assertThat(repository.find(newId).orElseThrow().attributes()).isEqualTo(Map.of("user", "alice"));
    assertThat(redis.pttl(key(newId))).isBetween(1L, 120_000L);
  }

  @Test
  void changeIdKeepsTheIdsFamilySoBothKeysShareAClusterSlot() {
    SessionData session = saved(Map.of("user", "alice"));

    String newId = repository.changeId(session.id()).orElseThrow();

    assertThat(newId).hasSize(43).startsWith(session.id().substring(0, 11)).isNotEqualTo(session.id());
    assertThat(newId.substring(11)).isNotEqualTo(session.id().substring(11));
    assertThat(key(newId)).startsWith("scalestack:session:{" + session.id().substring(0, 11) + "}");
    // Redis Cluster hashes only the {tag}: RENAME stays within one slot (no CROSSSLOT)
    assertThat(io.lettuce.core.cluster.SlotHash.getSlot(key(newId)))
        .isEqualTo(io.lettuce.core.cluster.SlotHash.getSlot(key(session.id())));
  }

  @Test
  void deleteAllOfAPrincipalDeletesEveryLiveSessionOfItAndNoOtherEvenAfterARotation() {
    SessionData phone = saved(Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "alice", "device", "phone"));
    SessionData laptop = saved(Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "alice", "device", "laptop"));
    SessionData bob = saved(Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "bob"));
    String rotated = repository.changeId(laptop.id()).orElseThrow();
    // a session that names alice no more (a new login on it) stays
    SessionData handedOver = saved(Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "alice"));
    repository.save(new SessionData(handedOver.id(), now, now, THIRTY_MINUTES,
        Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "carol")), Set.of(SessionRepository.PRINCIPAL_ATTRIBUTE), false);

    assertThat(repository.deleteAllOf("alice")).isEqualTo(2);

    assertThat(repository.find(phone.id())).isEmpty();
    assertThat(repository.find(rotated)).isEmpty();
    assertThat(repository.find(bob.id())).isPresent();
    assertThat(repository.find(handedOver.id())).isPresent();
    assertThat(repository.deleteAllOf("alice")).isZero();
  }

  @Test
  void aLoginPrunesThePrincipalsIndexOfSessionsThatAreGone() {
    SessionData first = saved(Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "dave"));
    repository.delete(first.id()); // expired or logged out
    SessionData second = saved(Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "dave"));

    assertThat(redis.smembers(RedisSessionRepository.PRINCIPAL_PREFIX + "dave")).containsExactly(second.id());
  }

  @Test
  void changeIdOfAnUnknownOrMalformedIdFindsNothingToMove() {
    String unknown = repository.create(now, THIRTY_MINUTES).id();

    assertThat(repository.changeId(unknown)).isEmpty();
    assertThat(repository.changeId("../../etc/passwd")).isEmpty();
  }

  @Test
  void findOfMalformedIdsAnswersNothingWithoutError() {
    assertThat(repository.find(null)).isEmpty();
    assertThat(repository.find("")).isEmpty();
    assertThat(repository.find("short")).isEmpty();
    assertThat(repository.find("+".repeat(43))).isEmpty();
    assertThat(repository.find("A".repeat(1_000_000))).isEmpty();
  }

  @Test
  void findTreatsStoredDataItCannotReadAsNoSession() {
    String unknownType = repository.create(now, THIRTY_MINUTES).id();
    redis.hset(key(unknownType), Map.of("creationTime", "1", "lastAccessedTime", "1", "maxInactiveInterval", "60",
        "attr:x", "java:rO0ABXNyABFqYXZhLnV0aWwuSGFzaE1hcA"));
    String missingField = repository.create(now, THIRTY_MINUTES).id();
    redis.hset(key(missingField), Map.of("lastAccessedTime", "1", "maxInactiveInterval", "60"));
    String badNumber = repository.create(now, THIRTY_MINUTES).id();
    redis.hset(key(badNumber), Map.of("creationTime", "1", "lastAccessedTime", "1", "maxInactiveInterval", "60",
        "attr:n", "l:12x"));

    assertThat(repository.find(unknownType)).isEmpty();
    assertThat(repository.find(missingField)).isEmpty();
    assertThat(repository.find(badNumber)).isEmpty();
    redis.del(key(unknownType), key(missingField), key(badNumber));
  }

  @Test
  void deleteRemovesTheHash() {
    SessionData session = saved(Map.of("user", "alice"));

    repository.delete(session.id());
    repository.delete("not an id");

    assertThat(redis.exists(key(session.id()))).isZero();
  }

  @Test
  void sessionDataRejectsUnsupportedAttributeTypes() {
    assertThatThrownBy(() -> new SessionData("id", now, now, THIRTY_MINUTES, Map.of("when", now)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("session attribute 'when': unsupported type java.time.Instant (expected: String, Long,"
            + " Integer, Boolean, Double, or a Map with String keys or a List of those)");
  }

  @Test
  void commandThatRedisDoesNotAnswerInTimeFailsWithAClearMessage() {
    try (RedisSessionRepository impatient = RedisSessionRepository.builder(TestEngines.redis().uri())
        .commandTimeout(Duration.ofMillis(200))
        .build()) {
      String id = saved(Map.of("user", "alice")).id();
      assertThat(impatient.find(id)).isPresent(); // connected

      redis.clientPause(2_000); // every client of this Redis now waits: a hung server, for real
      try {
        assertThatThrownBy(() -> impatient.find(id))
            .isInstanceOf(SessionStoreException.class)
            .hasMessageStartingWith("session store " + TestEngines.redis().uri() + ": HGETALL failed: ")
            .hasMessageContaining("timed out");
      } finally {
        redis.ping(); // returns once the pause is over
      }
      assertThat(impatient.find(id)).isPresent(); // the connection recovers by itself
    }
  }

  @Test
  void unreachableRedisFailsWithAClearMessage() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    try (RedisSessionRepository unreachable = RedisSessionRepository.create("redis://127.0.0.1:" + closedPort)) {
      String id = unreachable.create(now, THIRTY_MINUTES).id();

      assertThatThrownBy(() -> unreachable.find(id))
          .isInstanceOf(SessionStoreException.class)
          .hasMessageStartingWith("session store redis://127.0.0.1:" + closedPort + ": HGETALL failed: cannot connect: ");
      assertThatThrownBy(() -> unreachable.delete(id)) // and again: each use retries the connection
          .isInstanceOf(SessionStoreException.class)
          .hasMessageStartingWith("session store redis://127.0.0.1:" + closedPort + ": DEL failed: cannot connect: ");
    }
  }

  @Test
  void repositoryOnASharedClientLeavesTheClientOpen() {
    RedisClient shared = RedisClient.create(TestEngines.redis().uri());
    try {
      RedisSessionRepository onShared = RedisSessionRepository.create(shared);
      SessionData session = onShared.create(now, THIRTY_MINUTES);
      onShared.save(session, Set.of(), true);
      onShared.close();

      try (StatefulRedisConnection<String, String> stillWorks = shared.connect()) {
        assertThat(stillWorks.sync().exists(key(session.id()))).isOne();
      }
      assertThatThrownBy(() -> onShared.find(session.id()))
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("session store redis (shared client): HGETALL on a closed repository");
    } finally {
      shared.shutdown();
    }
  }

  @Test
  void credentialsInTheUriStayOutOfMessages() {
    try (RedisSessionRepository withPassword = RedisSessionRepository.create("redis://user:s3cret@127.0.0.1:1")) {
      assertThat(withPassword.toString()).isEqualTo("RedisSessionRepository[session store redis://***@127.0.0.1:1]");
    }
  }

  @Test
  void rejectsBadConfiguration() {
    assertThatThrownBy(() -> RedisSessionRepository.create("http://:pw@localhost"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("redisUri: 'http://***@localhost' (expected: redis://host:port, rediss://host:port,"
            + " redis-socket://path or redis-sentinel://host:port[,host:port]#primaryName)");
    assertThatThrownBy(() -> RedisSessionRepository.create("redis-sentinel://127.0.0.1:26379"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("redisUri: 'redis-sentinel://127.0.0.1:26379' (expected: ");
    assertThatThrownBy(() -> RedisSessionRepository.builder("redis://127.0.0.1").replicaAckTimeout(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("replicaAckTimeout: PT-0.001S (expected: >= 1 ms)");
    assertThatThrownBy(() -> RedisSessionRepository.builder("redis://127.0.0.1").commandTimeout(Duration.ofSeconds(1))
            .replicaAckTimeout(Duration.ofSeconds(1)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("replicaAckTimeout: PT1S (expected: < commandTimeout PT1S)");
    assertThatThrownBy(() -> RedisSessionRepository.builder("redis://127.0.0.1").commandTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("commandTimeout: PT0S (expected: >= 1 ms)");
  }

  @Test
  void acceptsASentinelUriAndDefaultsToAsynchronousDurability() {
    try (RedisSessionRepository viaSentinel = RedisSessionRepository.create("redis-sentinel://127.0.0.1:1,127.0.0.1:2#sessions")) {
      assertThat(viaSentinel.toString())
          .isEqualTo("RedisSessionRepository[session store redis-sentinel://127.0.0.1:1,127.0.0.1:2#sessions]");
      assertThat(viaSentinel.durability()).isEqualTo(RedisSessionRepository.Durability.ASYNC);
    }
  }

  @Test
  void replicaAckModeFailsAWriteNoReplicaAcknowledged() {
    // The shared test Redis has no replica: WAIT 1 times out with 0, and the write must not count as done.
    try (RedisSessionRepository strict = RedisSessionRepository.builder(TestEngines.redis().uri())
        .durability(RedisSessionRepository.Durability.REPLICA_ACK)
        .replicaAckTimeout(Duration.ofMillis(50))
        .build()) {
      SessionData session = strict.create(now, THIRTY_MINUTES);

      assertThatThrownBy(() -> strict.save(session, Set.of(), true))
          .isInstanceOf(SessionStoreException.class)
          .hasMessage("session store " + TestEngines.redis().uri() + ": EVALSHA (save) not acknowledged: 0 replicas"
              + " acknowledged the write within 50 ms (expected: >= 1, durability REPLICA_ACK); it is on the primary"
              + " only and may be lost if the primary fails");
      assertThatThrownBy(() -> strict.delete(session.id()))
          .isInstanceOf(SessionStoreException.class)
          .hasMessageStartingWith("session store " + TestEngines.redis().uri() + ": DEL not acknowledged: 0 replicas");
      assertThat(strict.find(session.id())).isEmpty(); // reads do not wait
    }
  }

  @Test
  void aBrokenConnectionIsReplacedByTheNextCall() {
    String id = saved(Map.of("user", "alice")).id();
    assertThat(repository.find(id)).isPresent();

    // Every other normal client's connection, ours included, as a server-side failure would; test
    // classes run one at a time, and the admin connection issuing it is spared.
    redis.clientKill(io.lettuce.core.KillArgs.Builder.typeNormal().skipme());

    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(repository.find(id)).isPresent());
  }

  @Test
  void aCopyIsServedWithoutARoundTripUntilAnotherClientChangesTheSession() {
    SessionData session = saved(Map.of("user", "alice"));
    assertThat(repository.findForRequest(session.id(), now).orElseThrow().attributes()).containsEntry("user", "alice");
    long before = evalshaCalls();

    assertThat(repository.findForRequest(session.id(), now).orElseThrow().attributes()).containsEntry("user", "alice");
    assertThat(evalshaCalls()).isEqualTo(before); // served by the copy

    redis.hset(key(session.id()), "attr:user", "s:bob"); // another client: Redis pushes an invalidation
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(repository.findForRequest(session.id(), now).orElseThrow().attributes()).containsEntry("user", "bob"));
  }

  @Test
  void aCookieNamingANewerVersionThanTheCopyReadsRedis() {
    SessionData session = saved(Map.of("user", "alice"));
    repository.findForRequest(session.id(), now); // the copy: version 1
    // another server wrote version 2 and told the client; this server's invalidation is late
    redis.hset(key(session.id()), Map.of("attr:user", "s:bob", "version", "2"));

    assertThat(repository.findForRequest(session.id() + ".2", now).orElseThrow().attributes()).containsEntry("user", "bob");
  }

  @Test
  void malformedVersionsInTheCookieGiveNoSession() {
    SessionData session = saved(Map.of("user", "alice"));

    assertThat(repository.findForRequest(session.id() + ".1", now)).isPresent();
    for (String bad : List.of(session.id() + ".", session.id() + ".x", session.id() + ".-1", session.id() + "..1",
        session.id() + ".1234567890123456789", session.id() + "1", session.id() + " 1")) {
      assertThat(repository.findForRequest(bad, now)).as(bad).isEmpty();
    }
  }

  @Test
  void copiesAreDroppedWhenTheConnectionIsLostAndTrackedAgainAfterReconnecting() {
    SessionData session = saved(Map.of("user", "alice"));
    repository.findForRequest(session.id(), now);
    assertThat(repository.nearCacheSize()).isOne();

    redis.clientKill(KillArgs.Builder.typeNormal().skipme()); // every connection but the admin's
    await().atMost(Duration.ofSeconds(5)).until(() -> repository.nearCacheSize() == 0);
    redis.hset(key(session.id()), "attr:user", "s:bob"); // no connection to push an invalidation on

    assertThat(repository.findForRequest(session.id(), now).orElseThrow().attributes()).containsEntry("user", "bob");
    redis.hset(key(session.id()), "attr:user", "s:carol"); // the new connection tracks the key
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() ->
        assertThat(repository.findForRequest(session.id(), now).orElseThrow().attributes()).containsEntry("user", "carol"));
  }

  @Test
  void concurrentWritesOfOneServerLeaveItsCopyAtTheNewestVersion() throws Exception {
    SessionData session = saved(Map.of());
    List<CompletableFuture<Optional<String>>> writes = new ArrayList<>();
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 200; i++) {
        String name = "a" + i;
        writes.add(CompletableFuture.supplyAsync(() -> repository.save(
            new SessionData(session.id(), now, now, THIRTY_MINUTES, Map.of(name, 1L)), Set.of(name), false), executor));
      }
      for (CompletableFuture<Optional<String>> write : writes) {
        write.get();
      }
    }

    // the copy (no round trip) holds every write: the replies came in any order, the newest won
    assertThat(repository.findForRequest(session.id(), now).orElseThrow().attributes()).hasSize(200);
    assertThat(redis.hget(key(session.id()), "version")).isEqualTo("201");
  }

  private static long evalshaCalls() {
    for (String line : redis.info("commandstats").split("\r?\n")) {
      if (line.startsWith("cmdstat_evalsha:")) {
        int start = line.indexOf("calls=") + "calls=".length();
        return Long.parseLong(line.substring(start, line.indexOf(',', start)));
      }
    }
    return 0;
  }

  private SessionData saved(Map<String, Object> attributes) {
    SessionData session = new SessionData(repository.create(now, THIRTY_MINUTES).id(), now, now, THIRTY_MINUTES,
        attributes);
    repository.save(session, Set.of(), true);
    return session;
  }

  private static String key(String id) {
    return RedisSessionRepository.key(id);
  }
}
