package io.scalestack.balancer.internal;

import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;

/**
 * What an algorithm may know about the request it places: the client's address (source-IP hash,
 * source-IP stickiness) and the request head — method, URI, headers, cookies — as the client sent
 * it (content switching, hash on a header, cookie, query parameter or path). Never the body: the
 * choice is made before the body streams.
 *
 * <p>Immutable by contract: selectors only read it. Confined to the request's event loop.
 *
 * @param client the client's address, or null when unknown (tests)
 * @param head the request line and headers
 */
record RequestContext(InetSocketAddress client, HttpRequest head) {}
