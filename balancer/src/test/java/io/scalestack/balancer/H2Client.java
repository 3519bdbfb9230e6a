package io.scalestack.balancer;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/2 client with prior knowledge (h2c, RFC 9113 §3.3) on Netty's frame codec: each request
 * is a stream whose HEADERS and DATA frames the test writes as it likes (including malformed
 * ones, which a well-behaved client refuses to send), and whose answer is a response or a reset.
 */
final class H2Client implements AutoCloseable {

  /** A stream's outcome: a response ({@code status} > 0) or a reset ({@code resetCode} >= 0). */
  record Answer(int status, HttpHeaders headers, String body, long resetCode) {}

  private final NioEventLoopGroup group = new NioEventLoopGroup(1);
  private final Channel channel;

  H2Client(InetSocketAddress address) throws InterruptedException {
    this(address, new byte[0]);
  }

  /** A client that sends {@code prelude} (a PROXY protocol header, say) before the HTTP/2 preface. */
  H2Client(InetSocketAddress address, byte[] prelude) throws InterruptedException {
    channel = new Bootstrap()
        .group(group)
        .channel(NioSocketChannel.class)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (prelude.length > 0) {
              ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelActive(ChannelHandlerContext ctx) {
                  // written before the codec, further down the pipeline, writes its preface
                  ctx.writeAndFlush(io.netty.buffer.Unpooled.wrappedBuffer(prelude));
                  ctx.pipeline().remove(this);
                  ctx.fireChannelActive();
                }
              });
            }
            ch.pipeline()
                .addLast(Http2FrameCodecBuilder.forClient().validateHeaders(false)
                    // a window larger than the default 64 KiB, so that big bodies flow fast
                    .initialSettings(Http2Settings.defaultSettings().initialWindowSize(1024 * 1024))
                    // so that a test can send more than the server's SETTINGS_MAX_HEADER_LIST_SIZE
                    .encoderIgnoreMaxHeaderListSize(true).build())
                .addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
          }
        })
        .connect(address).sync().channel();
  }

  /** Headers of a request as a well-behaved client sends them. */
  static Http2Headers headers(String method, String path) {
    return new DefaultHttp2Headers(false).method(method).path(path).scheme("http").authority("lb.test");
  }

  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, as this client applies it. */
  int maxConcurrentStreams() {
    return channel.pipeline().get(Http2FrameCodec.class).connection().local().maxActiveStreams();
  }

  boolean isOpen() {
    return channel.isActive();
  }

  CompletableFuture<Answer> get(String path) {
    return send(headers("GET", path), List.of(), true);
  }

  /** Opens a stream and writes {@code headers}, then each of {@code data} (the last one ending the stream). */
  CompletableFuture<Answer> send(Http2Headers headers, List<String> data, boolean endStream) {
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    Http2StreamChannel stream;
    try {
      stream = new Http2StreamChannelBootstrap(channel)
          .handler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
              ch.pipeline()
                  .addLast(new Http2StreamFrameToHttpObjectCodec(false, false))
                  .addLast(new HttpObjectAggregator(1024 * 1024))
                  .addLast(new Collector(answer));
            }
          })
          .open().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      answer.completeExceptionally(e);
      return answer;
    }
    stream.write(new DefaultHttp2HeadersFrame(headers, data.isEmpty() && endStream));
    for (int i = 0; i < data.size(); i++) {
      boolean last = i == data.size() - 1 && endStream;
      stream.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer(data.get(i), StandardCharsets.UTF_8), last));
    }
    stream.flush();
    return answer;
  }

  /** Opens a bare stream whose frames go to {@code handler}, reading only when {@code autoRead}. */
  Http2StreamChannel open(ChannelHandler handler, boolean autoRead) throws Exception {
    Http2StreamChannel stream = new Http2StreamChannelBootstrap(channel).handler(handler).open().get(5, TimeUnit.SECONDS);
    stream.config().setAutoRead(autoRead);
    return stream;
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }

  private static final class Collector extends ChannelInboundHandlerAdapter {
    private final CompletableFuture<Answer> answer;

    Collector(CompletableFuture<Answer> answer) {
      this.answer = answer;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof FullHttpResponse response) {
          if (response.status().code() >= 200) {
            answer.complete(new Answer(response.status().code(), response.headers().copy(),
                response.content().toString(StandardCharsets.UTF_8), -1));
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      // Netty hands RST_STREAM to the stream as an event, not a message (it is not flow-controlled)
      if (evt instanceof Http2ResetFrame reset) {
        answer.complete(new Answer(0, null, null, reset.errorCode()));
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      answer.completeExceptionally(new IllegalStateException("stream closed without an answer"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      answer.completeExceptionally(cause);
      ctx.close();
    }
  }
}
