package io.scalestack.balancer.internal;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import io.scalestack.balancer.HealthCheck;
import io.scalestack.balancer.ProxyProtocol;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Checks every watched backend on its own cycle: a check now, then one {@code interval} (±
 * jitter) after each check ends. An HTTP check is {@code GET path} on a new connection with
 * {@code Connection: close}; a 2xx or 3xx status line within {@code timeout} is a success (the
 * body is not read). A TCP check succeeds when the connection is accepted.
 *
 * <p>The pacing goes through a {@link TaskScheduler}, so tests can run checks by hand; the check
 * itself (connect, request, timeout) runs on the event loops.
 *
 * <p>Thread-safe.
 */
final class HealthChecker implements AutoCloseable {

  /** The outcome of one check; {@code detail} says why it failed, or the status when it passed. */
  record Outcome(boolean ok, String detail) {}

  /** Told each result, on an event loop. */
  interface Listener {
    void checked(Backend backend, Outcome outcome);
  }

  private final Function<Backend, HealthCheck> configs;
  private final Function<Backend, ProxyProtocol> proxyProtocols;
  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final TaskScheduler scheduler;
  private final Listener listener;
  private final Map<Backend, Cycle> cycles = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * {@code configs} gives each backend's check (its pool's), read anew for every check; {@code
   * proxyProtocols} the PROXY protocol header its pool sends (null: none), which an HTTP check
   * then starts with too, as a LOCAL header: a backend that requires the header would refuse a
   * request without one.
   */
  HealthChecker(Function<Backend, HealthCheck> configs, Function<Backend, ProxyProtocol> proxyProtocols,
      EventLoopGroup group, Bootstrap bootstrap, TaskScheduler scheduler, Listener listener) {
    this.configs = configs;
    this.proxyProtocols = proxyProtocols;
    this.group = group;
    this.bootstrap = bootstrap.clone();
    this.scheduler = scheduler;
    this.listener = listener;
  }

  /** Starts checking {@code backend}: the first check is scheduled at once. */
  void watch(Backend backend) {
    if (closed) {
      return;
    }
    Cycle cycle = new Cycle(backend);
    Cycle previous = cycles.put(backend, cycle);
    if (previous != null) {
      previous.cancel();
    }
    cycle.schedule(Duration.ZERO);
  }

  /** Stops checking {@code backend}; a check under way is ignored when it ends. */
  void unwatch(Backend backend) {
    Cycle cycle = cycles.remove(backend);
    if (cycle != null) {
      cycle.cancel();
    }
  }

  @Override
  public void close() {
    closed = true;
    cycles.values().forEach(Cycle::cancel);
    cycles.clear();
  }

  /** Runs one check of {@code backend} now. */
  Future<Outcome> check(Backend backend) {
    HealthCheck config = configs.apply(backend);
    EventLoop loop = group.next();
    Promise<Outcome> promise = loop.newPromise();
    String host = HostPort.format(backend.address());
    boolean tcp = config.type() == HealthCheck.Type.TCP;
    // a TCP check closes as soon as it connected: nothing is sent, so no header either
    ProxyProtocol proxyHeader = tcp ? null : proxyProtocols.apply(backend);
    ChannelFuture connected = bootstrap.clone(loop)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, config.timeout().toMillis()))
        .handler(new ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            if (proxyHeader != null) {
              ch.pipeline().addLast(new LocalProxyHeader(proxyHeader));
            }
            if (!tcp) {
              ch.pipeline().addLast(new HttpClientCodec(), new ProbeHandler(promise, config.path(), host));
            }
          }
        })
        .connect(backend.address());
    if (tcp) {
      // a TCP check passes when the backend accepts the connection (HAProxy's plain "check")
      connected.addListener(f -> {
        if (f.isSuccess()) {
          promise.trySuccess(new Outcome(true, "connected"));
        }
      });
    }
    ScheduledFuture<?> timer = loop.schedule(
        () -> promise.trySuccess(new Outcome(false, "no answer within " + config.timeout().toMillis() + " ms")),
        config.timeout().toNanos(), TimeUnit.NANOSECONDS);
    connected.addListener(f -> {
      if (!f.isSuccess()) {
        promise.trySuccess(new Outcome(false, "connect failed: " + f.cause().getMessage()));
      }
    });
    promise.addListener(f -> {
      timer.cancel(false);
      connected.channel().close();
    });
    return promise;
  }

  /** {@code interval} varied at random by up to {@code jitter} of itself, both ways. */
  static Duration jittered(Duration interval, double jitter) {
    if (jitter <= 0) {
      return interval;
    }
    long nanos = interval.toNanos();
    double factor = 1 + jitter * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Duration.ofNanos(Math.max(1, (long) (nanos * factor)));
  }

  /** The checks of one backend, one after another. */
  private final class Cycle {
    private final Backend backend;
    private volatile boolean cancelled;
    private volatile TaskScheduler.Cancellable next;

    Cycle(Backend backend) {
      this.backend = backend;
    }

    void schedule(Duration delay) {
      if (!cancelled && !closed) {
        next = scheduler.schedule(this::run, delay);
        if (cancelled) {
          next.cancel();
        }
      }
    }

    void run() {
      if (cancelled || closed) {
        return;
      }
      check(backend).addListener(f -> {
        if (cancelled || closed) {
          return;
        }
        @SuppressWarnings("unchecked")
        Outcome outcome = ((Future<Outcome>) f).getNow();
        listener.checked(backend, outcome);
        HealthCheck config = configs.apply(backend);
        schedule(jittered(config.interval(), config.jitter()));
      });
    }

    void cancel() {
      cancelled = true;
      TaskScheduler.Cancellable pending = next;
      if (pending != null) {
        pending.cancel();
      }
    }
  }

  /** Sends the check request once connected and judges the status line. */
  /** Writes a LOCAL PROXY protocol header first, before the probe's request (PROXY protocol §2). */
  private static final class LocalProxyHeader extends ChannelInboundHandlerAdapter {
    private final ProxyProtocol version;

    LocalProxyHeader(ProxyProtocol version) {
      this.version = version;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.write(ProxyProtocolHeader.local(version, ctx.alloc()), ctx.voidPromise());
      ctx.pipeline().remove(this);
      ctx.fireChannelActive();
    }
  }

  private static final class ProbeHandler extends ChannelInboundHandlerAdapter {
    private final Promise<Outcome> promise;
    private final String path;
    private final String host;

    ProbeHandler(Promise<Outcome> promise, String path, String host) {
      this.promise = promise;
      this.path = path;
      this.host = host;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
      request.headers()
          .set(HttpHeaderNames.HOST, host)
          .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE)
          .set(HttpHeaderNames.USER_AGENT, "scalestack-balancer-health-check");
      ctx.writeAndFlush(request).addListener(f -> {
        if (!f.isSuccess()) {
          promise.trySuccess(new Outcome(false, "send failed: " + f.cause().getMessage()));
        }
      });
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpResponse response) {
          if (response.decoderResult().isFailure()) {
            promise.trySuccess(new Outcome(false, "malformed response: " + response.decoderResult().cause().getMessage()));
          } else {
            int code = response.status().code();
            // HAProxy's httpchk: 2xx and 3xx pass
            promise.trySuccess(new Outcome(code >= 200 && code < 400, "status " + code));
          }
          ctx.close();
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      promise.trySuccess(new Outcome(false, "connection closed without a response"));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      promise.trySuccess(new Outcome(false, cause.toString()));
      ctx.close();
    }
  }
}
