package io.scalestack.app.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.cache.TieredCache;
import java.time.Duration;

/**
 * The photo service's cache tier (issue 8): public profiles, by user id, in a Caffeine L1 of this
 * server in front of Redis, shared by every server. A web server opens one at start (Redis may be
 * down then: the tier works from L1 and the database until it is back) and closes it at stop.
 * Thread-safe.
 */
public final class Caches implements AutoCloseable {

  private final TieredCache<UserRepository.User> profiles;

  private Caches(TieredCache<UserRepository.User> profiles) {
    this.profiles = profiles;
  }

  /**
   * The tier on the Redis at {@code redisUri}: profiles live 5 minutes (±10%) in Redis and 30 s in
   * L1 (bounding what a lost invalidation message can cost), are refreshed early when read near
   * expiry (XFetch), and a load holds a lease for 5 s at most.
   */
  public static Caches open(String redisUri, MeterRegistry registry) {
    return new Caches(TieredCache.builder(new JsonCodec<>(UserRepository.User.class))
        .name("profiles")
        .redis(redisUri)
        .ttl(Duration.ofMinutes(5))
        .l1Ttl(Duration.ofSeconds(30))
        .meterRegistry(registry)
        .build());
  }

  TieredCache<UserRepository.User> profiles() {
    return profiles;
  }

  @Override
  public void close() {
    profiles.close();
  }
}
