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
import io.scalestack.balancer.BackendStatus;
import io.scalestack.observability.Telemetry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
 * GET    /backends               200 [{"name","address","state","inFlight","activeConnections","requests"}, …]
 * GET    /backends/{name}        200 {…} | 404
 * PUT    /backends/{name}        {"address":"host:port"} → 201 created | 200 already there (or moved) | 400
 * DELETE /backends/{name}        204 | 404
 * POST   /backends/{name}/drain  200 {…} | 404
 * POST   /backends/{name}/ready  200 {…} | 404
 * </pre>
 *
 * <p>Errors are {@code {"error": "field: 'value' (expected: …)"}}. Requests on a connection are
 * answered in order; a host name in an address is resolved on a virtual thread, with reading
 * paused meanwhile. Confined to its connection's event loop.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {

  private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
  private static final String BODY_EXPECTED = "(expected: a JSON object like {\"address\":\"host:port\"})";

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
    } else {
      send(ctx, Json.error(HttpResponseStatus.NOT_FOUND,
          "path: '" + path + "' (expected: /health, /metrics, /backends, /backends/{name}, /backends/{name}/drain or /backends/{name}/ready)"),
          keepAlive);
    }
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
    JsonNode addressNode = body.get("address");
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
    if (!address.isUnresolved()) {
      send(ctx, added(name, address, text), keepAlive);
      return;
    }
    // a host name: resolving may block, so not here
    ctx.channel().config().setAutoRead(false);
    Thread.ofVirtual().name("lb-admin-resolve").start(() -> {
      FullHttpResponse response = added(name, address, text);
      ctx.executor().execute(() -> {
        send(ctx, response, keepAlive);
        ctx.channel().config().setAutoRead(true);
      });
    });
  }

  private FullHttpResponse added(String name, InetSocketAddress address, String text) {
    try {
      BalancerCore.AddResult result = core.addBackend(name, address);
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
