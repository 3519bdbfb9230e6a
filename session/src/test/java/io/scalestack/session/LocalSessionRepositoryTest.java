package io.scalestack.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LocalSessionRepositoryTest {

  private static final Duration TEN_MINUTES = Duration.ofMinutes(10);

  private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable resource : resources) {
      resource.close();
    }
  }

  @Test
  void savedSessionIsFoundAndEachRequestRecordsItsAccess() {
    LocalSessionRepository repository = LocalSessionRepository.builder().clock(clock).build();
    SessionData session = saved(repository, Map.of("user", "alice"));

    SessionData found = repository.findForRequest(session.id(), clock.instant().plusSeconds(5)).orElseThrow();

    assertThat(found.attributes()).isEqualTo(Map.of("user", "alice"));
    assertThat(found.lastAccessedTime()).isEqualTo(clock.instant().plusSeconds(5));
    assertThat(repository.find(session.id()).orElseThrow().lastAccessedTime()).isEqualTo(clock.instant().plusSeconds(5));
  }

  @Test
  void concurrentDeltasOnOneSessionKeepEachOthersAttributes() {
    LocalSessionRepository repository = LocalSessionRepository.create();
    SessionData session = saved(repository, Map.of("user", "alice"));
    // two requests loaded the same copy; each changes its own attribute
    SessionData first = new SessionData(session.id(), session.creationTime(), clock.instant(), TEN_MINUTES,
        Map.of("user", "alice", "a", "1"));
    SessionData second = new SessionData(session.id(), session.creationTime(), clock.instant(), TEN_MINUTES,
        Map.of("user", "alice", "b", "2"));

    repository.save(first, Set.of("a"), false);
    repository.save(second, Set.of("b"), false);

    assertThat(repository.find(session.id()).orElseThrow().attributes())
        .isEqualTo(Map.of("user", "alice", "a", "1", "b", "2"));
  }

  @Test
  void saveOfASessionThatIsGoneIsDroppedAndChangeIdLeavesTheOldIdEmpty() {
    LocalSessionRepository repository = LocalSessionRepository.create();
    SessionData session = saved(repository, Map.of("user", "alice"));

    String newId = repository.changeId(session.id()).orElseThrow();

    assertThat(repository.find(session.id())).isEmpty();
    assertThat(repository.find(newId).orElseThrow().attributes()).isEqualTo(Map.of("user", "alice"));
    assertThat(repository.save(session, Set.of("user"), false)).isEmpty();
    assertThat(repository.find(session.id())).isEmpty();
    assertThat(repository.changeId(session.id())).isEmpty();
  }

  @Test
  void expiredSessionsAreNotFoundAndAreSwept() {
    LocalSessionRepository repository = LocalSessionRepository.builder().clock(clock).build();
    SessionData expiring = saved(repository, Map.of("user", "alice"));
    saved(repository, Map.of("user", "bob"));
    clock.advance(TEN_MINUTES);

    assertThat(repository.findForRequest(expiring.id(), clock.instant())).isEmpty();
    assertThat(repository.size()).isEqualTo(1);
    assertThat(repository.sweepExpired()).isEqualTo(1);
    assertThat(repository.size()).isZero();
  }

  @Test
  void aFullStoreRefusesNewSessionsWithAClearErrorOnceNothingExpiredCanGo() {
    LocalSessionRepository repository = LocalSessionRepository.builder().clock(clock).maxSessions(2).build();
    saved(repository, Map.of());
    saved(repository, Map.of());

    assertThatThrownBy(() -> saved(repository, Map.of()))
        .isInstanceOf(SessionStoreException.class)
        .hasMessage("local session store: 2 sessions stored (maxSessions: 2); the new session was not stored");

    clock.advance(TEN_MINUTES);
    saved(repository, Map.of()); // the two expired ones are swept to make room
    assertThat(repository.size()).isEqualTo(1);
  }

  @Test
  void aListChangedInPlaceReachesTheStoreOnlyThroughASave() {
    LocalSessionRepository repository = LocalSessionRepository.create();
    SessionData session = saved(repository, Map.of("cart", new java.util.ArrayList<>(List.of("photo-1"))));

    SessionData found = repository.findForRequest(session.id(), clock.instant()).orElseThrow();
    @SuppressWarnings("unchecked")
    List<Object> cart = (List<Object>) found.attributes().get("cart");
    cart.add("photo-2");

    assertThat(repository.find(session.id()).orElseThrow().attributes().get("cart")).isEqualTo(List.of("photo-1"));
    repository.save(found, Set.of("cart"), false);
    assertThat(repository.find(session.id()).orElseThrow().attributes().get("cart"))
        .isEqualTo(List.of("photo-1", "photo-2"));
  }

  @Test
  void deleteAllOfAPrincipalDeletesOnlyItsSessions() {
    LocalSessionRepository repository = LocalSessionRepository.create();
    saved(repository, Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "alice"));
    saved(repository, Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "alice"));
    SessionData bob = saved(repository, Map.of(SessionRepository.PRINCIPAL_ATTRIBUTE, "bob"));

    assertThat(repository.deleteAllOf("alice")).isEqualTo(2);
    assertThat(repository.size()).isEqualTo(1);
    assertThat(repository.find(bob.id())).isPresent();
  }

  @Test
  void malformedIdsFindNothingAndBadSettingsAreRejected() {
    LocalSessionRepository repository = LocalSessionRepository.create();
    assertThat(repository.findForRequest("A".repeat(1_000_000), clock.instant())).isEmpty();
    assertThat(repository.find(null)).isEmpty();
    assertThatThrownBy(() -> LocalSessionRepository.builder().maxSessions(0))
        .hasMessage("maxSessions: 0 (expected: >= 1)");
  }

  @Test
  void withTheFilterASessionLivesOnlyOnTheServerThatCreatedIt() throws Exception {
    LocalSessionRepository repositoryA = LocalSessionRepository.create();
    LocalSessionRepository repositoryB = LocalSessionRepository.create();
    WebServer serverA = track(WebServer.start(SessionFilter.builder().repository(repositoryA).build()));
    WebServer serverB = track(WebServer.start(SessionFilter.builder().repository(repositoryB).build()));
    Browser browser = new Browser();

    browser.post(serverA, "/login?user=alice");

    assertThat(browser.get(serverA, "/me").body()).isEqualTo("alice");
    // the seeds' point: without stickiness the next server knows nothing of the user
    assertThat(browser.get(serverB, "/me").status()).isEqualTo(401);
    assertThat(repositoryA.size()).isEqualTo(1);
    assertThat(repositoryB.size()).isZero();
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }

  private SessionData saved(LocalSessionRepository repository, Map<String, Object> attributes) {
    SessionData session = new SessionData(repository.create(clock.instant(), TEN_MINUTES).id(), clock.instant(),
        clock.instant(), TEN_MINUTES, attributes);
    assertThat(repository.save(session, Set.of(), true)).contains(session.id());
    return session;
  }
}
