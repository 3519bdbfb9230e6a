package io.scalestack.edge.internal;

/**
 * The key of one stored response: the request target (primary key, RFC 9111 §2) and the
 * normalized values of the request header fields its {@code Vary} names (secondary key, §4.1),
 * empty when the response does not vary.
 *
 * <p>Immutable; thread-safe.
 */
record CacheKey(String url, String secondary) {}
