package io.scalestack.session.internal;

import io.scalestack.session.SessionData;
import io.scalestack.session.SessionRepository;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The session state of one HTTP request: which session the client asked for, which one the
 * request uses, what must be written to the repository and which cookie must be sent.
 *
 * <p>Lifecycle: the requested session is looked up lazily, on the first {@link
 * #session(boolean)} (requests that never touch the session cost no store call), in one store
 * call that also records the access when it is due; a request that only reads the session makes
 * no other. Changes are
 * written at a <em>commit point</em>: before the first response byte leaves after a change
 * ({@link #beforeCommit()}, called by the response wrapper on every write, flush, error and
 * redirect), and at the end of the request ({@link #commit()}). Saving before the response is
 * committed matters twice: the {@code Set-Cookie} header can only go out then, and a client that
 * already has the response may send its next request to another server, which must see the
 * changes.
 *
 * <p>The cookie follows the value the client holds: it is set when the value the repository
 * answered for the stored session (its id, or for a versioning store the id and the version)
 * differs from the one the client sent (a new session, a changed id, a new version) and expired
 * after {@code invalidate()}.
 *
 * <p>Not API. Thread-safe: one lock guards the state (a request may hand its session to other
 * threads); store calls run under it, so a request's own threads see its writes in order.
 */
public final class RequestSessions {

  private static final Logger log = LoggerFactory.getLogger(RequestSessions.class);

  private final HttpServletRequest request;
  private final HttpServletResponse response;
  private final SessionRepository repository;
  private final SessionCookie cookie;
  private final Duration maxInactiveInterval;
  private final Clock clock;
  private final SessionRequest requestWrapper;
  private final SessionResponse responseWrapper;

  final ReentrantLock lock = new ReentrantLock();
  /* Something to write before the response commits; read without the lock on every write. */
  private volatile boolean pending;

  // All below guarded by lock.
  private boolean resolved;
  private List<String> requestedIds;
  private String requestedId;
  private boolean requestedIdValid;
  private StoreSession current;
  /* The session id the client holds, as far as this request knows: sent, or last set by us. */
  private String clientId;
  private boolean expireCookie;
  private String lastSetCookie;
  private boolean storeFailed;

  /**
   * The session state of {@code request}, with sessions in {@code repository} identified by
   * {@code cookie}; new sessions get {@code maxInactiveInterval}; time comes from {@code clock}.
   */
  public RequestSessions(HttpServletRequest request, HttpServletResponse response,
      SessionRepository repository, SessionCookie cookie, Duration maxInactiveInterval,
      Clock clock) {
    this.request = request;
    this.response = response;
    this.repository = repository;
    this.cookie = cookie;
    this.maxInactiveInterval = maxInactiveInterval;
    this.clock = clock;
    this.requestWrapper = new SessionRequest(request, this);
    this.responseWrapper = new SessionResponse(response, this);
  }

  /** The request to pass down the filter chain: its sessions are this object's. */
  public HttpServletRequest request() {
    return requestWrapper;
  }

  /** The response to pass down the filter chain: it commits sessions before it commits. */
  public HttpServletResponse response() {
    return responseWrapper;
  }

  /**
   * Writes what is left to write: the session's changes and the cookie. Called once the chain
   * has returned or thrown.
   *
   * @throws io.scalestack.session.SessionStoreException if the store fails
   */
  public void commit() {
    lock.lock();
    try {
      flush();
    } finally {
      lock.unlock();
    }
  }

  /** {@link HttpServletRequest#getSession(boolean)}. */
  HttpSession session(boolean create) {
    lock.lock();
    try {
      if (current != null) {
        return current;
      }
      resolve();
      if (current != null || !create) {
        return current;
      }
      if (response.isCommitted()) {
        throw new IllegalStateException(
            "cannot create a session: the response is already committed, so the session cookie"
                + " could not be sent");
      }
      Instant now = now();
      current = new StoreSession(this, repository.create(now, maxInactiveInterval), true, false);
      expireCookie = false;
      pending = true;
      return current;
    } finally {
      lock.unlock();
    }
  }

  /** {@link HttpServletRequest#changeSessionId()}. */
  String changeId() {
    lock.lock();
    try {
      StoreSession session = current;
      if (session == null) {
        resolve();
        session = current;
      }
      if (session == null) {
        throw new IllegalStateException("changeSessionId: no session is associated with this"
            + " request");
      }
      if (response.isCommitted()) {
        throw new IllegalStateException("changeSessionId: the response is already committed, so"
            + " the new session id could not be sent");
      }
      String newId;
      if (session.stored) {
        Optional<String> moved = repository.changeId(session.id);
        if (moved.isPresent()) {
          newId = moved.get();
          session.cookieValue = newId; // stored under it already: the cookie goes out next flush
        } else {
          // Gone meanwhile (expired, or a concurrent logout): store what this request holds
          // under the new id rather than failing the login that is rotating the id.
          log.debug("session {}: gone before its id could be changed; storing it anew",
              SessionIds.redact(session.id));
          newId = repository.create(now(), maxInactiveInterval).id();
          session.stored = false;
        }
      } else {
        newId = repository.create(now(), maxInactiveInterval).id(); // nothing stored to move
      }
      session.id = newId;
      session.gone = false;
      requestedIdValid = false;
      pending = true;
      return newId;
    } finally {
      lock.unlock();
    }
  }

  /** {@link HttpServletRequest#getRequestedSessionId()}. */
  String requestedSessionId() {
    lock.lock();
    try {
      if (requestedId == null) {
        List<String> ids = requestedIds();
        return ids.isEmpty() ? null : ids.get(0);
      }
      return requestedId;
    } finally {
      lock.unlock();
    }
  }

  /** {@link HttpServletRequest#isRequestedSessionIdValid()}. */
  boolean isRequestedSessionIdValid() {
    lock.lock();
    try {
      resolve();
      return requestedIdValid;
    } finally {
      lock.unlock();
    }
  }

  /** Called by {@link StoreSession#invalidate()} with the lock held. */
  void invalidate(StoreSession session) {
    if (session.stored && !session.gone) {
      repository.delete(session.id); // first: if the store fails, the session stays valid
    }
    session.valid = false;
    if (current == session) {
      current = null;
    }
    requestedIdValid = false;
    if (clientId != null) {
      expireCookie = true;
      pending = true;
    }
  }

  /** Called by {@link StoreSession} with the lock held when it has something to save. */
  void changed() {
    pending = true;
  }

  /** Called by the response wrapper before anything that may commit the response. */
  void beforeCommit() {
    if (pending) {
      commit();
    }
  }

  /** Called by the response wrapper after {@code reset()}, which drops every header. */
  void afterReset() {
    lock.lock();
    try {
      if (lastSetCookie != null) {
        response.addHeader("Set-Cookie", lastSetCookie);
      }
    } finally {
      lock.unlock();
    }
  }

  HttpServletRequest servletRequest() {
    return request;
  }

  Instant now() {
    // Stores keep milliseconds; truncating here keeps what a request sees equal to what is stored.
    return clock.instant().truncatedTo(ChronoUnit.MILLIS);
  }

  private List<String> requestedIds() {
    if (requestedIds == null) {
      requestedIds = cookie.values(request);
    }
    return requestedIds;
  }

  private void resolve() {
    if (resolved) {
      return;
    }
    List<String> ids = requestedIds();
    Instant now = now();
    for (String id : ids) {
      // one store call: the lookup, expiry by this filter's clock, and the access recorded when due
      // (SessionData.accessRecordingInterval), so a read-only request writes nothing more
      Optional<SessionData> found = repository.findForRequest(id, now);
      if (found.isEmpty()) {
        continue;
      }
      current = new StoreSession(this, found.get(), false, true);
      current.cookieValue = id; // what the client holds is current: no new cookie unless a save says so
      requestedId = id; // what the client sent, as getRequestedSessionId reports it before a lookup too
      requestedIdValid = true;
      clientId = id;
      break;
    }
    if (current == null && !ids.isEmpty()) {
      clientId = ids.get(0); // a stale cookie: a new session replaces it
    }
    resolved = true; // only once the store answered: after a store failure, the next call retries
  }

  private void flush() {
    pending = false;
    StoreSession session = current;
    if (session != null && session.needsSave() && !session.gone && !storeFailed) {
      Optional<String> saved;
      // a write moves the store's expiry anyway: it records the access too
      session.touch(now());
      try {
        saved = repository.save(session.snapshot(), session.changedNames(), !session.stored);
      } catch (RuntimeException e) {
        storeFailed = true; // do not wait for a failing store again at the end of the request
        throw e;
      }
      if (saved.isPresent()) {
        session.saved(saved.get());
      } else {
        session.gone = true;
      }
    }
    if (session != null && session.stored && !session.gone
        && !session.cookieValue.equals(clientId)) {
      sendCookie(cookie.set(session.cookieValue, request));
      clientId = session.cookieValue;
      expireCookie = false;
    } else if (expireCookie) {
      sendCookie(cookie.expire(request));
      clientId = null;
      expireCookie = false;
    }
  }

  private void sendCookie(String header) {
    if (response.isCommitted()) {
      log.warn("session cookie not sent for {} {}: the response was already committed",
          request.getMethod(), request.getRequestURI());
      return;
    }
    response.addHeader("Set-Cookie", header);
    lastSetCookie = header;
  }
}
