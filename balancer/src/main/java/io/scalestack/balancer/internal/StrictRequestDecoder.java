package io.scalestack.balancer.internal;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder, refusing what a proxy must not pass on ambiguously: a request with
 * both {@code Transfer-Encoding} and {@code Content-Length} is marked malformed (RFC 9112 §6.1:
 * such a request may be a smuggling attempt; the server must close the connection after
 * answering), so it is answered 400 and the connection is closed. Confined to its channel.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

  StrictRequestDecoder(HttpDecoderConfig config) {
    super(config);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    super.handleTransferEncodingChunkedWithContentLength(message);
    message.setDecoderResult(DecoderResult.failure(
        new IllegalArgumentException("both Transfer-Encoding and Content-Length are present")));
  }
}
