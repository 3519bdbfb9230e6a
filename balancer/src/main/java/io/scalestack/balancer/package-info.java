/**
 * The load balancer: a Netty HTTP/1.1 reverse proxy in front of a pool of web servers, with
 * round-robin and least-connections balancing, active health checks, ejection and retry on
 * connection failures, keep-alive connection pools, and a JSON admin API for runtime membership
 * (HAProxy's runtime API, over HTTP).
 *
 * <p>{@link io.scalestack.balancer.LoadBalancer} is the entry point; everything under {@code
 * internal} is implementation.
 */
package io.scalestack.balancer;
