package io.scalestack.edge.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API: {@code GET /health}, {@code GET /metrics} (Prometheus text), and the purges,
 * {@code POST /purge?url=/path} (every variant of that URL) and {@code POST /purge?tag=T} (every
 * object whose {@code Surrogate-Key} named T), which need {@code Authorization: Bearer <token>}
 * (401 otherwise; 404 when no token is configured, i.e. purging is disabled). Each purge walks an
 * index: its cost is the number of objects it removes, whatever happened before.
 *
 * <p>Confined to its channel; the cache it purges is thread-safe.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);

  private final EdgeCore core;

  AdminHandler(EdgeCore core) {
    this.core = core;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    if (request.decoderResult().isFailure()) {
      respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "malformed request\n", false);
      return;
    }
    QueryStringDecoder q = new QueryStringDecoder(request.uri());
    String path = q.path();
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    switch (path) {
      case "/health" -> respond(ctx, request, HttpResponseStatus.OK, "text/plain", "ok\n", keepAlive);
      case "/metrics" -> respond(ctx, request, HttpResponseStatus.OK, io.scalestack.observability.Telemetry.CONTENT_TYPE,
          core.scrape(), keepAlive);
      case "/purge" -> purge(ctx, request, q, keepAlive);
      default -> respond(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain", "not found: " + path + "\n", keepAlive);
    }
  }

  private void purge(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder q, boolean keepAlive) {
    if (core.purgeToken == null) {
      respond(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain", "purge API disabled (no purge token configured)\n", keepAlive);
      return;
    }
    if (!authorized(request.headers().get("authorization"))) {
      FullHttpResponse r = response(HttpResponseStatus.UNAUTHORIZED, "text/plain", "401 purge needs Authorization: Bearer <token>\n");
      r.headers().set("www-authenticate", "Bearer realm=\"scalestack-edge\"");
      send(ctx, r, keepAlive);
      return;
    }
    if (request.method() != HttpMethod.POST && !request.method().name().equals("PURGE")) {
      FullHttpResponse r = response(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "405 purge: POST (expected)\n");
      r.headers().set("allow", "POST");
      send(ctx, r, keepAlive);
      return;
    }
    List<String> urls = q.parameters().getOrDefault("url", List.of());
    List<String> tags = q.parameters().getOrDefault("tag", List.of());
    if (urls.isEmpty() && tags.isEmpty()) {
      respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "purge: url=/path or tag=T (expected)\n", keepAlive);
      return;
    }
    int purged = 0;
    for (String url : urls) {
      if (!url.startsWith("/")) {
        respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "url: '" + url + "' (expected: a path starting with /)\n", keepAlive);
        return;
      }
      purged += core.cache.purgeUrl(url);
    }
    for (String tag : tags) {
      purged += core.cache.purgeTag(tag);
    }
    log.info("edge: purge url={} tag={}: {} objects", urls, tags, purged);
    respond(ctx, request, HttpResponseStatus.OK, "application/json", "{\"purged\":" + purged + "}\n", keepAlive);
  }

  private boolean authorized(String header) {
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    byte[] given = header.substring(7).strip().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, core.purgeToken.getBytes(StandardCharsets.UTF_8)); // constant time
  }

  private static FullHttpResponse response(HttpResponseStatus status, String type, String body) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    r.headers().set("content-type", type).set("cache-control", "no-store")
        .setInt("content-length", r.content().readableBytes());
    return r;
  }

  private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String type,
      String body, boolean keepAlive) {
    send(ctx, response(status, type, body), keepAlive);
  }

  private static void send(ChannelHandlerContext ctx, FullHttpResponse r, boolean keepAlive) {
    if (!keepAlive) {
      r.headers().set("connection", "close");
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.writeAndFlush(r);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("edge admin: {}", cause.toString());
    ctx.close();
  }
}
