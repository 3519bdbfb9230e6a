package io.scalestack.balancer.internal;

import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The current backends by name, in the order they were added, and the choice of one for a
 * request.
 *
 * <p>Thread-safe: changes are serialized on {@code this}; {@link #all()} and {@link #select} read
 * an immutable snapshot without locking.
 */
final class Membership {

  private final BackendSelector selector;
  private final Map<String, Backend> byName = new LinkedHashMap<>();
  private volatile List<Backend> snapshot = List.of();

  Membership(BackendSelector selector) {
    this.selector = selector;
  }

  synchronized Backend get(String name) {
    return byName.get(name);
  }

  /** Adds {@code backend}, replacing any backend of the same name; returns the replaced one. */
  synchronized Backend put(Backend backend) {
    Backend previous = byName.remove(backend.name());
    byName.put(backend.name(), backend);
    snapshot = List.copyOf(byName.values());
    return previous;
  }

  /** Removes and returns the backend called {@code name}, or null. */
  synchronized Backend remove(String name) {
    Backend removed = byName.remove(name);
    if (removed != null) {
      snapshot = List.copyOf(byName.values());
    }
    return removed;
  }

  /** Every backend, in the order added. */
  List<Backend> all() {
    return snapshot;
  }

  /**
   * Called when the response head of {@code backend} to the request of {@code context} is about
   * to go to the client; lets routing add headers such as a sticky-session Set-Cookie; called on
   * the event loop.
   */
  void onResponse(RequestContext context, Backend backend, HttpResponse responseHead) {}

  /**
   * A selectable backend for the next attempt of a request: preferably one not in {@code tried}
   * (a retry goes to another backend when there is one), else any selectable one; null if none
   * is selectable.
   */
  Backend select(Set<Backend> tried, RequestContext request) {
    List<Backend> current = snapshot;
    List<Backend> fresh = new ArrayList<>(current.size());
    List<Backend> any = new ArrayList<>(current.size());
    for (Backend backend : current) {
      if (backend.selectable()) {
        any.add(backend);
        if (!tried.contains(backend)) {
          fresh.add(backend);
        }
      }
    }
    if (!fresh.isEmpty()) {
      return selector.select(fresh, request);
    }
    return any.isEmpty() ? null : selector.select(any, request);
  }
}
