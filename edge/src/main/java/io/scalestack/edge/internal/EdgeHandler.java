package io.scalestack.edge.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: reads requests (HTTP/1.1 keep-alive, pipelining answered in order),
 * answers GET and HEAD from the cache (RFC 9111) or through a coalesced origin fill, and passes
 * every other request through uncached.
 *
 * <p>Per request: {@code handle} → HIT (answered at once, on this loop) | STALE + background
 * revalidation | fill (leader: origin request; waiter: waits for the leader's flight, at most the
 * coalescing timeout) | BYPASS. While an answer is pending, reading pauses, so pipelined requests
 * queue in order and at most one read's worth of them waits.
 *
 * <p>Confined to its channel's event loop; flights complete on the leader's loop and hop back.
 */
final class EdgeHandler extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(EdgeHandler.class);
  private static final int MAX_QUEUED = 1024;
  private static final byte[] AGE = "Age: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CRLF = {'\r', '\n'};
  private static final byte[][] X_CACHE = new byte[Result.values().length][];
  private static final byte[] CLOSE = "Connection: close\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] KEEP_ALIVE = "Connection: keep-alive\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] LAST_CHUNK = "0\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  static {
    for (Result r : Result.values()) {
      X_CACHE[r.ordinal()] = ("X-Cache: " + r.header + "\r\n").getBytes(StandardCharsets.US_ASCII);
    }
  }

  /** One request as read: target, fields, the body of a pass-through request. */
  static final class Req {
    HttpMethod method;
    HttpVersion version;
    String url;
    HttpHeaders headers;
    boolean keepAlive;
    CompositeByteBuf body;
    int badStatus;
    String badReason;
    boolean retried;

    boolean head() {
      return method == HttpMethod.HEAD;
    }

    void release() {
      if (body != null) {
        body.release();
        body = null;
      }
    }
  }

  private final EdgeCore core;
  private ChannelHandlerContext ctx;
  private final ArrayDeque<Req> queue = new ArrayDeque<>();
  private Req reading;
  private boolean busy;
  private boolean draining;
  private boolean paused;
  private boolean writePaused;
  private boolean closing;
  private Channel streamingOrigin;

  EdgeHandler(EdgeCore core) {
    this.core = core;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    try {
      if (closing) {
        return;
      }
      if (msg instanceof HttpRequest request) {
        onRequestHead(request);
      }
      if (msg instanceof HttpContent content && reading != null) {
        onRequestContent(content);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void onRequestHead(HttpRequest request) {
    Req req = new Req();
    req.method = request.method();
    req.version = request.protocolVersion();
    req.headers = request.headers();
    req.keepAlive = HttpUtil.isKeepAlive(request);
    if (request.decoderResult().isFailure()) {
      Throwable cause = request.decoderResult().cause();
      bad(req, cause instanceof TooLongHttpLineException ? 414 : cause instanceof TooLongHttpHeaderException ? 431
          : 400, cause instanceof TooLongFrameException ? cause.getMessage() : "malformed request: " + cause.getMessage());
      return;
    }
    String problem = check(request, req);
    if (problem != null) {
      bad(req, req.badStatus == 0 ? 400 : req.badStatus, problem);
      return;
    }
    if (!cacheable(req.method)) {
      req.body = ctx.alloc().compositeBuffer(1024);
      // RFC 9110 §10.1.1: the body is read here (bounded), so the edge itself invites it
      if (HttpUtil.is100ContinueExpected(request)) {
        if (HttpUtil.getContentLength(request, 0L) > core.maxRequestBodyBytes) {
          req.release();
          bad(req, 413, "request body over " + core.maxRequestBodyBytes + " bytes");
          return;
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(CONTINUE), ctx.voidPromise());
      }
    }
    reading = req;
  }

  /** RFC 9112 request checks a caching proxy cannot leave to the origin. Null when fine. */
  private String check(HttpRequest request, Req req) {
    HttpVersion v = request.protocolVersion();
    if (v.majorVersion() != 1) {
      req.badStatus = 505;
      return "HTTP version " + v + " (expected: HTTP/1.0 or HTTP/1.1)";
    }
    HttpHeaders h = request.headers();
    // §3.2: exactly one Host in HTTP/1.1
    int hosts = h.getAll("host").size();
    if ((v.minorVersion() == 1 && hosts != 1) || hosts > 1) {
      return "Host: " + hosts + " fields (expected: exactly one)";
    }
    // §6.1: both framings make the length ambiguous (request smuggling)
    if (h.contains("transfer-encoding") && h.contains("content-length")) {
      return "both Transfer-Encoding and Content-Length";
    }
    if (h.contains("transfer-encoding") && (v.minorVersion() == 0 || !HttpUtil.isTransferEncodingChunked(request)
        || !h.get("transfer-encoding").strip().equalsIgnoreCase("chunked"))) {
      req.badStatus = v.minorVersion() == 0 ? 400 : 501;
      return "Transfer-Encoding: '" + h.get("transfer-encoding") + "' (expected: chunked, in HTTP/1.1)";
    }
    String target = request.uri();
    String url;
    if (target.startsWith("/")) {
      url = target;
    } else if (target.regionMatches(true, 0, "http://", 0, 7)) { // absolute-form (§3.2.2)
      try {
        URI u = new URI(target);
        url = (u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath())
            + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery());
      } catch (java.net.URISyntaxException e) {
        return "request target: '" + target + "' (expected: a valid URI)";
      }
    } else {
      return "request target: '" + target + "' (expected: origin-form /path or absolute-form)";
    }
    for (int i = 0; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == '#') {
        return "request target: control, space, non-ASCII or '#' at " + i;
      }
    }
    req.url = url;
    return null;
  }

  private void onRequestContent(HttpContent content) {
    Req req = reading;
    if (content.decoderResult().isFailure()) {
      reading = null;
      req.release();
      bad(req, 400, "malformed request body: " + content.decoderResult().cause().getMessage());
      return;
    }
    if (req.body != null && content.content().isReadable()) {
      if (req.body.readableBytes() + content.content().readableBytes() > core.maxRequestBodyBytes) {
        reading = null;
        req.release();
        bad(req, 413, "request body over " + core.maxRequestBodyBytes + " bytes");
        return;
      }
      req.body.addComponent(true, content.content().retain());
    }
    if (content instanceof LastHttpContent) {
      reading = null;
      enqueue(req);
    }
  }

  private void bad(Req req, int status, String reason) {
    req.badStatus = status;
    req.badReason = reason;
    req.keepAlive = false;
    closing = true; // nothing after a bad request can be framed reliably: answer in order, then close
    enqueue(req);
  }

  private void enqueue(Req req) {
    if (queue.size() >= MAX_QUEUED) {
      log.debug("edge: more than {} pipelined requests queued; closing {}", MAX_QUEUED, ctx.channel());
      req.release();
      ctx.close();
      return;
    }
    queue.add(req);
    drain();
  }

  private void drain() {
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (!busy && !queue.isEmpty()) {
        busy = true;
        handle(queue.poll());
      }
    } finally {
      draining = false;
    }
    if (busy && !paused && ctx.channel().isActive()) {
      paused = true;
      ctx.channel().config().setAutoRead(false);
    }
  }

  /** The answer to the current request is written (or fails); on to the next. */
  private void finished(boolean keepAlive) {
    busy = false;
    if (!keepAlive) {
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      closing = true;
      for (Req r : queue) {
        r.release();
      }
      queue.clear();
      return;
    }
    if (!draining) {
      ctx.flush();
      if (paused) {
        paused = false;
        if (!writePaused) {
          ctx.channel().config().setAutoRead(true);
        }
      }
      drain();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    ctx.flush();
    // backpressure on the hit path: a client that pipelines requests but does not read its
    // answers stops being read until its socket drains (answers are written synchronously)
    if (!ctx.channel().isWritable() && !writePaused) {
      writePaused = true;
      ctx.channel().config().setAutoRead(false);
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      if (streamingOrigin != null) {
        streamingOrigin.config().setAutoRead(true);
      }
      if (writePaused) {
        writePaused = false;
        if (!paused) {
          ctx.channel().config().setAutoRead(true);
        }
      }
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (streamingOrigin != null) {
      streamingOrigin.close();
      streamingOrigin = null;
    }
    if (reading != null) {
      reading.release();
      reading = null;
    }
    for (Req r : queue) {
      r.release();
    }
    queue.clear();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof IdleStateEvent && !busy && reading == null) {
      ctx.close(); // idle keep-alive connection
    } else {
      ctx.fireUserEventTriggered(evt);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("edge: client connection {} failed: {}", ctx.channel(), cause.toString());
    ctx.close();
  }

  // ------------------------------------------------------------------------------------------
  // Answering

  private static boolean cacheable(HttpMethod m) {
    return m == HttpMethod.GET || m == HttpMethod.HEAD;
  }

  private void handle(Req req) {
    if (req.badStatus != 0) {
      writeError(req, req.badStatus, req.badReason);
      return;
    }
    if (!cacheable(req.method)) {
      passThrough(req);
      return;
    }
    // A range request or one with credentials goes to the origin as it is and is not stored:
    // the edge stores whole representations only, and RFC 9111 §3.5 restricts storing answers to
    // authenticated requests.
    if (req.headers.contains("range") || req.headers.contains("authorization")) {
      passThrough(req);
      return;
    }
    lookup(req);
  }

  private void lookup(Req req) {
    long now = core.clock.millis();
    CacheKey key = core.cache.keyFor(req.url, req.headers);
    Entry entry = core.cache.get(key);
    if (entry != null && entry.matches(req.headers)) {
      if (entry.isFresh(now)) {
        if (serve(req, entry, Result.HIT, null, now)) {
          return;
        }
      } else if (entry.staleWhileRevalidate(now)) {
        if (serve(req, entry, Result.STALE, null, now)) {
          revalidateInBackground(key, entry, req.headers);
          return;
        }
      } else {
        fill(req, key, entry);
        return;
      }
    }
    if (!req.retried && core.cache.onDisk(key)) {
      req.retried = true;
      EventLoop loop = ctx.channel().eventLoop();
      core.cache.promote(key).whenComplete((promoted, err) -> loop.execute(() -> {
        if (promoted != null && promoted.entry().matches(req.headers)) {
          long at = core.clock.millis();
          if (promoted.entry().isFresh(at)) {
            serveOwned(req, promoted.entry(), Result.HIT, promoted.body(), at);
            return;
          }
        }
        if (promoted != null) {
          promoted.body().release();
        }
        lookup(req);
      }));
      return;
    }
    fill(req, key, null);
  }

  /** A miss or a stale entry: one origin request per key, concurrent requests wait for it. */
  private void fill(Req req, CacheKey key, Entry stale) {
    EdgeCache.Flight flight = new EdgeCache.Flight();
    EdgeCache.Flight existing = core.cache.flights.putIfAbsent(key, flight);
    if (existing != null) {
      await(req, key, existing);
      return;
    }
    startFill(req, req.headers, key, stale, flight);
  }

  private void await(Req req, CacheKey key, EdgeCache.Flight flight) {
    EventLoop loop = ctx.channel().eventLoop();
    boolean[] settled = {false};
    // like nginx's proxy_cache_lock_timeout: past it, this request goes to the origin itself
    ScheduledFuture<?> timer = loop.schedule(() -> {
      if (!settled[0]) {
        settled[0] = true;
        startFill(req, req.headers, key, null, null);
      }
    }, core.coalesceTimeoutMillis, TimeUnit.MILLISECONDS);
    flight.done.whenComplete((outcome, error) -> loop.execute(() -> {
      if (settled[0]) {
        return;
      }
      settled[0] = true;
      timer.cancel(false);
      Entry e = outcome == null ? null : outcome.entry();
      if (e != null && e.matches(req.headers)) {
        Result r = outcome.result() == Result.MISS ? Result.HIT : outcome.result();
        if (serve(req, e, r, null, core.clock.millis())) {
          return;
        }
      }
      // not shareable (not storable, another variant, too large, an error): ask the origin alone
      startFill(req, req.headers, key, null, null);
    }));
  }

  private void revalidateInBackground(CacheKey key, Entry stale, HttpHeaders headers) {
    EdgeCache.Flight flight = new EdgeCache.Flight();
    if (core.cache.flights.putIfAbsent(key, flight) != null) {
      return; // one revalidation at a time (RFC 5861 §3 "a background revalidation")
    }
    startFill(null, headers.copy(), key, stale, flight);
  }

  /** Fills {@code key} from the origin for {@code req} (null: in the background). */
  private void startFill(Req req, HttpHeaders headers, CacheKey key, Entry stale, EdgeCache.Flight flight) {
    DefaultFullHttpRequest origin = originRequest(HttpMethod.GET, key.url(), headers, Unpooled.EMPTY_BUFFER);
    HttpHeaders oh = origin.headers();
    // the edge's own fill: a client's conditional or range must not shape what gets stored
    oh.remove("if-none-match").remove("if-modified-since").remove("if-match").remove("if-unmodified-since")
        .remove("if-range").remove("range");
    if (stale != null) { // RFC 9111 §4.3.1: validate with the stored validators
      if (stale.etag != null) {
        oh.set("if-none-match", stale.etag);
      }
      String lm = stale.headers.get("last-modified");
      if (lm != null) {
        oh.set("if-modified-since", lm);
      }
    }
    long requestTime = core.clock.millis();
    core.origin.fetch(ctx.channel().eventLoop(), origin, new Fill(req, headers, key, stale, flight, requestTime));
  }

  private final class Fill implements OriginListener {
    private final Req req;
    private final HttpHeaders headers;
    private final CacheKey key;
    private final Entry stale;
    private final EdgeCache.Flight flight;
    private final long requestTime;

    Fill(Req req, HttpHeaders headers, CacheKey key, Entry stale, EdgeCache.Flight flight, long requestTime) {
      this.req = req;
      this.headers = headers;
      this.key = key;
      this.stale = stale;
      this.flight = flight;
      this.requestTime = requestTime;
    }

    private void complete(Entry entry, Result result) {
      if (flight != null) {
        core.cache.flights.remove(key, flight);
        flight.done.complete(new EdgeCache.Outcome(entry, result));
      }
    }

    @Override
    public void onResponse(HttpResponse head, ByteBuf body) {
      long now = core.clock.millis();
      int status = head.status().code();
      if (status == 304 && stale != null) { // RFC 9111 §4.3.3, §4.3.4: freshen the stored response
        body.release();
        Entry fresh = stale.refreshedBy(head.headers(), requestTime, now);
        ByteBuf mine = fresh.retainedBody();
        core.cache.put(fresh);
        complete(fresh, Result.REVALIDATED);
        if (req != null) {
          serveOwned(req, fresh, Result.REVALIDATED, mine, now);
        } else if (mine != null) {
          mine.release();
        }
        return;
      }
      if (status >= 500 && stale != null && stale.staleIfError(now)) { // RFC 5861 §4
        body.release();
        complete(stale, Result.STALE);
        if (req != null && !serve(req, stale, Result.STALE, null, now)) {
          writeError(req, 502, "origin error and the stale copy is gone");
        }
        return;
      }
      HttpHeaders stored = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
      stored.set(head.headers());
      Headers.stripHopByHop(stored);
      if (!stored.contains("date")) {
        stored.set("date", HttpDates.format(now)); // RFC 9110 §6.6.1: a recipient with a clock adds it
      }
      if (Storability.storable(status, stored) && (flight == null || !flight.purged)) {
        java.util.List<String> vary = Headers.vary(stored);
        CacheKey storeKey = new CacheKey(key.url(), Headers.secondaryKey(vary, headers));
        ByteBuf copy = Unpooled.directBuffer(body.readableBytes(), body.readableBytes());
        copy.writeBytes(body);
        body.release();
        Entry entry = Entry.create(storeKey, status, head.status().reasonPhrase(), stored, copy, requestTime, now);
        ByteBuf mine = entry.retainedBody();
        if (stale != null && !stale.key.equals(storeKey)) {
          core.cache.remove(stale.key);
        }
        core.cache.put(entry);
        complete(entry, Result.MISS);
        if (req != null) {
          serveOwned(req, entry, Result.MISS, mine, now);
        } else {
          mine.release();
        }
        return;
      }
      if (stale != null) {
        // the origin's current answer may not be stored (or was purged in flight): neither may the old one be used
        core.cache.remove(stale.key);
      }
      complete(null, Result.MISS);
      if (req != null) {
        writeOrigin(req, head, body, Result.MISS);
      } else {
        body.release();
      }
    }

    @Override
    public StreamSink onLargeResponse(HttpResponse head, Channel origin) {
      complete(null, Result.MISS);
      return req == null ? null : stream(req, head, origin, Result.MISS);
    }

    @Override
    public void onError(Throwable cause) {
      long now = core.clock.millis();
      if (stale != null && stale.staleIfError(now)) { // RFC 5861 §4: the origin is unreachable
        complete(stale, Result.STALE);
        if (req != null && !serve(req, stale, Result.STALE, null, now)) {
          writeError(req, 502, "origin unreachable and the stale copy is gone");
        }
        return;
      }
      complete(null, Result.MISS);
      log.debug("edge: origin request for {} failed: {}", key.url(), cause.toString());
      if (req != null) {
        // RFC 9111 §5.2.2.2: a stored response that must be revalidated and cannot be gets a 504
        boolean mustRevalidate = stale != null && (stale.cacheControl.mustRevalidate() || stale.cacheControl.proxyRevalidate());
        writeError(req, cause instanceof TimeoutException || mustRevalidate ? 504 : 502, "origin: " + cause.getMessage());
      }
    }
  }

  /** Any method but GET and HEAD, or a range/authorized request: to the origin and back, unstored. */
  private void passThrough(Req req) {
    ByteBuf body = req.body == null ? Unpooled.EMPTY_BUFFER : req.body;
    req.body = null;
    DefaultFullHttpRequest origin = originRequest(req.method, req.url, req.headers, body);
    core.origin.fetch(ctx.channel().eventLoop(), origin, new OriginListener() {
      @Override
      public void onResponse(HttpResponse head, ByteBuf content) {
        invalidateAfterUnsafe(req, head);
        writeOrigin(req, head, content, Result.BYPASS);
      }

      @Override
      public StreamSink onLargeResponse(HttpResponse head, Channel originChannel) {
        invalidateAfterUnsafe(req, head);
        return stream(req, head, originChannel, Result.BYPASS);
      }

      @Override
      public void onError(Throwable cause) {
        writeError(req, cause instanceof TimeoutException ? 504 : 502, "origin: " + cause.getMessage());
      }
    });
  }

  /** RFC 9111 §4.4: a non-error response to an unsafe request invalidates the target URI (and Location, Content-Location). */
  private void invalidateAfterUnsafe(Req req, HttpResponse head) {
    HttpMethod m = req.method;
    boolean safe = m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS || m == HttpMethod.TRACE;
    int status = head.status().code();
    if (safe || status < 200 || status >= 400) {
      return;
    }
    core.cache.purgeUrl(req.url);
    for (String field : new String[] {"location", "content-location"}) {
      String v = head.headers().get(field);
      if (v != null && v.startsWith("/") && !v.startsWith("//")) { // same origin only
        core.cache.purgeUrl(v);
      }
    }
  }

  private DefaultFullHttpRequest originRequest(HttpMethod method, String url, HttpHeaders from, ByteBuf body) {
    DefaultFullHttpRequest r = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, url, body,
        DefaultHttpHeadersFactory.headersFactory().withValidation(false),
        DefaultHttpHeadersFactory.trailersFactory().withValidation(false));
    HttpHeaders h = r.headers();
    h.set(from);
    Headers.stripHopByHop(h);
    h.remove("expect");
    String clientHost = from.get("host");
    h.set("host", core.originAuthority);
    if (clientHost != null) {
      h.set("x-forwarded-host", clientHost);
    }
    InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
    String xff = from.get("x-forwarded-for");
    String client = remote == null ? "unknown" : remote.getAddress().getHostAddress();
    h.set("x-forwarded-for", xff == null ? client : xff + ", " + client);
    h.set("x-forwarded-proto", "http");
    String via = from.get("via");
    h.set("via", via == null ? Headers.VIA : via + ", " + Headers.VIA);
    if (body.isReadable() || !(method == HttpMethod.GET || method == HttpMethod.HEAD)) {
      h.set("content-length", body.readableBytes());
    } else {
      h.remove("content-length");
    }
    return r;
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  /** Serves a stored entry; false when its body was released meanwhile (then nothing was written). */
  private boolean serve(Req req, Entry entry, Result result, ByteBuf body, long now) {
    return serveOwned(req, entry, result, body, now);
  }

  /** As {@link #serve}, with a body reference already taken ({@code body}, released here) or null. */
  private boolean serveOwned(Req req, Entry entry, Result result, ByteBuf body, long now) {
    boolean notModified = entry.status == 200 && notModified(req, entry);
    boolean withBody = !req.head() && !notModified && !entry.bodyless();
    if (withBody && body == null) {
      body = entry.retainedBody();
      if (body == null) {
        return false;
      }
    } else if (!withBody && body != null) {
      body.release();
      body = null;
    }
    ByteBuf out = ctx.alloc().ioBuffer(entry.head.length + 96);
    if (notModified) {
      writeNotModifiedHead(out, entry);
    } else {
      out.writeBytes(entry.head);
    }
    out.writeBytes(AGE);
    out.writeCharSequence(Long.toString(entry.currentAge(now) / 1000), StandardCharsets.US_ASCII);
    out.writeBytes(CRLF);
    out.writeBytes(X_CACHE[result.ordinal()]);
    connectionField(out, req);
    out.writeBytes(CRLF);
    ctx.write(out, ctx.voidPromise());
    long bytes = 0;
    if (body != null) {
      bytes = body.readableBytes();
      ctx.write(body, ctx.voidPromise());
    }
    core.metrics.served(result, bytes);
    finished(req.keepAlive);
    return true;
  }

  /** RFC 9110 §13.1.1, §13.1.3, §13.2.2: If-None-Match wins; If-Modified-Since only without it. */
  private static boolean notModified(Req req, Entry entry) {
    String inm = req.headers.get("if-none-match");
    if (inm != null) {
      return Headers.noneMatchHits(inm, entry.etag);
    }
    String ims = req.headers.get("if-modified-since");
    if (ims != null && entry.lastModified >= 0) {
      long since = HttpDates.parse(ims);
      return since >= 0 && entry.lastModified <= since;
    }
    return false;
  }

  /** RFC 9110 §15.4.5: the fields a 304 carries. */
  private static void writeNotModifiedHead(ByteBuf out, Entry entry) {
    out.writeCharSequence("HTTP/1.1 304 Not Modified\r\n", StandardCharsets.US_ASCII);
    for (String name : new String[] {"cache-control", "content-location", "date", "etag", "expires", "vary"}) {
      for (String v : entry.headers.getAll(name)) {
        out.writeCharSequence(name + ": " + v + "\r\n", StandardCharsets.ISO_8859_1);
      }
    }
    if (entry.etag == null && entry.headers.contains("last-modified")) {
      out.writeCharSequence("last-modified: " + entry.headers.get("last-modified") + "\r\n", StandardCharsets.ISO_8859_1);
    }
    out.writeCharSequence("Via: " + Headers.VIA + "\r\n", StandardCharsets.US_ASCII);
  }

  private static void connectionField(ByteBuf out, Req req) {
    if (!req.keepAlive) {
      out.writeBytes(CLOSE);
    } else if (req.version.minorVersion() == 0) {
      out.writeBytes(KEEP_ALIVE);
    }
  }

  private static ByteBuf encodeHead(ChannelHandlerContext ctx, Req req, HttpResponse head, Result result,
      long contentLength, boolean chunked) {
    ByteBuf out = ctx.alloc().ioBuffer(512);
    HttpHeaders h = head.headers().copy();
    Headers.stripHopByHop(h);
    h.remove(Headers.SURROGATE_KEY);
    h.remove("content-length");
    String via = h.get("via");
    h.set("Via", via == null ? Headers.VIA : via + ", " + Headers.VIA);
    out.writeCharSequence("HTTP/1.1 " + head.status().code() + " " + head.status().reasonPhrase() + "\r\n",
        StandardCharsets.ISO_8859_1);
    for (Map.Entry<String, String> f : h) {
      out.writeCharSequence(f.getKey() + ": " + f.getValue() + "\r\n", StandardCharsets.ISO_8859_1);
    }
    if (contentLength >= 0) {
      out.writeCharSequence("Content-Length: " + contentLength + "\r\n", StandardCharsets.US_ASCII);
    } else if (chunked) {
      out.writeCharSequence("Transfer-Encoding: chunked\r\n", StandardCharsets.US_ASCII);
    }
    out.writeBytes(X_CACHE[result.ordinal()]);
    connectionField(out, req);
    out.writeBytes(CRLF);
    return out;
  }

  private static boolean bodyless(int status) {
    return status == 204 || status == 304 || status < 200;
  }

  /** An origin response buffered whole, not stored: to the client with a Content-Length. */
  private void writeOrigin(Req req, HttpResponse head, ByteBuf body, Result result) {
    int status = head.status().code();
    boolean noBody = bodyless(status);
    long length = noBody ? -1 : req.head() ? HttpUtil.getContentLength(head, body.readableBytes()) : body.readableBytes();
    ctx.write(encodeHead(ctx, req, head, result, length, false), ctx.voidPromise());
    long bytes = 0;
    if (!noBody && !req.head() && body.isReadable()) {
      bytes = body.readableBytes();
      ctx.write(body, ctx.voidPromise());
    } else {
      body.release();
    }
    core.metrics.served(result, bytes);
    finished(req.keepAlive);
  }

  /** A response over the max object size: streamed through with backpressure, never stored. */
  private OriginListener.StreamSink stream(Req req, HttpResponse head, Channel origin, Result result) {
    long length = HttpUtil.getContentLength(head, -1L);
    if (req.head()) { // a HEAD filled with a GET: the head only; the body is dropped with the origin connection
      ctx.write(encodeHead(ctx, req, head, result, length, length < 0), ctx.voidPromise());
      core.metrics.served(result, 0);
      finished(req.keepAlive);
      return null;
    }
    boolean chunked = length < 0 && req.version.minorVersion() == 1;
    if (length < 0 && !chunked) {
      req.keepAlive = false; // an HTTP/1.0 client: the body ends when the connection does
    }
    ctx.writeAndFlush(encodeHead(ctx, req, head, result, length, chunked), ctx.voidPromise());
    streamingOrigin = origin;
    return new OriginListener.StreamSink() {
      long bytes;

      @Override
      public void onContent(ByteBuf part) {
        bytes += part.readableBytes();
        if (chunked) {
          ByteBuf size = ctx.alloc().ioBuffer(16);
          size.writeCharSequence(Integer.toHexString(part.readableBytes()) + "\r\n", StandardCharsets.US_ASCII);
          ctx.write(size, ctx.voidPromise());
          ctx.write(part, ctx.voidPromise());
          ctx.writeAndFlush(Unpooled.wrappedBuffer(CRLF), ctx.voidPromise());
        } else {
          ctx.writeAndFlush(part, ctx.voidPromise());
        }
        if (!ctx.channel().isWritable()) {
          origin.config().setAutoRead(false); // resumed in channelWritabilityChanged
        }
      }

      @Override
      public void onEnd() {
        streamingOrigin = null;
        if (chunked) {
          ctx.write(Unpooled.wrappedBuffer(LAST_CHUNK), ctx.voidPromise());
        }
        core.metrics.served(result, bytes);
        finished(req.keepAlive);
      }

      @Override
      public void onAbort(Throwable cause) {
        streamingOrigin = null;
        log.debug("edge: origin failed mid-body for {}: {}", req.url, cause.toString());
        ctx.close(); // the client must see a truncated response, not a complete-looking one
      }
    };
  }

  private void writeError(Req req, int status, String reason) {
    byte[] text = (status + " " + reason.replaceAll("[\\r\\n]", " ") + "\n").getBytes(StandardCharsets.UTF_8);
    ByteBuf out = ctx.alloc().ioBuffer(128 + text.length);
    out.writeCharSequence("HTTP/1.1 " + status + " " + io.netty.handler.codec.http.HttpResponseStatus.valueOf(status).reasonPhrase()
        + "\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\nContent-Length: " + text.length + "\r\n",
        StandardCharsets.US_ASCII);
    out.writeBytes(X_CACHE[Result.BYPASS.ordinal()]);
    connectionField(out, req);
    out.writeBytes(CRLF);
    if (!req.head()) {
      out.writeBytes(text);
    }
    ctx.write(out, ctx.voidPromise());
    finished(req.keepAlive);
  }
}
