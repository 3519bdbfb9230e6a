package io.scalestack.session;

import io.scalestack.session.internal.SessionIds;
import java.util.regex.Pattern;

/** What tests expect of a store session on the wire and in Redis: its cookie and its key. */
final class StoredSessions {

  static final String SET_COOKIE_FLAGS = "; Path=/; HttpOnly; SameSite=Lax";

  private StoredSessions() {}

  /** The Redis key of a session id, or of a cookie value (the id, a dot, the version). */
  static String key(String idOrCookie) {
    return RedisSessionRepository.key(idOrCookie.substring(0, SessionIds.ID_LENGTH));
  }

  /** The Set-Cookie header of this session id, with or without a version (see RedisSessionRepository). */
  static String sessionCookie(String id) {
    return sessionCookie("SESSION", id, SET_COOKIE_FLAGS);
  }

  /** The same for a cookie of another name and with other attributes. */
  static String sessionCookie(String name, String id, String flags) {
    return name + "=" + Pattern.quote(id) + "(\\.[0-9]+)?" + Pattern.quote(flags);
  }
}
