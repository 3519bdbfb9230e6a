package io.scalestack.session.internal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpSession;

/**
 * The request the application sees: its sessions come from {@link RequestSessions}, never from
 * the container. Session ids travel only in the cookie (never in URLs, where they leak through
 * logs and {@code Referer}).
 *
 * <p>Thread-safe as far as sessions go (they delegate to {@link RequestSessions}).
 */
final class SessionRequest extends HttpServletRequestWrapper {

  private final RequestSessions sessions;

  SessionRequest(HttpServletRequest request, RequestSessions sessions) {
    super(request);
    this.sessions = sessions;
  }

  @Override
  public HttpSession getSession(boolean create) {
    return sessions.session(create);
  }

  @Override
  public HttpSession getSession() {
    return sessions.session(true);
  }

  @Override
  public String changeSessionId() {
    return sessions.changeId();
  }

  @Override
  public String getRequestedSessionId() {
    return sessions.requestedSessionId();
  }

  @Override
  public boolean isRequestedSessionIdValid() {
    return sessions.isRequestedSessionIdValid();
  }

  @Override
  public boolean isRequestedSessionIdFromCookie() {
    return sessions.requestedSessionId() != null;
  }

  @Override
  public boolean isRequestedSessionIdFromURL() {
    return false;
  }
}
