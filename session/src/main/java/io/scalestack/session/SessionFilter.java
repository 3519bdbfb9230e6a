package io.scalestack.session;

import io.scalestack.session.internal.RequestSessions;
import io.scalestack.session.internal.SessionCookie;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Servlet {@link Filter} that replaces the container's {@link jakarta.servlet.http.HttpSession}
 * with one backed by a {@link SessionRepository}, so that a web server keeps no user state in
 * memory and any server can answer any request (the approach of Spring Session's {@code
 * SessionRepositoryFilter}).
 *
 * <p>Map it first, on {@code /*}, for {@code REQUEST} dispatches. Applications then use the
 * standard Servlet API only: {@code request.getSession()}, {@code getSession(false)}, {@code
 * session.setAttribute/getAttribute/removeAttribute}, {@code request.changeSessionId()} (call it
 * on login: the old id stops working at once, defeating session fixation) and {@code
 * session.invalidate()} (on logout: the session is deleted from the store and the cookie
 * expired).
 *
 * <p>Behaviour:
 *
 * <ul>
 *   <li>The session is looked up on the first {@code getSession} call only; a cookie that is
 *       unknown, expired, malformed or oversized simply means no session, never an error.
 *   <li>Changed attributes only, plus the access time and TTL, are saved before the response is
 *       committed and at the end of the request; concurrent requests on one session that change
 *       different attributes keep each other's changes.
 *   <li>The cookie ({@code Path=/; HttpOnly; SameSite=Lax}, plus {@code Secure} when configured)
 *       is sent only when the value the client must hold changed — a session was created, its
 *       id changed, or (with {@link RedisSessionRepository}'s near cache, which puts the session's
 *       version after the id) it was written — and expired ({@code Max-Age=0}) after {@code
 *       invalidate()}.
 *   <li>Attribute values are {@code String}, {@code Long}, {@code Integer}, {@code Boolean},
 *       {@code Double}, or JSON documents of them ({@code Map} with String keys, {@code List});
 *       others are rejected by {@code setAttribute} with an {@link IllegalArgumentException}
 *       (see {@link SessionRepository} on why there is no Java serialization). A map or list
 *       changed in place after {@code getAttribute} is saved without another {@code setAttribute}.
 *   <li>If the store is down, {@code getSession} (or the end of the request) throws {@link
 *       SessionStoreException} within the store's timeout.
 *   <li>Only the initial dispatch of an asynchronous request is covered: changes made after it
 *       returns are saved only if the response writes a body afterwards.
 * </ul>
 *
 * <p>The filter does not close the repository: its owner does.
 *
 * <p>Immutable and thread-safe; each request gets its own session state.
 */
public final class SessionFilter implements Filter {

  private static final String APPLIED = SessionFilter.class.getName() + ".applied";

  private final SessionRepository repository;
  private final SessionCookie cookie;
  private final Duration maxInactiveInterval;
  private final Clock clock;

  private SessionFilter(Builder builder) {
    this.repository = builder.repository;
    this.cookie = new SessionCookie(builder.cookieName, builder.cookieSecure);
    this.maxInactiveInterval = builder.maxInactiveInterval;
    this.clock = builder.clock;
  }

  /** A builder; {@link Builder#repository} must be set. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    if (!(request instanceof HttpServletRequest httpRequest)
        || !(response instanceof HttpServletResponse httpResponse)
        || request.getAttribute(APPLIED) != null) {
      chain.doFilter(request, response);
      return;
    }
    request.setAttribute(APPLIED, Boolean.TRUE);
    RequestSessions sessions = new RequestSessions(httpRequest, httpResponse, repository, cookie,
        maxInactiveInterval, clock);
    Throwable failure = null;
    try {
      chain.doFilter(sessions.request(), sessions.response());
    } catch (IOException | ServletException | RuntimeException | Error e) {
      failure = e;
      throw e;
    } finally {
      try {
        sessions.commit();
      } catch (RuntimeException e) {
        if (failure == null) {
          throw e;
        }
        failure.addSuppressed(e);
      } finally {
        request.removeAttribute(APPLIED);
      }
    }
  }

  /** The repository sessions live in. */
  public SessionRepository repository() {
    return repository;
  }

  /** The session cookie's name. */
  public String cookieName() {
    return cookie.name();
  }

  /** The max inactive interval of new sessions. */
  public Duration maxInactiveInterval() {
    return maxInactiveInterval;
  }

  @Override
  public String toString() {
    return "SessionFilter[repository=" + repository + ", cookieName=" + cookie.name()
        + ", maxInactiveInterval=" + maxInactiveInterval + "]";
  }

  /** Configures a {@link SessionFilter}. Not thread-safe; the filter it builds is. */
  public static final class Builder {

    private SessionRepository repository;
    private String cookieName = "SESSION";
    private Duration maxInactiveInterval = Duration.ofMinutes(30);
    private boolean cookieSecure;
    private Clock clock = Clock.systemUTC();

    private Builder() {}

    /** Where sessions live. Required. */
    public Builder repository(SessionRepository repository) {
      this.repository = Objects.requireNonNull(repository, "repository");
      return this;
    }

    /** The session cookie's name, an RFC 6265 token; {@code SESSION} unless set. */
    public Builder cookieName(String cookieName) {
      Objects.requireNonNull(cookieName, "cookieName");
      if (!SessionCookie.isValidName(cookieName)) {
        throw new IllegalArgumentException("cookieName: '" + cookieName
            + "' (expected: a token of letters, digits and !#$%&'*+-.^_`|~)");
      }
      this.cookieName = cookieName;
      return this;
    }

    /**
     * How long a new session lives without a request (whole seconds; the store's TTL); 30
     * minutes unless set.
     */
    public Builder maxInactiveInterval(Duration maxInactiveInterval) {
      Objects.requireNonNull(maxInactiveInterval, "maxInactiveInterval");
      if (maxInactiveInterval.toSeconds() < 1 || maxInactiveInterval.toSeconds() > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("maxInactiveInterval: " + maxInactiveInterval
            + " (expected: 1 s to " + Integer.MAX_VALUE + " s)");
      }
      this.maxInactiveInterval = Duration.ofSeconds(maxInactiveInterval.toSeconds());
      return this;
    }

    /** Whether the cookie carries {@code Secure} (sent over HTTPS only); false unless set. */
    public Builder cookieSecure(boolean cookieSecure) {
      this.cookieSecure = cookieSecure;
      return this;
    }

    /** The clock for creation and access times and expiry; the system UTC clock unless set. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * The filter.
     *
     * @throws IllegalStateException if no repository was set
     */
    public SessionFilter build() {
      if (repository == null) {
        throw new IllegalStateException("repository: not set (expected: a SessionRepository,"
            + " for example RedisSessionRepository.create(\"redis://127.0.0.1:16379\"))");
      }
      return new SessionFilter(this);
    }
  }
}
