package io.scalestack.edge.internal;

import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.util.concurrent.TimeoutException;

/**
 * One origin connection's exchanges, one at a time: send the request, buffer the response up to
 * the max object size (or stream it past that), report to the {@link OriginListener}, and return
 * the connection to the pool when the response ended on a keep-alive connection.
 *
 * <p>State machine: IDLE → AWAIT_HEAD → (BUFFERING | STREAMING | DISCARDING) → IDLE. Confined to
 * its channel's event loop.
 */
final class OriginHandler extends ChannelInboundHandlerAdapter {

  private enum State { IDLE, AWAIT_HEAD, BUFFERING, STREAMING, DISCARDING }

  private final OriginClient client;
  private final int maxObjectBytes;
  private ChannelHandlerContext ctx;
  private State state = State.IDLE;
  private OriginListener listener;
  private OriginListener.StreamSink sink;
  private FullHttpRequest retry;
  private HttpResponse head;
  private CompositeByteBuf body;
  private boolean keepAlive;
  private boolean informational;

  OriginHandler(OriginClient client, int maxObjectBytes) {
    this.client = client;
    this.maxObjectBytes = maxObjectBytes;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  void begin(FullHttpRequest request, OriginListener l, boolean reused) {
    listener = l;
    state = State.AWAIT_HEAD;
    HttpMethod m = request.method();
    // RFC 9110 §9.2.2: only an idempotent request may be sent again automatically
    retry = reused && (m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS)
        ? request.retainedDuplicate() : null;
    ctx.writeAndFlush(request).addListener((ChannelFutureListener) f -> {
      if (!f.isSuccess()) {
        fail(f.cause());
      }
    });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (msg instanceof HttpResponse response) {
        onHead(response);
      }
      if (msg instanceof HttpContent content && state != State.IDLE) {
        onContent(content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onHead(HttpResponse response) {
    if (state != State.AWAIT_HEAD) {
      state = State.DISCARDING;
      ctx.close(); // a response nobody asked for: the connection is out of step
      return;
    }
    if (response.decoderResult().isFailure()) {
      fail(new IOException("malformed origin response: " + response.decoderResult().cause()));
      return;
    }
    int code = response.status().code();
    if (code >= 100 && code < 200) {
      informational = true; // RFC 9110 §15.2: an interim response; the final one follows
      return;
    }
    releaseRetry();
    head = response;
    keepAlive = HttpUtil.isKeepAlive(response);
    long length = HttpUtil.getContentLength(response, -1L);
    if (length < 0 && !HttpUtil.isTransferEncodingChunked(response)) {
      keepAlive = false; // delimited by close (RFC 9112 §6.3 rule 8)
    }
    if (length > maxObjectBytes) {
      stream(null);
    } else {
      state = State.BUFFERING;
      body = ctx.alloc().compositeDirectBuffer(Integer.MAX_VALUE);
    }
  }

  private void onContent(HttpContent content) {
    if (informational) {
      if (content instanceof LastHttpContent) {
        informational = false;
      }
      return;
    }
    if (content.decoderResult().isFailure()) {
      fail(new IOException("malformed origin response body: " + content.decoderResult().cause()));
      return;
    }
    switch (state) {
      case BUFFERING -> {
        if (content.content().isReadable()) {
          body.addComponent(true, content.content().retain());
        }
        if (body.readableBytes() > maxObjectBytes) {
          CompositeByteBuf sofar = body;
          body = null;
          stream(sofar);
        }
      }
      case STREAMING -> {
        if (content.content().isReadable()) {
          sink.onContent(content.content().retain());
        }
      }
      default -> { } // DISCARDING, or AWAIT_HEAD after a failure: nothing to keep
    }
    if (content instanceof LastHttpContent && state != State.AWAIT_HEAD) {
      finish();
    }
  }

  private void stream(CompositeByteBuf sofar) {
    OriginListener l = listener;
    listener = null;
    sink = l.onLargeResponse(head, ctx.channel());
    if (sink == null) {
      state = State.DISCARDING;
      keepAlive = false;
      if (sofar != null) {
        sofar.release();
      }
      ctx.close();
      return;
    }
    state = State.STREAMING;
    if (sofar != null && sofar.isReadable()) {
      sink.onContent(sofar);
    } else if (sofar != null) {
      sofar.release();
    }
  }

  private void finish() {
    State was = state;
    OriginListener l = listener;
    OriginListener.StreamSink s = sink;
    HttpResponse h = head;
    CompositeByteBuf b = body;
    reset();
    ctx.channel().config().setAutoRead(true);
    if (keepAlive && ctx.channel().isActive()) {
      client.release(ctx.channel());
    } else {
      ctx.close();
    }
    if (was == State.BUFFERING) {
      l.onResponse(h, b);
    } else if (was == State.STREAMING) {
      s.onEnd();
    }
  }

  private void reset() {
    state = State.IDLE;
    listener = null;
    sink = null;
    head = null;
    body = null;
    informational = false;
  }

  private void fail(Throwable cause) {
    State was = state;
    OriginListener l = listener;
    OriginListener.StreamSink s = sink;
    FullHttpRequest r = retry;
    retry = null;
    if (body != null) {
      body.release();
    }
    reset();
    ctx.close();
    switch (was) {
      case AWAIT_HEAD -> {
        if (r != null) {
          client.connect(ctx.channel().eventLoop(), r, l); // the origin closed an idle connection: once more, fresh
        } else {
          l.onError(cause);
        }
      }
      case BUFFERING -> l.onError(cause);
      case STREAMING -> s.onAbort(cause);
      default -> {
        if (r != null) {
          r.release();
        }
      }
    }
  }

  private void releaseRetry() {
    if (retry != null) {
      retry.release();
      retry = null;
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (state != State.IDLE && state != State.DISCARDING) {
      fail(new IOException("origin closed the connection"));
    } else {
      releaseRetry();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (state != State.IDLE && state != State.DISCARDING) {
      fail(cause);
    } else {
      ctx.close();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent) {
      if (state == State.IDLE || state == State.DISCARDING) {
        ctx.close(); // idle in the pool for the whole timeout: let it go
      } else if (ctx.channel().config().isAutoRead()) { // paused for a slow client is not the origin's fault
        fail(new TimeoutException("origin sent nothing for the response timeout"));
      }
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }
}
