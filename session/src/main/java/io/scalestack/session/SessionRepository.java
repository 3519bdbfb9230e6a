package io.scalestack.session;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;

/**
 * Where sessions live: the storage strategy behind a {@link SessionFilter}.
 *
 * <p>The filter owns the HTTP side (cookies, the {@link jakarta.servlet.http.HttpSession} view,
 * expiry by its clock, when to write); a repository only creates ids and stores, finds, renames
 * and deletes {@link SessionData}. The shared-store strategy is {@link RedisSessionRepository};
 * other strategies fit the same five operations: sticky sessions keep them in a map in each
 * server, session clustering replicates the {@code changedAttributeNames} of each {@link #save}
 * to peers, and a signed-cookie store returns the whole signed session as the id from {@link
 * #save} (the filter sends a new cookie whenever that value differs from the one the client
 * holds).
 *
 * <p><b>No Java serialization.</b> Attribute values are limited to {@link String}, {@link Long},
 * {@link Integer}, {@link Boolean}, {@link Double} and JSON documents of them ({@link java.util.Map}
 * with String keys, {@link java.util.List}), stored in a plain typed encoding. Deserializing Java
 * objects read from a shared store would let anyone who can write to that store run code in
 * every web server (a remote code execution risk), so no implementation may do it.
 *
 * <p>A repository is used concurrently by every request of a server (and, through the store, by
 * every server): implementations must be thread-safe. Its methods may block on the network;
 * call them from virtual threads or other blocking-friendly threads, never from an event loop.
 * Failures of the store surface as {@link SessionStoreException}.
 */
public interface SessionRepository extends AutoCloseable {

  /**
   * The attribute that names a session's user (a {@link String}, for example the user id), set by
   * the application at login: {@link #deleteAllOf} ends every session that carries it ("log out
   * everywhere"). Spring Session's {@code PRINCIPAL_NAME_INDEX_NAME} plays the same part.
   */
  String PRINCIPAL_ATTRIBUTE = "scalestack.principal";

  /**
   * Creates a session with a fresh, unguessable id. Nothing is stored until {@link #save} with
   * {@code isNew} set.
   */
  SessionData create(Instant now, Duration maxInactiveInterval);

  /**
   * Finds the session with this id, exactly as last saved.
   *
   * @param id a value from a client's cookie: untrusted, possibly malformed or huge
   * @return the session, or empty if the id is malformed, unknown or no longer stored (expired,
   *     deleted, renamed); never an error for a bad id
   * @throws SessionStoreException if the store cannot be reached or fails
   */
  Optional<SessionData> find(String id);

  /**
   * Finds the session with this id for a request arriving at {@code now}, and records that access
   * when {@link SessionData#accessRecordingInterval} has passed since the recorded one (its
   * {@code lastAccessedTime} and the store's expiry move to {@code now}), in one store call. A
   * session expired at {@code now} is deleted and not returned.
   *
   * @param id a value from a client's cookie: untrusted, possibly malformed or huge
   * @return the session as the request sees it (with the access recorded, if it was), or empty if
   *     the id is malformed, unknown, expired or no longer stored
   * @throws SessionStoreException if the store cannot be reached or fails
   */
  Optional<SessionData> findForRequest(String id, Instant now);

  /**
   * Writes what a request changed in a session.
   *
   * @param session the session's full state now
   * @param changedAttributeNames names of attributes set or removed since the session was found
   *     or last saved (a name absent from {@code session.attributes()} was removed); stores that
   *     write whole sessions may ignore it
   * @param isNew whether the session has never been stored under {@code session.id()}: the whole
   *     session is written, rather than only the changes
   * @return the value the client must present from now on (for a server-side store, {@code
   *     session.id()}, or — {@link RedisSessionRepository} with its near cache — the id with the
   *     version the client must see next), or empty if the session is not new and is no longer stored (it expired,
   *     was deleted or its id was changed meanwhile): the changes were dropped rather than
   *     bringing a partial session back to life
   * @throws SessionStoreException if the store cannot be reached or fails
   */
  Optional<String> save(SessionData session, Set<String> changedAttributeNames, boolean isNew);

  /**
   * Deletes the session with this id; does nothing if there is none or the id is malformed.
   *
   * @throws SessionStoreException if the store cannot be reached or fails
   */
  void delete(String id);

  /**
   * Moves a stored session to a fresh id, atomically: from the moment this returns the old id
   * finds nothing (session fixation defence).
   *
   * @return the new id, or empty if no session is stored under {@code id}
   * @throws SessionStoreException if the store cannot be reached or fails
   */
  Optional<String> changeId(String id);

  /**
   * Deletes every session whose {@link #PRINCIPAL_ATTRIBUTE} is {@code principal}, wherever it
   * was created: the user is logged out on every server and every device. A request already
   * holding one of these sessions cannot write it back (saves of a deleted session are dropped).
   *
   * @return how many sessions were deleted
   * @throws SessionStoreException if the store cannot be reached or fails
   */
  int deleteAllOf(String principal);

  /** Releases the repository's connections. Idempotent. */
  @Override
  void close();
}
