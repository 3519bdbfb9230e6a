package io.scalestack.balancer.internal;

import io.netty.channel.Channel;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import io.netty.util.AttributeKey;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the PROXY protocol header (HAProxy's {@code proxy-protocol.txt}, v1 or v2) off the start
 * of a client connection: after it, the source address of the header stands for the client (in
 * {@code X-Forwarded-For}, {@code Forwarded}, source hashing and stickiness, the access log) and
 * its destination for the address the client connected to.
 *
 * <p>Netty's {@link HAProxyMessageDecoder} does the parsing, strictly and bounded: v1 is one line
 * of at most 108 bytes (§2.1), v2 a 16-byte head plus at most 216 bytes of addresses (§2.2) and
 * {@value #MAX_TLV_BYTES} of TLVs (which are parsed and dropped); bytes may arrive one at a time.
 * A header that is malformed, too long, or missing (the connection starts with anything else) is
 * logged in one line and closes that connection only. A v2 {@code LOCAL} header (a health check
 * from the proxy in front), a v1 {@code UNKNOWN}, and any family other than IPv4 or IPv6 keep the
 * connection's own addresses (§2.1, §2.2). The decoder leaves the pipeline after the header; the
 * bytes after it go on as read.
 *
 * <p>When the header is in, this handler fires {@link #RECEIVED} down the pipeline (the TCP
 * frontend waits for it before choosing a backend) and leaves. Confined to the connection's event
 * loop.
 */
final class ProxyProtocolReceiver extends ChannelInboundHandlerAdapter {

  /** User event: the PROXY protocol header is in and the client address known. */
  static final Object RECEIVED = new Object() {
    @Override
    public String toString() {
      return "PROXY protocol header received";
    }
  };

  /** The longest TLV section accepted in a v2 header; more closes the connection. */
  static final int MAX_TLV_BYTES = 4096;

  private static final Logger log = LoggerFactory.getLogger(ProxyProtocolReceiver.class);
  private static final AttributeKey<InetSocketAddress> CLIENT = AttributeKey.valueOf("scalestack.proxy-protocol.client");
  private static final AttributeKey<InetSocketAddress> DESTINATION =
      AttributeKey.valueOf("scalestack.proxy-protocol.destination");

  private boolean received;
  private boolean rejected;

  /** Adds the decoder and this handler at the front of {@code pipeline}. */
  static void install(ChannelPipeline pipeline) {
    pipeline.addFirst("proxy-protocol", new ProxyProtocolReceiver());
    pipeline.addFirst("proxy-protocol-decoder", new HAProxyMessageDecoder(MAX_TLV_BYTES, true));
  }

  /**
   * The client of connection {@code channel}: the source of its PROXY protocol header, else its
   * remote address; null if neither is an IP address.
   */
  static InetSocketAddress clientAddress(Channel channel) {
    InetSocketAddress proxied = connection(channel).attr(CLIENT).get();
    if (proxied != null) {
      return proxied;
    }
    return channel.remoteAddress() instanceof InetSocketAddress remote ? remote : null;
  }

  /** The address the client connected to: the destination of its PROXY header, else the local address. */
  static InetSocketAddress destinationAddress(Channel channel) {
    InetSocketAddress proxied = connection(channel).attr(DESTINATION).get();
    if (proxied != null) {
      return proxied;
    }
    return channel.localAddress() instanceof InetSocketAddress local ? local : null;
  }

  // an HTTP/2 stream's header is its connection's
  private static Channel connection(Channel channel) {
    return channel instanceof Http2StreamChannel ? channel.parent() : channel;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof HAProxyMessage header)) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      apply(ctx.channel(), header);
    } finally {
      header.release();
    }
    received = true;
    ctx.fireUserEventTriggered(RECEIVED);
    ctx.pipeline().remove(this);
  }

  private static void apply(Channel channel, HAProxyMessage header) {
    if (header.command() != HAProxyCommand.PROXY) {
      // v2 LOCAL: the proxy's own connection (a health check); its addresses are the real ones
      return;
    }
    HAProxyProxiedProtocol.AddressFamily family = header.proxiedProtocol().addressFamily();
    if (family != HAProxyProxiedProtocol.AddressFamily.AF_IPv4 && family != HAProxyProxiedProtocol.AddressFamily.AF_IPv6) {
      // UNKNOWN (v1), AF_UNSPEC or AF_UNIX (v2): nothing that can stand for an IP client
      return;
    }
    InetAddress source = NetUtil.createInetAddressFromIpAddressString(header.sourceAddress());
    InetAddress destination = NetUtil.createInetAddressFromIpAddressString(header.destinationAddress());
    if (source == null || destination == null) {
      // the decoder validated both literals; this would be a bug, not a client's fault
      throw new DecoderException("PROXY protocol header with unparsable addresses: " + header);
    }
    channel.attr(CLIENT).set(new InetSocketAddress(source, header.sourcePort()));
    channel.attr(DESTINATION).set(new InetSocketAddress(destination, header.destinationPort()));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!received && cause instanceof DecoderException) {
      // the decoder closed the connection already, but may fail again on the rest of the same read
      if (!rejected) {
        rejected = true;
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
          root = root.getCause();
        }
        log.warn("closing {}: malformed PROXY protocol header: {}", ctx.channel().remoteAddress() instanceof InetSocketAddress
            remote ? HostPort.format(remote) : "?", String.valueOf(root.getMessage()));
      }
      ctx.close();
      return;
    }
    ctx.fireExceptionCaught(cause);
  }
}
