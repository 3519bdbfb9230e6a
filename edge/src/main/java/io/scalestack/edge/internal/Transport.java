package io.scalestack.edge.internal;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.util.Locale;
import java.util.concurrent.ThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-loop transport: Netty's native epoll on Linux, else the JDK's NIO selector. Epoll
 * is edge-triggered and talks to the kernel without the JDK's selector bookkeeping (selected-key
 * sets, interest-set update queues), which is measurably cheaper per request on a busy edge;
 * NIO remains the portable fallback. System property {@code scalestack.edge.transport=nio} forces
 * NIO (to compare the two, or where the native library cannot load).
 *
 * <p>Immutable; thread-safe.
 */
enum Transport {
  EPOLL, NIO;

  private static final Logger log = LoggerFactory.getLogger(Transport.class);
  static final String PROPERTY = "scalestack.edge.transport";

  /** Epoll when it is available and not overridden, else NIO. */
  static Transport best() {
    String forced = System.getProperty(PROPERTY, "").strip().toLowerCase(Locale.ROOT);
    switch (forced) {
      case "" -> { }
      case "nio" -> {
        return NIO;
      }
      case "epoll" -> {
        if (!Epoll.isAvailable()) {
          throw new IllegalStateException(PROPERTY + ": 'epoll' (expected: available here; it is not: "
              + Epoll.unavailabilityCause() + ")");
        }
        return EPOLL;
      }
      default -> throw new IllegalArgumentException(PROPERTY + ": '" + forced + "' (expected: epoll or nio)");
    }
    if (Epoll.isAvailable()) {
      return EPOLL;
    }
    log.debug("native epoll unavailable ({}), using NIO", Epoll.unavailabilityCause().toString());
    return NIO;
  }

  EventLoopGroup group(int threads, ThreadFactory threadFactory) {
    return this == EPOLL ? new EpollEventLoopGroup(threads, threadFactory) : new NioEventLoopGroup(threads, threadFactory);
  }

  Class<? extends ServerChannel> serverChannel() {
    return this == EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
  }

  Class<? extends SocketChannel> socketChannel() {
    return this == EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
  }
}
