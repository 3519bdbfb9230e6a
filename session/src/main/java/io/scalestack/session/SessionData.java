package io.scalestack.session;

import io.scalestack.session.internal.AttributeValues;
import io.scalestack.session.internal.SessionIds;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A copy of one session's state as a {@link SessionRepository} stores it: what {@link
 * SessionRepository#find} returns and {@link SessionRepository#save} writes.
 *
 * <p>Attribute values are limited to {@link String}, {@link Long}, {@link Integer} and {@link
 * Boolean}, whatever the repository, so that an application behaves the same under every session
 * strategy; see {@link SessionRepository} for why Java serialization is not offered.
 *
 * <p>Immutable and thread-safe.
 *
 * @param id the session id, which is also the session cookie's value
 * @param creationTime when the session was created
 * @param lastAccessedTime when a request last used the session
 * @param maxInactiveInterval how long the session lives without a request; zero or negative means
 *     it never expires (as {@link jakarta.servlet.http.HttpSession#setMaxInactiveInterval} defines)
 * @param attributes the attributes by name, in no particular order
 */
public record SessionData(
    String id,
    Instant creationTime,
    Instant lastAccessedTime,
    Duration maxInactiveInterval,
    Map<String, Object> attributes) {

  /**
   * Validates and copies.
   *
   * @throws IllegalArgumentException if an attribute value is not one of the supported types
   */
  public SessionData {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(creationTime, "creationTime");
    Objects.requireNonNull(lastAccessedTime, "lastAccessedTime");
    Objects.requireNonNull(maxInactiveInterval, "maxInactiveInterval");
    Objects.requireNonNull(attributes, "attributes");
    Map<String, Object> copy = new LinkedHashMap<>(attributes);
    copy.forEach(AttributeValues::requireSupported);
    attributes = Collections.unmodifiableMap(copy);
  }

  /**
   * An independent copy, last accessed at {@code lastAccessedTime}: the JSON maps and lists among
   * the attributes are copied too, so that changing one copy's in place never changes the other
   * (an in-memory store hands out copies; a change reaches it only through a save).
   */
  public SessionData copy(Instant lastAccessedTime) {
    Map<String, Object> copied = new LinkedHashMap<>();
    attributes.forEach((name, value) -> copied.put(name, AttributeValues.copy(value)));
    return new SessionData(id, creationTime, lastAccessedTime, maxInactiveInterval, copied);
  }

  /** A session that has never been saved: no attributes, last accessed when it was created. */
  public static SessionData newSession(String id, Instant now, Duration maxInactiveInterval) {
    return new SessionData(id, now, now, maxInactiveInterval, Map.of());
  }

  /** The least time between two recorded accesses: one minute. */
  static final long MIN_ACCESS_RECORDING_MILLIS = 60_000;
  /** A recorded access is also at most every 1% of the max inactive interval, in per mille. */
  static final long ACCESS_RECORDING_PER_MILLE = 10;
  /** ... but never less often than every 10% of it, so a short interval still works. */
  static final long MAX_ACCESS_RECORDING_PER_MILLE = 100;

  /**
   * How often a request that only reads a session records its access (moves {@link
   * #lastAccessedTime()} and the store's expiry): once per max(60 s, 1% of the max inactive
   * interval), capped at 10% of it — once a minute for a 30-minute session. Recording every
   * access costs a store write per request; this way a read-only request writes nothing almost
   * always, and a session in use expires between 90% and 100% of its interval after its last
   * request instead of exactly at 100%.
   *
   * @param maxInactiveInterval the session's; zero or negative (never expires) gives one minute
   */
  public static Duration accessRecordingInterval(Duration maxInactiveInterval) {
    long timeoutMillis = maxInactiveInterval.toMillis();
    long interval = Math.max(MIN_ACCESS_RECORDING_MILLIS, timeoutMillis * ACCESS_RECORDING_PER_MILLE / 1000);
    if (timeoutMillis > 0) {
      interval = Math.min(interval, timeoutMillis * MAX_ACCESS_RECORDING_PER_MILLE / 1000);
    }
    return Duration.ofMillis(interval);
  }

  /**
   * Whether this session has expired at {@code now}: it has a positive {@link
   * #maxInactiveInterval()} and no request used it for that long.
   */
  public boolean isExpired(Instant now) {
    return maxInactiveInterval.isPositive()
        && !lastAccessedTime.plus(maxInactiveInterval).isAfter(now);
  }

  @Override
  public String toString() {
    // The id is a bearer credential: keep it out of logs and exception messages.
    return "SessionData[id=" + SessionIds.redact(id) + ", creationTime=" + creationTime
        + ", lastAccessedTime=" + lastAccessedTime + ", maxInactiveInterval=" + maxInactiveInterval
        + ", attributes=" + attributes.keySet() + "]";
  }
}
