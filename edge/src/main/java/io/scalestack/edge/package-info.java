/**
 * The CDN edge: a caching HTTP/1.1 reverse proxy in front of one origin (RFC 9111 shared cache,
 * RFC 5861 stale extensions, request coalescing, purge by URL and surrogate key, memory and disk
 * tiers). {@link io.scalestack.edge.EdgeServer} is the whole public API; everything else lives in
 * {@code io.scalestack.edge.internal}.
 */
package io.scalestack.edge;
