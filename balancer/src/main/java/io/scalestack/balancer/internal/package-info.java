/**
 * Implementation of the load balancer: the proxy pipeline ({@link
 * io.scalestack.balancer.internal.FrontendHandler}, one {@code Exchange} per request), the
 * per-backend connection pools, the health checker, the selection strategies and the admin API.
 * Not API: anything here may change without notice.
 *
 * <p>Threading: every client connection's requests are handled on that connection's event loop;
 * a backend connection's I/O happens on its own event loop, and results hop back to the client's
 * loop. Shared state (membership, pools, backend counters) is guarded by short locks or atomics
 * and never blocks on I/O.
 */
package io.scalestack.balancer.internal;
