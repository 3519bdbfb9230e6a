package io.scalestack.app.internal;

import io.scalestack.cache.CacheLoadException;
import io.scalestack.cache.TieredCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.HotKeys;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * Public profile reads ({@code GET /api/users/{id}}) with the celebrity problem handled: every
 * read is counted in a {@link HotKeys} sketch, and while a user is hot (by default at least 10%
 * of this server's profile reads, of at least 50) their profile is served from a copy in this server's memory,
 * loaded from a replica at most once per {@code hotTtl} (one load per key at a time; the others
 * wait for it), never from the primary. Other profiles are read with the reader's consistency
 * token: a replica that has the reader's own last write, else the primary — so a reader who just
 * wrote sends those reads to the primary, which for a celebrity's millions of readers is what
 * overloads it.
 *
 * <p>The trade: a hot profile may be up to {@code hotTtl} old, and a reader may see it older than
 * a read they made a moment before (no monotonic reads for hot keys). A user's own profile
 * ({@code /api/me}) never takes this path.
 *
 * <p>With a cache tier (issue 8), every profile read goes through it instead: this server's L1,
 * then Redis, and on a miss one load for all servers, from the primary; a profile change
 * invalidates it after its commit, so it is never served older than the last write; the tier pins
 * its hottest keys in L1, so a celebrity's reads stay in this server's memory. The sketch here still
 * counts, for {@code status} and {@code /internal/hot-keys}.
 *
 * <p>Metrics: {@code scalestack_profile_reads_total{source}} with source {@code primary}, {@code
 * replica}, {@code hot-cache}, {@code hot-replica} or {@code cache}; {@code scalestack_hot_keys} (users hot now,
 * among the tracked top). Thread-safe.
 */
final class HotProfiles {

  /** Where one read was served. */
  enum Source {
    PRIMARY("primary"), REPLICA("replica"), HOT_CACHE("hot-cache"), HOT_REPLICA("hot-replica"), CACHE("cache");

    final String label;

    Source(String label) {
      this.label = label;
    }
  }

  record Answer(Optional<UserRepository.User> user, Source source) {}

  private record Copy(Optional<UserRepository.User> user, long loadedAtMillis) {}

  private final UserRepository users;
  private final HotKeys hotKeys;
  private final long hotTtlMillis;
  private final Clock clock;
  private final Map<Long, Copy> copies = new ConcurrentHashMap<>();
  private final Map<Long, CompletableFuture<Copy>> loading = new ConcurrentHashMap<>();
  private final Map<Source, Counter> counters = new java.util.EnumMap<>(Source.class);
  private final TieredCache<UserRepository.User> cache; // null: no cache tier

  HotProfiles(UserRepository users, HotKeys hotKeys, Duration hotTtl, Clock clock, MeterRegistry registry,
      TieredCache<UserRepository.User> cache) {
    this.users = users;
    this.cache = cache;
    this.hotKeys = hotKeys;
    this.hotTtlMillis = hotTtl.toMillis();
    this.clock = clock;
    for (Source source : Source.values()) {
      counters.put(source, Counter.builder("scalestack.profile.reads").tag("source", source.label)
          .description("Public profile reads by where they were served").register(registry));
    }
    Gauge.builder("scalestack.hot.keys", this, HotProfiles::hotCount)
        .description("Users whose profile is hot on this server now").register(registry);
  }

  Answer read(ConsistencyToken token, long id) throws SQLException {
    hotKeys.record(id);
    if (cache != null) {
      // the cache tier pins its own hottest keys in L1: no copy of ours besides it
      return count(throughCache(id));
    }
    if (!hotKeys.isHot(id)) {
      copies.remove(id); // cooled down: the next time it is hot, load afresh
      UserRepository.Read read = users.read(token, id);
      return count(new Answer(read.user(), read.fromReplica() ? Source.REPLICA : Source.PRIMARY));
    }
    Copy copy = copies.get(id);
    if (copy != null && clock.millis() - copy.loadedAtMillis() < hotTtlMillis) {
      return count(new Answer(copy.user(), Source.HOT_CACHE));
    }
    // one load per key at a time; concurrent readers of the celebrity wait for it
    CompletableFuture<Copy> mine = new CompletableFuture<>();
    CompletableFuture<Copy> running = loading.putIfAbsent(id, mine);
    if (running != null) {
      Copy loaded = await(running);
      if (loaded.user().isPresent()) {
        return count(new Answer(loaded.user(), Source.HOT_CACHE));
      }
      UserRepository.Read read = users.read(token, id); // the load found nobody: ask as any read would
      return count(new Answer(read.user(), read.fromReplica() ? Source.REPLICA : Source.PRIMARY));
    }
    try {
      // any replica in rotation: a fresh token asks for no particular write
      UserRepository.Read read = users.read(ConsistencyToken.create(), id);
      if (read.user().isEmpty()) {
        // a replica behind may not have the user yet: never serve (or keep) an absence from there
        mine.complete(new Copy(Optional.empty(), 0));
        UserRepository.Read fresh = users.read(token, id);
        return count(new Answer(fresh.user(), fresh.fromReplica() ? Source.REPLICA : Source.PRIMARY));
      }
      Copy loaded = new Copy(read.user(), clock.millis());
      copies.put(id, loaded);
      mine.complete(loaded);
      return count(new Answer(read.user(), read.fromReplica() ? Source.HOT_REPLICA : Source.PRIMARY));
    } catch (SQLException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      loading.remove(id, mine);
    }
  }

  /**
   * Through the cache tier: this server's L1, then Redis, else one load for every server (from the
   * primary: a replica could still have what a write just invalidated). An absent user is not
   * cached.
   */
  private Answer throughCache(long id) throws SQLException {
    boolean[] loaded = {false};
    try {
      UserRepository.User user = cache.get(Long.toString(id), key -> {
        loaded[0] = true;
        return users.findOnPrimary(id).orElse(null);
      });
      return new Answer(Optional.ofNullable(user), loaded[0] ? Source.PRIMARY : Source.CACHE);
    } catch (CacheLoadException e) {
      if (e.getCause() instanceof SQLException sql) {
        throw sql;
      }
      throw e;
    }
  }

  /** After the commit of a change to {@code id}'s profile: no cache serves the old one again. */
  void invalidate(long id) {
    copies.remove(id);
    if (cache != null) {
      cache.invalidate(Long.toString(id));
    }
  }

  private static Copy await(CompletableFuture<Copy> running) throws SQLException {
    try {
      return running.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof SQLException sql) {
        throw sql;
      }
      throw new CompletionException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a hot profile's load", "57014", e);
    }
  }

  private Answer count(Answer answer) {
    counters.get(answer.source()).increment();
    return answer;
  }

  /** The users hot on this server now, hottest first. */
  List<HotKeys.Entry> hot() {
    return hotKeys.hottest().stream().filter(entry -> hotKeys.isHot(entry.key())).toList();
  }

  private double hotCount() {
    return hotKeys.hottest().stream().filter(entry -> hotKeys.isHot(entry.key())).count();
  }
}
