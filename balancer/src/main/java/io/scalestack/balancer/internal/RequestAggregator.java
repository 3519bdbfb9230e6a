package io.scalestack.balancer.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;

/**
 * Netty's aggregator, with a request over the content limit handed on as a {@link Rejection}
 * (answered 413 in order, then the connection closes) instead of Netty's own empty 413. The
 * aggregator discards the rest of the oversized body itself. An {@code Expect: 100-continue}
 * request that announces too much is still refused by Netty before any body is sent. Confined to
 * its channel.
 */
final class RequestAggregator extends HttpObjectAggregator {

  RequestAggregator(int maxContentLengthBytes) {
    super(maxContentLengthBytes);
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    ctx.fireChannelRead(new Rejection(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
        "request content exceeds " + maxContentLength() + " bytes"));
  }
}
