package io.scalestack.session.internal;

import io.scalestack.session.SessionData;
import jakarta.servlet.ServletContext;
import jakarta.servlet.http.HttpSession;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The {@link HttpSession} a request sees: a working copy of the stored session that records
 * which attributes changed, so that only those are written back.
 *
 * <p>Attribute values are limited to {@link String}, {@link Long}, {@link Integer} and {@link
 * Boolean}: {@link #setAttribute} rejects anything else with an {@link IllegalArgumentException}.
 * No {@code HttpSessionBindingListener} or {@code HttpSessionListener} events are sent (no
 * supported value type can listen).
 *
 * <p>Thread-safe: every method takes the owning {@link RequestSessions}' lock. Changes made after
 * the request ended are not saved.
 */
final class StoreSession implements HttpSession {

  private final RequestSessions owner;
  private final Instant creationTime;
  private final Map<String, Object> attributes;
  private final Set<String> changed = new LinkedHashSet<>();
  /* Maps and lists handed out by getAttribute, with their encoding then: changed if it differs later. */
  private final Map<String, String> handedOut = new HashMap<>();
  private final boolean isNew;

  // Guarded by owner.lock; written by RequestSessions as well.
  String id;
  /* The id the client must present, as the repository last answered; null until first saved. */
  String cookieValue;
  /* Stored under id at least once. */
  boolean stored;
  /* Found gone by a save (expired, invalidated or renamed elsewhere): nothing more is written. */
  boolean gone;
  boolean valid = true;
  private Instant lastAccessedTime;
  private int maxInactiveSeconds;
  private boolean metadataChanged;

  StoreSession(RequestSessions owner, SessionData data, boolean isNew, boolean stored) {
    this.owner = owner;
    this.id = data.id();
    this.creationTime = data.creationTime();
    this.lastAccessedTime = data.lastAccessedTime();
    this.maxInactiveSeconds = (int) Math.min(Integer.MAX_VALUE, data.maxInactiveInterval().toSeconds());
    this.attributes = new HashMap<>(data.attributes());
    this.isNew = isNew;
    this.stored = stored;
    this.cookieValue = stored ? data.id() : null;
  }

  @Override
  public String getId() {
    owner.lock.lock();
    try {
      return id;
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public long getCreationTime() {
    owner.lock.lock();
    try {
      requireValid("getCreationTime");
      return creationTime.toEpochMilli();
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public long getLastAccessedTime() {
    owner.lock.lock();
    try {
      requireValid("getLastAccessedTime");
      return lastAccessedTime.toEpochMilli();
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public ServletContext getServletContext() {
    return owner.servletRequest().getServletContext();
  }

  @Override
  public void setMaxInactiveInterval(int interval) {
    owner.lock.lock();
    try {
      if (interval != maxInactiveSeconds) {
        maxInactiveSeconds = interval;
        metadataChanged = true;
        owner.changed();
      }
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public int getMaxInactiveInterval() {
    owner.lock.lock();
    try {
      return maxInactiveSeconds;
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public Object getAttribute(String name) {
    owner.lock.lock();
    try {
      requireValid("getAttribute");
      Object value = attributes.get(name);
      if (AttributeValues.isMutable(value) && !changed.contains(name)
          && handedOut.putIfAbsent(name, AttributeValues.encode(value)) == null) {
        // the caller may change it in place: compare at the commit point, save if it differs
        owner.changed();
      }
      return value;
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public Enumeration<String> getAttributeNames() {
    owner.lock.lock();
    try {
      requireValid("getAttributeNames");
      return Collections.enumeration(new ArrayList<>(attributes.keySet()));
    } finally {
      owner.lock.unlock();
    }
  }

  /**
   * Sets an attribute; {@code null} removes it (as the Servlet specification says).
   *
   * @throws IllegalArgumentException if {@code value} is not of a type {@link AttributeValues} supports
   */
  @Override
  public void setAttribute(String name, Object value) {
    Objects.requireNonNull(name, "name");
    if (value == null) {
      removeAttribute(name);
      return;
    }
    AttributeValues.requireSupported(name, value);
    owner.lock.lock();
    try {
      requireValid("setAttribute");
      Object previous = attributes.put(name, value);
      // a map or list set again may be the same object, changed in place: always written
      if (AttributeValues.isMutable(value) || !value.equals(previous)) {
        changed.add(name);
        handedOut.remove(name);
        owner.changed();
      }
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public void removeAttribute(String name) {
    Objects.requireNonNull(name, "name");
    owner.lock.lock();
    try {
      requireValid("removeAttribute");
      if (attributes.remove(name) != null) {
        changed.add(name);
        handedOut.remove(name);
        owner.changed();
      }
    } finally {
      owner.lock.unlock();
    }
  }

  /** Deletes the session from the store now, and expires the cookie with the response. */
  @Override
  public void invalidate() {
    owner.lock.lock();
    try {
      requireValid("invalidate");
      owner.invalidate(this);
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public boolean isNew() {
    owner.lock.lock();
    try {
      requireValid("isNew");
      return isNew;
    } finally {
      owner.lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "StoreSession[id=" + SessionIds.redact(id) + "]";
  }

  // The methods below are called by RequestSessions with the lock held.

  void touch(Instant now) {
    lastAccessedTime = now;
    metadataChanged = true;
  }

  boolean needsSave() {
    return !stored || metadataChanged || !changed.isEmpty() || !changedInPlace().isEmpty();
  }

  // the handed-out maps and lists whose encoding is not what it was
  private Set<String> changedInPlace() {
    Set<String> names = new LinkedHashSet<>();
    handedOut.forEach((name, before) -> {
      Object now = attributes.get(name);
      if (now != null && !AttributeValues.encode(now).equals(before)) {
        names.add(name);
      }
    });
    return names;
  }

  SessionData snapshot() {
    return new SessionData(id, creationTime, lastAccessedTime,
        Duration.ofSeconds(maxInactiveSeconds), attributes);
  }

  Set<String> changedNames() {
    Set<String> names = new LinkedHashSet<>(changed);
    names.addAll(changedInPlace());
    return Set.copyOf(names);
  }

  void saved(String newCookieValue) {
    stored = true;
    cookieValue = newCookieValue;
    changed.clear();
    metadataChanged = false;
    // what is stored now is the baseline for changes made after this commit point
    handedOut.replaceAll((name, before) -> {
      Object now = attributes.get(name);
      return now == null ? before : AttributeValues.encode(now);
    });
  }

  private void requireValid(String method) {
    if (!valid) {
      throw new IllegalStateException(method + ": the session has been invalidated");
    }
  }
}
