/**
 * The load balancer: a Netty HTTP/1.1 reverse proxy in front of pools of web servers, with
 * content switching ({@link io.scalestack.balancer.Route}), per-pool balancing algorithms
 * ({@link io.scalestack.balancer.Algorithm}: smooth weighted round robin, weighted least
 * connections, peak-EWMA response time, random, source hash, consistent hash, bandwidth), sticky
 * sessions, active and passive health checks, slow start, retry on connection failures,
 * keep-alive connection pools, a JSON admin API for runtime membership (HAProxy's runtime API,
 * over HTTP) and an {@code lb.yaml} reader ({@link io.scalestack.balancer.LbConfig}).
 *
 * <p>{@link io.scalestack.balancer.LoadBalancer} is the entry point; everything under {@code
 * internal} is implementation.
 */
package io.scalestack.balancer;
