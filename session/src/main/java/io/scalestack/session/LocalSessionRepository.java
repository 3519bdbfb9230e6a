package io.scalestack.session;

import io.scalestack.session.internal.AttributeValues;
import io.scalestack.session.internal.SessionIds;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The {@code local} session strategy: sessions in this web server's memory, the stateful baseline
 * of the seeds (and, behind a balancer's sticky cookie, the {@code sticky} strategy). Fast — no
 * network at all — but a session lives and dies with its server: a request that reaches another
 * server finds nothing, and killing the server loses every session on it. {@code scalestack
 * experiment sessions} measures exactly that against the other strategies.
 *
 * <p>Semantics match {@link RedisSessionRepository}: saves apply only the changed attributes, on
 * the stored copy, atomically per session (two requests changing different attributes keep both
 * changes); a save of a session that is gone is dropped; {@link #changeId} moves a session
 * atomically; the access is recorded on every {@link #findForRequest} (it costs nothing here).
 *
 * <p>Memory is bounded: at most {@linkplain Builder#maxSessions max sessions} are kept (Tomcat's
 * {@code maxActiveSessions}); a new session beyond that fails with a {@link
 * SessionStoreException} after expired ones were swept. Expired sessions are removed when found,
 * and all of them by a sweep that runs every {@link #SWEEP_EVERY_SAVES} saves of new sessions,
 * on the saving thread (amortized, as Caffeine does its maintenance), or by {@link
 * #sweepExpired()}; no thread of its own.
 *
 * <p>Thread-safe: one {@link ConcurrentHashMap}, each session changed under its map entry.
 */
public final class LocalSessionRepository implements SessionRepository {

  /** New sessions between two sweeps of expired ones. */
  static final int SWEEP_EVERY_SAVES = 1024;

  private final ConcurrentHashMap<String, SessionData> sessions = new ConcurrentHashMap<>();
  private final SessionIds ids = new SessionIds();
  private final Clock clock;
  private final int maxSessions;
  private final AtomicInteger newSinceSweep = new AtomicInteger();

  private LocalSessionRepository(Builder builder) {
    this.clock = builder.clock;
    this.maxSessions = builder.maxSessions;
  }

  /** A repository with the defaults: system clock, at most 1,000,000 sessions. */
  public static LocalSessionRepository create() {
    return builder().build();
  }

  /** A builder with the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SessionData create(Instant now, Duration maxInactiveInterval) {
    return SessionData.newSession(ids.next(), now, maxInactiveInterval);
  }

  @Override
  public Optional<SessionData> find(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return Optional.empty();
    }
    SessionData stored = sessions.get(id);
    return stored == null ? Optional.empty() : Optional.of(stored.copy(stored.lastAccessedTime()));
  }

  @Override
  public Optional<SessionData> findForRequest(String id, Instant now) {
    Objects.requireNonNull(now, "now");
    if (!SessionIds.isWellFormed(id)) {
      return Optional.empty();
    }
    SessionData found = sessions.computeIfPresent(id, (key, stored) -> {
      if (stored.isExpired(now)) {
        return null;
      }
      // the stored copy's values are its own already: only the access time changes here
      return now.isAfter(stored.lastAccessedTime())
          ? new SessionData(key, stored.creationTime(), now, stored.maxInactiveInterval(), stored.attributes())
          : stored;
    });
    // the caller gets its own maps and lists: a change in place reaches this store only through save
    return found == null ? Optional.empty() : Optional.of(found.copy(found.lastAccessedTime()));
  }

  @Override
  public Optional<String> save(SessionData session, Set<String> changedAttributeNames, boolean isNew) {
    Objects.requireNonNull(session, "session");
    Objects.requireNonNull(changedAttributeNames, "changedAttributeNames");
    if (!SessionIds.isWellFormed(session.id())) {
      throw new IllegalArgumentException("session id: " + SessionIds.redact(session.id())
          + " (expected: an id created by this repository)");
    }
    if (isNew) {
      if (newSinceSweep.incrementAndGet() >= SWEEP_EVERY_SAVES) {
        sweepExpired();
      }
      if (sessions.size() >= maxSessions) {
        sweepExpired();
        if (sessions.size() >= maxSessions) {
          throw new SessionStoreException("local session store: " + sessions.size()
              + " sessions stored (maxSessions: " + maxSessions + "); the new session was not stored");
        }
      }
      sessions.put(session.id(), session.copy(session.lastAccessedTime()));
      return Optional.of(session.id());
    }
    SessionData merged = sessions.computeIfPresent(session.id(), (key, stored) -> {
      // the delta on the stored copy: another request's changes to other attributes survive
      Map<String, Object> attributes = new LinkedHashMap<>(stored.attributes());
      for (String name : changedAttributeNames) {
        Object value = session.attributes().get(name);
        if (value == null) {
          attributes.remove(name);
        } else {
          attributes.put(name, AttributeValues.copy(value));
        }
      }
      return new SessionData(key, stored.creationTime(), session.lastAccessedTime(),
          session.maxInactiveInterval(), attributes);
    });
    return merged == null ? Optional.empty() : Optional.of(session.id());
  }

  @Override
  public void delete(String id) {
    if (SessionIds.isWellFormed(id)) {
      sessions.remove(id);
    }
  }

  @Override
  public Optional<String> changeId(String id) {
    if (!SessionIds.isWellFormed(id)) {
      return Optional.empty();
    }
    String newId = ids.next();
    // remove first: from here on the old id finds nothing; the new one is unguessable and unused
    SessionData moved = sessions.remove(id);
    if (moved == null) {
      return Optional.empty();
    }
    sessions.put(newId, new SessionData(newId, moved.creationTime(), moved.lastAccessedTime(),
        moved.maxInactiveInterval(), moved.attributes()));
    return Optional.of(newId);
  }

  @Override
  public int deleteAllOf(String principal) {
    Objects.requireNonNull(principal, "principal");
    int deleted = 0;
    for (Iterator<Map.Entry<String, SessionData>> it = sessions.entrySet().iterator(); it.hasNext(); ) {
      if (principal.equals(it.next().getValue().attributes().get(PRINCIPAL_ATTRIBUTE))) {
        it.remove();
        deleted++;
      }
    }
    return deleted;
  }

  /** Removes every session expired by this repository's clock; returns how many. */
  public int sweepExpired() {
    newSinceSweep.set(0);
    Instant now = clock.instant();
    int removed = 0;
    for (Iterator<Map.Entry<String, SessionData>> it = sessions.entrySet().iterator(); it.hasNext(); ) {
      if (it.next().getValue().isExpired(now)) {
        it.remove();
        removed++;
      }
    }
    return removed;
  }

  /** Sessions stored now, expired ones not yet swept included. */
  public int size() {
    return sessions.size();
  }

  /** Drops every session (what a server's death does to them). */
  @Override
  public void close() {
    sessions.clear();
  }

  @Override
  public String toString() {
    return "LocalSessionRepository[" + sessions.size() + " sessions, maxSessions=" + maxSessions + "]";
  }


  /** Builds a {@link LocalSessionRepository}. Not thread-safe; validates each setting when set. */
  public static final class Builder {
    private Clock clock = Clock.systemUTC();
    private int maxSessions = 1_000_000;

    private Builder() {}

    /** The clock of {@link #sweepExpired()}: the same as the filter's. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The most sessions kept at once (default 1,000,000). */
    public Builder maxSessions(int maxSessions) {
      if (maxSessions < 1) {
        throw new IllegalArgumentException("maxSessions: " + maxSessions + " (expected: >= 1)");
      }
      this.maxSessions = maxSessions;
      return this;
    }

    public LocalSessionRepository build() {
      return new LocalSessionRepository(this);
    }
  }
}
