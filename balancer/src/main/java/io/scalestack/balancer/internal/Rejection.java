package io.scalestack.balancer.internal;

import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * A request rejected inside the pipeline before it became a message (for example too large);
 * passed down the pipeline in place of the request so that its error response goes out in order
 * and the connection closes after it.
 */
record Rejection(HttpResponseStatus status, String message) {}
