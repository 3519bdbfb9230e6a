package io.scalestack.edge.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.HttpResponse;

/**
 * What an origin exchange reports, on the event loop of the client connection that started it
 * (the origin connection lives on the same loop). Exactly one of {@link #onResponse}, {@link
 * #onLargeResponse} or {@link #onError} is called.
 */
interface OriginListener {

  /** A response buffered whole (at most the max object size); the listener owns {@code body}. */
  void onResponse(HttpResponse head, ByteBuf body);

  /**
   * A response too large to buffer: its head, then the body streams to the returned sink (null:
   * drop it and close the origin connection). Reading from {@code origin} may be paused for
   * backpressure with {@code origin.config().setAutoRead(false)}.
   */
  StreamSink onLargeResponse(HttpResponse head, Channel origin);

  /** No response: connection refused or lost, timeout, malformed response. */
  void onError(Throwable cause);

  /** The body of a large response, in order. */
  interface StreamSink {
    /** One part; the sink owns it. */
    void onContent(ByteBuf part);

    void onEnd();

    /** The origin connection failed mid-body. */
    void onAbort(Throwable cause);
  }
}
