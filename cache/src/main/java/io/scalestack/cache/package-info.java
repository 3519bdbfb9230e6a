/**
 * The cache tier of the web servers: {@link io.scalestack.cache.TieredCache}, cache-aside with a
 * Caffeine L1 in each server in front of Redis (shared by every server) in front of the database.
 *
 * <p>Keys in Redis, for a cache named {@code n}: {@code c:n:v:<key>} (the value, prefixed by its
 * expiry and load time: {@code <expiry ms>:<load ms>:<bytes>}, kept {@code staleGrace} past its
 * expiry), {@code c:n:l:<key>} (a load lease: a token, {@code PX leaseTimeout}) and the pub/sub
 * channel {@code c:n:inv} (a message {@code k<instance>:<key>} per invalidation, {@code *} for
 * all; an instance skips its own messages, having dropped the key already).
 * Everything under {@code internal} is private to this module.
 */
package io.scalestack.cache;
