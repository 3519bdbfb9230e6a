package io.scalestack.app.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.cache.TieredCache;
import java.time.Duration;

/**
 * The photo service's cache tier (issue 8): public profiles by user id, and photos' metadata by
 * owner and id, each in a Caffeine L1 of this server in front of Redis, shared by every server. A web server opens one at start (Redis may be
 * down then: the tier works from L1 and the database until it is back) and closes it at stop.
 * Thread-safe.
 */
public final class Caches implements AutoCloseable {

  private final TieredCache<UserRepository.User> profiles;
  private final TieredCache<PhotoRepository.Photo> photos;

  private Caches(TieredCache<UserRepository.User> profiles, TieredCache<PhotoRepository.Photo> photos) {
    this.profiles = profiles;
    this.photos = photos;
  }

  /**
   * The tier on the Redis at {@code redisUri}: profiles live 5 minutes (±10%) in Redis and 30 s in
   * L1 (bounding what a lost invalidation message can cost), are refreshed early when read near
   * expiry (XFetch), and a load holds a lease for 5 s at most.
   */
  public static Caches open(String redisUri, MeterRegistry registry) {
    TieredCache<UserRepository.User> profiles = TieredCache.builder(new JsonCodec<>(UserRepository.User.class))
        .name("profiles")
        .redis(redisUri)
        .ttl(Duration.ofMinutes(5))
        .l1Ttl(Duration.ofSeconds(30))
        .meterRegistry(registry)
        .build();
    try {
      // a photo's row never changes once written (an edit is a new photo): an hour, no invalidation
      return new Caches(profiles, TieredCache.builder(new JsonCodec<>(PhotoRepository.Photo.class))
          .name("photos")
          .redis(redisUri)
          .ttl(Duration.ofHours(1))
          .l1Ttl(Duration.ofMinutes(5))
          .meterRegistry(registry)
          .build());
    } catch (RuntimeException e) {
      profiles.close();
      throw e;
    }
  }

  TieredCache<UserRepository.User> profiles() {
    return profiles;
  }

  /** Photo metadata (rows of {@code photos}) by {@code <owner id>:<photo id>}. */
  TieredCache<PhotoRepository.Photo> photos() {
    return photos;
  }

  @Override
  public void close() {
    profiles.close();
    photos.close();
  }
}
