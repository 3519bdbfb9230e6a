package io.scalestack.app.internal;

import io.scalestack.app.internal.UserRepository.Credentials;
import io.scalestack.app.internal.UserRepository.User;
import io.scalestack.data.ConsistencyToken;
import io.scalestack.session.SessionRepository;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The account endpoints: signup, login, logout and the caller's own profile.
 *
 * <p>The server keeps no user state: who is logged in lives only in the session (attribute
 * {@value #USER_ID}), which the session filter keeps in the shared store, and the profile lives
 * only in PostgreSQL. Any server behind the balancer can answer any request. Thread-safe.
 */
final class UserApi {

  /** The session attribute naming the logged-in user's id, a {@link Long}. */
  static final String USER_ID = "userId";

  /**
   * The session attribute holding the user's {@link ConsistencyToken} (its text): the database
   * position of their login and last write, so that their reads on any web server, served by any
   * replica, see their own writes.
   */
  static final String DB_TOKEN = "dbToken";

  /**
   * The session attribute holding the shard map version the user's last write was routed by: a
   * server that has not seen that map yet (a resharding's cut-over a moment ago) refreshes first,
   * so the user never reads an old shard's copy of what they wrote on the new one.
   */
  static final String DB_MAP = "dbMap";

  /** One answer for every failed login, so it never tells which part was wrong. */
  static final String LOGIN_FAILED = "The username or password is incorrect.";

  static final String NOT_LOGGED_IN = "You are not logged in.";

  private static final Pattern POSSIBLE_USERNAME = Pattern.compile("[a-z0-9_]{3,32}");

  private static final List<Field> SIGNUP_FIELDS =
      List.of(Field.USERNAME_FIELD, Field.NEW_PASSWORD, Field.DISPLAY_NAME);
  private static final List<Field> LOGIN_FIELDS = List.of(Field.LOGIN_USERNAME, Field.LOGIN_PASSWORD);
  private static final List<Field> PROFILE_FIELDS = List.of(Field.DISPLAY_NAME, Field.BIO);

  /** The body of a successful signup. */
  record SignedUp(long id, String username, String displayName) {}

  private static final Logger log = LoggerFactory.getLogger(UserApi.class);

  private final UserRepository users;
  private final HotProfiles profiles;
  private final PasswordHasher passwords;
  private final SessionRepository sessions;
  private final int maxRequestBodyBytes;

  UserApi(UserRepository users, HotProfiles profiles, PasswordHasher passwords, SessionRepository sessions,
      int maxRequestBodyBytes) {
    this.users = users;
    this.profiles = profiles;
    this.passwords = passwords;
    this.sessions = sessions;
    this.maxRequestBodyBytes = maxRequestBodyBytes;
  }

  /** {@code POST /api/signup {"username","password","displayName"}}: 201, or 409 when taken. */
  void signup(HttpServletRequest request, HttpServletResponse response) throws Exception {
    JsonRequest body = JsonRequest.read(request, maxRequestBodyBytes, SIGNUP_FIELDS);
    String username = body.string(Field.USERNAME_FIELD);
    String password = body.string(Field.NEW_PASSWORD);
    String displayName = body.string(Field.DISPLAY_NAME);
    String hash = passwords.hash(password);
    User user =
        users
            .create(ConsistencyToken.create(), username, hash, displayName)
            .orElseThrow(
                () ->
                    new ApiException(
                        HttpServletResponse.SC_CONFLICT,
                        "username: " + JsonRequest.quote(username) + " is already taken",
                        "username"));
    Json.write(
        response,
        HttpServletResponse.SC_CREATED,
        new SignedUp(user.id(), user.username(), user.displayName()));
  }

  /**
   * {@code POST /api/login {"username","password"}}: 200 with the profile and a new session, or
   * 401 with {@link #LOGIN_FAILED} whatever was wrong.
   */
  void login(HttpServletRequest request, HttpServletResponse response) throws Exception {
    JsonRequest body = JsonRequest.read(request, maxRequestBodyBytes, LOGIN_FIELDS);
    String username = body.string(Field.LOGIN_USERNAME);
    String password = body.string(Field.LOGIN_PASSWORD);
    // A name that signup could never have accepted is an unknown user: no query, same bcrypt time.
    ConsistencyToken token = ConsistencyToken.create();
    Optional<Credentials> credentials =
        POSSIBLE_USERNAME.matcher(username).matches() ? users.credentials(token, username) : Optional.empty();
    if (!passwords.verify(password, credentials.map(Credentials::passwordHash))) {
      throw ApiException.unauthorized(LOGIN_FAILED);
    }
    User user = credentials.orElseThrow().user();
    // Session fixation (OWASP): never promote a session the client brought. Drop it, with any
    // attributes of a previous login, and start one with a fresh id.
    HttpSession previous = request.getSession(false);
    if (previous != null) {
      previous.invalidate();
    }
    HttpSession session = request.getSession(true);
    session.setAttribute(USER_ID, user.id());
    // names the session's user, so that "log out everywhere" finds every session of it
    session.setAttribute(SessionRepository.PRINCIPAL_ATTRIBUTE, Long.toString(user.id()));
    session.setAttribute(DB_TOKEN, token.toString());
    session.setAttribute(DB_MAP, users.mapVersion());
    Json.write(response, HttpServletResponse.SC_OK, user);
  }

  /** {@code POST /api/logout}: 204, whether or not there was a session. */
  void logout(HttpServletRequest request, HttpServletResponse response) {
    HttpSession session = request.getSession(false);
    if (session != null) {
      session.invalidate();
    }
    response.setStatus(HttpServletResponse.SC_NO_CONTENT);
  }

  /**
   * {@code POST /api/logout-everywhere}: ends every session of the caller's user, on every web
   * server and device (this one included); 204, or 401 without a session.
   */
  void logoutEverywhere(HttpServletRequest request, HttpServletResponse response) {
    long userId = loggedInUser(request);
    int ended = sessions.deleteAllOf(Long.toString(userId));
    log.info("user {}: logged out everywhere, {} sessions ended", userId, ended);
    response.setStatus(HttpServletResponse.SC_NO_CONTENT);
  }

  /** {@code GET /api/me}: the caller's profile, or 401 without a session. */
  void me(HttpServletRequest request, HttpServletResponse response) throws Exception {
    long userId = loggedInUser(request);
    User user = users.find(token(request), userId).orElseThrow(() -> staleSession(request));
    Json.write(response, HttpServletResponse.SC_OK, user);
  }

  /**
   * {@code GET /api/users/{id}}: anyone's public profile, for a logged-in caller; 404 for an
   * unknown user. Hot users are served from this server's copy (see {@link HotProfiles}); the
   * response says where it came from in {@code X-Read-From}.
   */
  void profile(HttpServletRequest request, HttpServletResponse response) throws Exception {
    loggedInUser(request);
    String path = request.getPathInfo() == null ? "" : request.getPathInfo();
    long id = parseId(path.startsWith("/") ? path.substring(1) : path);
    if (id <= 0) {
      throw ApiException.badRequest("id", "id: " + JsonRequest.quote(path.startsWith("/") ? path.substring(1) : path)
          + " (expected: a user id, a positive integer)");
    }
    HotProfiles.Answer answer = profiles.read(token(request), id);
    response.setHeader("X-Read-From", answer.source().label);
    User user = answer.user().orElseThrow(() ->
        new ApiException(HttpServletResponse.SC_NOT_FOUND, "id: " + id + " (expected: an existing user)", "id"));
    Json.write(response, HttpServletResponse.SC_OK, user);
  }

  /** The id in a path, or -1 when it is not a decimal long. */
  private static long parseId(String text) {
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** {@code PUT /api/me {"displayName","bio"}}: replaces both and answers the updated profile. */
  void updateMe(HttpServletRequest request, HttpServletResponse response) throws Exception {
    long userId = loggedInUser(request);
    JsonRequest body = JsonRequest.read(request, maxRequestBodyBytes, PROFILE_FIELDS);
    String displayName = body.string(Field.DISPLAY_NAME);
    String bio = body.string(Field.BIO);
    ConsistencyToken token = token(request);
    User user =
        users.updateProfile(token, userId, displayName, bio).orElseThrow(() -> staleSession(request));
    profiles.invalidate(userId); // after the commit: a reader that loads now gets the new profile
    remember(request, token);
    Json.write(response, HttpServletResponse.SC_OK, user);
  }

  /** The logged-in caller's user id; 401 without a session. */
  static long loggedInUser(HttpServletRequest request) {
    HttpSession session = request.getSession(false);
    if (session != null && session.getAttribute(USER_ID) instanceof Number id) {
      return id.longValue();
    }
    throw ApiException.unauthorized(NOT_LOGGED_IN);
  }

  /**
   * The logged-in caller's consistency token (a fresh one for a session from before tokens), after
   * making sure this server routes by the shard map of the caller's last write.
   */
  ConsistencyToken token(HttpServletRequest request) throws java.sql.SQLException {
    HttpSession session = request.getSession(false);
    if (session != null && session.getAttribute(DB_MAP) instanceof Number version) {
      users.awaitMap(version.longValue());
    }
    if (session != null && session.getAttribute(DB_TOKEN) instanceof String text) {
      try {
        return ConsistencyToken.parse(text);
      } catch (IllegalArgumentException e) {
        log.warn("session attribute {}: unreadable ({}); reading without a consistency token", DB_TOKEN, e.getMessage());
      }
    }
    return ConsistencyToken.create();
  }

  /**
   * Remembers in the caller's session where their last write went ({@code token}, moved by it) and
   * by which shard map, so that their next reads, on any server, see it.
   */
  void remember(HttpServletRequest request, ConsistencyToken token) {
    HttpSession session = request.getSession(false);
    if (session != null) {
      session.setAttribute(DB_TOKEN, token.toString());
      session.setAttribute(DB_MAP, users.mapVersion());
    }
  }

  /** The session names a user that no longer exists: end it. */
  private static ApiException staleSession(HttpServletRequest request) {
    HttpSession session = request.getSession(false);
    if (session != null) {
      session.invalidate();
    }
    return ApiException.unauthorized(NOT_LOGGED_IN);
  }
}
