package io.scalestack.balancer.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.scalestack.balancer.Algorithm;
import io.scalestack.balancer.BackendStatus;
import io.scalestack.balancer.HashKey;
import io.scalestack.balancer.HealthCheck;
import io.scalestack.balancer.Mode;
import io.scalestack.balancer.OutlierDetection;
import io.scalestack.balancer.Pool;
import io.scalestack.balancer.ProxyProtocol;
import io.scalestack.balancer.Sticky;
import io.scalestack.observability.Telemetry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin API (HAProxy's stats page and runtime API, as JSON over HTTP):
 *
 * <pre>
 * GET    /health                 200 {"status":"UP"}
 * GET    /metrics                200 Prometheus text
 * GET    /backends               200 [{"name","address","state","inFlight","activeConnections","requests","weight","pool"}, …]
 * GET    /backends/{name}        200 {…} | 404
 * PUT    /backends/{name}        {"address":"host:port","weight":1..256,"pool":"name"} → 201 created
 *                                | 200 already there, re-weighted, moved to another pool or address | 400
 *                                (weight defaults to 1 and pool to "default" for a new backend, and to
 *                                the current ones, like the address, for an existing backend)
 * DELETE /backends/{name}        204 | 404
 * POST   /backends/{name}/drain  200 {…} | 404
 * POST   /backends/{name}/ready  200 {…} | 404
 * GET    /pools                  200 [{"name","algorithm","hashKey","hashLoadFactor","sticky","slowStartMillis",
 *                                      "panicThresholdPercent","outlierDetection","healthCheck",
 *                                      "sendProxyProtocol","panic","backends"}, …]
 * GET    /pools/{pool}           200 {…} | 404
 * PUT    /pools/{pool}           {"algorithm":"least-connections", "hashKey":"header:X-User", "hashLoadFactor":1.25,
 *                                 "sticky":"insert:SRV"|null, "slowStartMillis":30000, "panicThresholdPercent":50,
 *                                 "outlierDetection":{"consecutiveErrors","baseEjectionTimeMillis",
 *                                 "maxEjectionTimeMillis","maxEjectionPercent"}|null,
 *                                 "healthCheck":{"type","path","intervalMillis","timeoutMillis","jitter",
 *                                 "rise","fall"}|null (null: the balancer's check; type: tcp by default in tcp mode),
 *                                 "sendProxyProtocol":"v1"|"v2"|null (tcp mode)} → 201 created
 *                                | 200 changed (fields not given stay; backends, connections and requests in
 *                                flight stay) | 400
 * </pre>
 *
 * <p>When the balancer has an admin token, every request but {@code GET /health} must carry
 * {@code Authorization: Bearer <token>} (RFC 6750), else 401. Changes apply at once, without a
 * reload: no connection is dropped.
 *
 * <p>Errors are {@code {"error": "field: 'value' (expected: …)"}}. Requests on a connection are
 * answered in order; a host name in an address is resolved on a virtual thread, with reading
 * paused meanwhile. Confined to its connection's event loop.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
  private static final String BODY_EXPECTED = "(expected: a JSON object like {\"address\":\"host:port\"})";
  private static final String POOL_BODY_EXPECTED = "(expected: a JSON object like {\"algorithm\":\"round-robin\"})";

  private final BalancerCore core;

  AdminHandler(BalancerCore core) {
    this.core = core;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (request.decoderResult().isFailure()) {
      send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST,
          "malformed request: " + request.decoderResult().cause().getMessage()), false);
      return;
    }
    String path = new QueryStringDecoder(request.uri()).path();
    if (!authorized(request, path)) {
      FullHttpResponse denied = Json.error(HttpResponseStatus.UNAUTHORIZED,
          "authorization: missing or wrong (expected: Authorization: Bearer <admin token>)");
      denied.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"scalestack-lb\"");
      send(ctx, denied, keepAlive);
      return;
    }
    List<String> segments = new ArrayList<>();
    for (String segment : path.split("/")) {
      if (!segment.isEmpty()) {
        segments.add(segment);
      }
    }
    HttpMethod method = request.method();
    int n = segments.size();
    if (n == 1 && segments.get(0).equals("health")) {
      if (allowed(ctx, method, keepAlive, "GET")) {
        send(ctx, Json.response(HttpResponseStatus.OK, Map.of("status", "UP")), keepAlive);
      }
    } else if (n == 1 && segments.get(0).equals("metrics")) {
      if (allowed(ctx, method, keepAlive, "GET")) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
            Unpooled.wrappedBuffer(core.telemetry().scrape().getBytes(StandardCharsets.UTF_8)));
        response.headers()
            .set(HttpHeaderNames.CONTENT_TYPE, Telemetry.CONTENT_TYPE)
            .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
        send(ctx, response, keepAlive);
      }
    } else if (n == 1 && segments.get(0).equals("backends")) {
      if (allowed(ctx, method, keepAlive, "GET")) {
        List<Map<String, Object>> body = core.backends().stream().map(AdminHandler::json).toList();
        send(ctx, Json.response(HttpResponseStatus.OK, body), keepAlive);
      }
    } else if (n == 2 && segments.get(0).equals("backends")) {
      String name = segments.get(1);
      if (HttpMethod.GET.equals(method)) {
        BackendStatus status = core.backend(name);
        send(ctx, status == null ? unknown(name) : Json.response(HttpResponseStatus.OK, json(status)), keepAlive);
      } else if (HttpMethod.PUT.equals(method)) {
        put(ctx, name, request, keepAlive);
      } else if (HttpMethod.DELETE.equals(method)) {
        FullHttpResponse response;
        if (core.removeBackend(name)) {
          response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.NO_CONTENT);
        } else {
          response = unknown(name);
        }
        send(ctx, response, keepAlive);
      } else {
        notAllowed(ctx, method, keepAlive, "GET, PUT, DELETE");
      }
    } else if (n == 3 && segments.get(0).equals("backends")
        && (segments.get(2).equals("drain") || segments.get(2).equals("ready"))) {
      if (allowed(ctx, method, keepAlive, "POST")) {
        String name = segments.get(1);
        boolean known = segments.get(2).equals("drain") ? core.drain(name) : core.ready(name);
        BackendStatus status = known ? core.backend(name) : null;
        send(ctx, status == null ? unknown(name) : Json.response(HttpResponseStatus.OK, json(status)), keepAlive);
      }
    } else if (n == 1 && segments.get(0).equals("pools")) {
      if (allowed(ctx, method, keepAlive, "GET")) {
        List<Map<String, Object>> body = core.pools().stream().map(this::json).toList();
        send(ctx, Json.response(HttpResponseStatus.OK, body), keepAlive);
      }
    } else if (n == 2 && segments.get(0).equals("pools")) {
      String name = segments.get(1);
      if (HttpMethod.GET.equals(method)) {
        Pool pool = core.membership().pool(name);
        send(ctx, pool == null ? unknownPool(name) : Json.response(HttpResponseStatus.OK, json(pool)), keepAlive);
      } else if (HttpMethod.PUT.equals(method)) {
        send(ctx, putPool(name, request), keepAlive);
      } else {
        notAllowed(ctx, method, keepAlive, "GET, PUT");
      }
    } else {
      send(ctx, Json.error(HttpResponseStatus.NOT_FOUND,
          "path: '" + path + "' (expected: /health, /metrics, /backends, /backends/{name}, /backends/{name}/drain, "
              + "/backends/{name}/ready, /pools or /pools/{pool})"),
          keepAlive);
    }
  }

  // RFC 6750 §2.1; the token is compared in constant time
  private boolean authorized(FullHttpRequest request, String path) {
    String token = core.adminToken();
    if (token == null || (HttpMethod.GET.equals(request.method()) && path.equals("/health"))) {
      return true;
    }
    String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return false;
    }
    return MessageDigest.isEqual(header.substring(7).strip().getBytes(StandardCharsets.UTF_8),
        token.getBytes(StandardCharsets.UTF_8));
  }

  private FullHttpResponse putPool(String name, FullHttpRequest request) {
    String nameError = Pool.nameError(name);
    if (nameError != null) {
      return Json.error(HttpResponseStatus.BAD_REQUEST, nameError);
    }
    JsonNode body;
    try (InputStream in = new ByteBufInputStream(request.content().duplicate())) {
      body = Json.MAPPER.readTree(in);
    } catch (IOException e) {
      return Json.error(HttpResponseStatus.BAD_REQUEST, "body: not valid JSON " + POOL_BODY_EXPECTED);
    }
    if (body == null || !body.isObject()) {
      return Json.error(HttpResponseStatus.BAD_REQUEST, "body: " + (body == null ? "empty"
          : body.getNodeType().name().toLowerCase(java.util.Locale.ROOT)) + " " + POOL_BODY_EXPECTED);
    }
    Pool existing = core.membership().pool(name);
    Pool.Builder builder = existing != null ? existing.toBuilder() : Pool.builder(name);
    try {
      for (var fields = body.fields(); fields.hasNext(); ) {
        var field = fields.next();
        JsonNode value = field.getValue();
        switch (field.getKey()) {
          case "algorithm" -> builder.algorithm(Algorithm.parse(text("algorithm", value)));
          case "hashKey" -> builder.hashKey(HashKey.parse(text("hashKey", value)));
          case "hashLoadFactor" -> builder.hashLoadFactor(number("hashLoadFactor", value));
          case "sticky" -> {
            if (value.isNull()) {
              builder.withoutSticky();
            } else {
              builder.sticky(Sticky.parse(text("sticky", value)));
            }
          }
          case "outlierDetection" -> {
            if (value.isNull()) {
              builder.withoutOutlierDetection();
            } else {
              builder.outlierDetection(outlierDetection(value));
            }
          }
          case "healthCheck" -> builder.healthCheck(value.isNull() ? null : healthCheck(value, core.listenerOptions().mode()));
          case "slowStartMillis" -> builder.slowStart(Duration.ofMillis((long) number("slowStartMillis", value)));
          case "panicThresholdPercent" -> builder.panicThresholdPercent((int) number("panicThresholdPercent", value));
          case "sendProxyProtocol" -> {
            if (value.isNull()) {
              builder.withoutProxyProtocol();
            } else {
              builder.sendProxyProtocol(ProxyProtocol.parse(text("sendProxyProtocol", value)));
            }
          }
          default -> throw new IllegalArgumentException(field.getKey() + ": unknown field (expected: algorithm, "
              + "hashKey, hashLoadFactor, sticky, slowStartMillis, panicThresholdPercent, outlierDetection, "
              + "healthCheck or sendProxyProtocol)");
        }
      }
      Pool pool = builder.build();
      boolean created = core.putPool(pool);
      return Json.response(created ? HttpResponseStatus.CREATED : HttpResponseStatus.OK, json(pool));
    } catch (IllegalArgumentException e) {
      return Json.error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
    }
  }

  private static OutlierDetection outlierDetection(JsonNode node) {
    if (!node.isObject()) {
      throw new IllegalArgumentException("outlierDetection: " + node + " (expected: an object like {\"consecutiveErrors\":5})");
    }
    OutlierDetection.Builder b = OutlierDetection.builder();
    for (var fields = node.fields(); fields.hasNext(); ) {
      var field = fields.next();
      JsonNode value = field.getValue();
      switch (field.getKey()) {
        case "consecutiveErrors" -> b.consecutiveErrors((int) number("consecutiveErrors", value));
        case "baseEjectionTimeMillis" -> b.baseEjectionTime(Duration.ofMillis((long) number("baseEjectionTimeMillis", value)));
        case "maxEjectionTimeMillis" -> b.maxEjectionTime(Duration.ofMillis((long) number("maxEjectionTimeMillis", value)));
        case "maxEjectionPercent" -> b.maxEjectionPercent((int) number("maxEjectionPercent", value));
        default -> throw new IllegalArgumentException("outlierDetection." + field.getKey() + ": unknown field (expected: "
            + "consecutiveErrors, baseEjectionTimeMillis, maxEjectionTimeMillis or maxEjectionPercent)");
      }
    }
    return b.build();
  }

  // the type defaults to the mode's, as in lb.yaml: a TCP backend need not speak HTTP
  private static HealthCheck healthCheck(JsonNode node, Mode mode) {
    if (!node.isObject()) {
      throw new IllegalArgumentException("healthCheck: " + node + " (expected: an object like {\"type\":\"tcp\"})");
    }
    HealthCheck.Builder b = HealthCheck.builder();
    if (mode == Mode.TCP) {
      b.type(HealthCheck.Type.TCP);
    }
    for (var fields = node.fields(); fields.hasNext(); ) {
      var field = fields.next();
      JsonNode value = field.getValue();
      switch (field.getKey()) {
        case "type" -> b.type(switch (text("healthCheck.type", value).toLowerCase(java.util.Locale.ROOT)) {
          case "http" -> HealthCheck.Type.HTTP;
          case "tcp" -> HealthCheck.Type.TCP;
          default -> throw new IllegalArgumentException("healthCheck.type: " + value + " (expected: \"http\" or \"tcp\")");
        });
        case "path" -> b.path(text("healthCheck.path", value));
        case "intervalMillis" -> b.interval(Duration.ofMillis((long) number("healthCheck.intervalMillis", value)));
        case "timeoutMillis" -> b.timeout(Duration.ofMillis((long) number("healthCheck.timeoutMillis", value)));
        case "jitter" -> b.jitter(number("healthCheck.jitter", value));
        case "rise" -> b.rise((int) number("healthCheck.rise", value));
        case "fall" -> b.fall((int) number("healthCheck.fall", value));
        default -> throw new IllegalArgumentException("healthCheck." + field.getKey() + ": unknown field (expected: "
            + "type, path, intervalMillis, timeoutMillis, jitter, rise or fall)");
      }
    }
    return b.build();
  }

  private static String text(String field, JsonNode value) {
    if (!value.isTextual()) {
      throw new IllegalArgumentException(field + ": " + value + " (expected: a string)");
    }
    return value.asText();
  }

  private static double number(String field, JsonNode value) {
    if (!value.isNumber()) {
      throw new IllegalArgumentException(field + ": " + value + " (expected: a number)");
    }
    return value.asDouble();
  }

  private Map<String, Object> json(Pool pool) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("name", pool.name());
    node.put("algorithm", pool.algorithm().configName());
    node.put("hashKey", pool.hashKey() == null ? null : pool.hashKey().toString());
    node.put("hashLoadFactor", pool.hashLoadFactor());
    node.put("sticky", pool.sticky() == null ? null : pool.sticky().toString());
    node.put("slowStartMillis", pool.slowStart().toMillis());
    node.put("panicThresholdPercent", pool.panicThresholdPercent());
    OutlierDetection od = pool.outlierDetection();
    if (od == null) {
      node.put("outlierDetection", null);
    } else {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("consecutiveErrors", od.consecutiveErrors());
      o.put("baseEjectionTimeMillis", od.baseEjectionTime().toMillis());
      o.put("maxEjectionTimeMillis", od.maxEjectionTime().toMillis());
      o.put("maxEjectionPercent", od.maxEjectionPercent());
      node.put("outlierDetection", o);
    }
    node.put("healthCheck", pool.healthCheck().map(hc -> {
      Map<String, Object> h = new LinkedHashMap<>();
      h.put("type", hc.type().name().toLowerCase(java.util.Locale.ROOT));
      h.put("path", hc.path());
      h.put("intervalMillis", hc.interval().toMillis());
      h.put("timeoutMillis", hc.timeout().toMillis());
      h.put("jitter", hc.jitter());
      h.put("rise", hc.rise());
      h.put("fall", hc.fall());
      return h;
    }).orElse(null));
    node.put("sendProxyProtocol", pool.sendProxyProtocol() == null ? null : pool.sendProxyProtocol().configName());
    node.put("panic", core.membership().panic(pool.name()));
    node.put("backends", core.backends().stream().filter(b -> b.pool().equals(pool.name())).map(BackendStatus::name)
        .toList());
    return node;
  }

  private static FullHttpResponse unknownPool(String name) {
    return Json.error(HttpResponseStatus.NOT_FOUND, "pool: '" + name + "' (expected: the name of a pool)");
  }

  private void put(ChannelHandlerContext ctx, String name, FullHttpRequest request, boolean keepAlive) {
    String nameError = BalancerCore.nameError(name);
    if (nameError != null) {
      send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST, nameError), keepAlive);
      return;
    }
    JsonNode body;
    try (InputStream in = new ByteBufInputStream(request.content().duplicate())) {
      body = Json.MAPPER.readTree(in);
    } catch (IOException e) {
      send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST, "body: not valid JSON " + BODY_EXPECTED), keepAlive);
      return;
    }
    if (body == null || !body.isObject()) {
      send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST,
          "body: " + (body == null ? "empty" : body.getNodeType().name().toLowerCase(java.util.Locale.ROOT)) + " " + BODY_EXPECTED),
          keepAlive);
      return;
    }
    BackendStatus current = core.backend(name);
    JsonNode weightNode = body.get("weight");
    int weight = current != null ? current.weight() : 1;
    if (weightNode != null) {
      if (!weightNode.isInt() || weightNode.asInt() < 1 || weightNode.asInt() > 256) {
        send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST, "weight: " + weightNode + " (expected: 1..256)"), keepAlive);
        return;
      }
      weight = weightNode.asInt();
    }
    JsonNode poolNode = body.get("pool");
    String pool = current != null ? current.pool() : Pool.DEFAULT;
    if (poolNode != null) {
      String poolError = poolNode.isTextual() ? core.membership().poolError(poolNode.asText())
          : "pool: " + poolNode + " (expected: the name of a pool)";
      if (poolError != null) {
        send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST, poolError), keepAlive);
        return;
      }
      pool = poolNode.asText();
    }
    JsonNode addressNode = body.get("address");
    if (addressNode == null && current != null) {
      // re-weight or move between pools: the address stays
      send(ctx, added(name, current.address(), HostPort.format(current.address()), weight, pool), keepAlive);
      return;
    }
    if (addressNode == null || !addressNode.isTextual()) {
      send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST,
          "address: " + (addressNode == null ? "missing" : addressNode.toString()) + " (expected: host:port)"),
          keepAlive);
      return;
    }
    String text = addressNode.asText();
    InetSocketAddress address;
    try {
      address = HostPort.parse("address", text);
    } catch (IllegalArgumentException e) {
      send(ctx, Json.error(HttpResponseStatus.BAD_REQUEST, e.getMessage()), keepAlive);
      return;
    }
    int w = weight;
    String p = pool;
    if (!address.isUnresolved()) {
      send(ctx, added(name, address, text, w, p), keepAlive);
      return;
    }
    // a host name: resolving may block, so not here
    ctx.channel().config().setAutoRead(false);
    Thread.ofVirtual().name("lb-admin-resolve").start(() -> {
      FullHttpResponse response = added(name, address, text, w, p);
      ctx.executor().execute(() -> {
        send(ctx, response, keepAlive);
        ctx.channel().config().setAutoRead(true);
      });
    });
  }

  private FullHttpResponse added(String name, InetSocketAddress address, String text, int weight, String pool) {
    try {
      BalancerCore.AddResult result = core.addBackend(name, address, weight, pool);
      BackendStatus status = core.backend(name);
      return Json.response(result == BalancerCore.AddResult.CREATED ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
          status == null ? Map.of("name", name) : json(status));
    } catch (IllegalArgumentException e) {
      return Json.error(HttpResponseStatus.BAD_REQUEST, e.getMessage());
    } catch (IllegalStateException e) {
      log.debug("PUT /backends/{} {}: {}", name, text, e.getMessage());
      return Json.error(HttpResponseStatus.SERVICE_UNAVAILABLE, e.getMessage());
    }
  }

  private static Map<String, Object> json(BackendStatus status) {
    Map<String, Object> node = new LinkedHashMap<>();
    node.put("name", status.name());
    node.put("address", HostPort.format(status.address()));
    node.put("state", status.state().name());
    node.put("inFlight", status.inFlight());
    node.put("activeConnections", status.activeConnections());
    node.put("requests", status.requests());
    node.put("weight", status.weight());
    node.put("pool", status.pool());
    return node;
  }

  private static FullHttpResponse unknown(String name) {
    return Json.error(HttpResponseStatus.NOT_FOUND, "backend: '" + name + "' (expected: the name of a backend)");
  }

  private boolean allowed(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive, String allow) {
    if (method.name().equals(allow)) {
      return true;
    }
    notAllowed(ctx, method, keepAlive, allow);
    return false;
  }

  private void notAllowed(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive, String allow) {
    FullHttpResponse response = Json.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
        "method: " + method.name() + " (expected: " + allow + ")");
    response.headers().set(HttpHeaderNames.ALLOW, allow);
    send(ctx, response, keepAlive);
  }

  private static void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    if (!response.headers().contains(HttpHeaderNames.CONTENT_LENGTH) && response.status().code() != 204) {
      response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    }
    ProxyHeaders.setConnection(response.headers(), keepAlive, HttpVersion.HTTP_1_1);
    var future = ctx.writeAndFlush(response);
    if (!keepAlive) {
      future.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("closing admin connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
    ctx.close();
  }
}
