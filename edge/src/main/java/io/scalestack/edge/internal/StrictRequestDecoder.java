package io.scalestack.edge.internal;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder, bounded (request line, header section, chunk size), made strict where
 * Netty is lenient: a request with both {@code Transfer-Encoding} and {@code Content-Length} is
 * refused instead of having its {@code Content-Length} dropped (RFC 9112 §6.1 lets a server
 * reject it, and a cache in front of other parsers must: two readings of one message are how
 * request smuggling starts).
 *
 * <p>Confined to its channel.
 */
final class StrictRequestDecoder extends HttpRequestDecoder {

  StrictRequestDecoder(int maxRequestLineBytes, int maxHeaderBytes) {
    super(new HttpDecoderConfig()
        .setMaxInitialLineLength(maxRequestLineBytes)
        .setMaxHeaderSize(maxHeaderBytes)
        .setMaxChunkSize(64 * 1024));
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    message.setDecoderResult(DecoderResult.failure(
        new IllegalArgumentException("both Transfer-Encoding and Content-Length (RFC 9112 §6.1)")));
  }
}
