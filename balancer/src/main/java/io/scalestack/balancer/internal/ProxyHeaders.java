package io.scalestack.balancer.internal;

import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/** Rewrites requests and responses as they cross the proxy. Stateless; thread-safe. */
final class ProxyHeaders {

  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  private static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  // Netty deprecates its constant because HTTP/2 forbids the field; HTTP/1.1 proxies still strip it
  private static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
  private static final String VIA_NAME = "scalestack-lb";

  private ProxyHeaders() {}

  /**
   * Turns the client's request into the one sent to backends, in place: HTTP/1.1, origin-form
   * target, hop-by-hop fields removed, {@code Host} kept, {@code X-Forwarded-*} and {@code Via}
   * added, {@code Content-Length} exact.
   */
  static FullHttpRequest toBackend(FullHttpRequest request, SocketAddress client, SocketAddress local) {
    HttpHeaders headers = request.headers();
    HttpVersion clientVersion = request.protocolVersion();
    String host = headers.get(HttpHeaderNames.HOST);
    List<String> forwardedFor = headers.getAll(X_FORWARDED_FOR);

    removeHopByHop(headers);
    // the body is already here: an Expect: 100-continue was answered by the aggregator (RFC 9110 §10.1.1)
    headers.remove(HttpHeaderNames.EXPECT);

    String hostValue = host != null ? host : addressText(local);
    headers.set(HttpHeaderNames.HOST, hostValue);
    // X-Forwarded-For: every earlier hop, then the address this connection came from
    String clientIp = client instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress()
        : String.valueOf(client);
    headers.set(X_FORWARDED_FOR, forwardedFor.isEmpty() ? clientIp : String.join(", ", forwardedFor) + ", " + clientIp);
    // this listener is plain HTTP; set, not appended, so that a client cannot claim otherwise
    headers.set(X_FORWARDED_PROTO, "http");
    headers.set(X_FORWARDED_HOST, hostValue);
    // RFC 9110 §7.6.3: a gateway sends Via in each request it forwards
    headers.add(HttpHeaderNames.VIA, clientVersion.majorVersion() + "." + clientVersion.minorVersion() + " " + VIA_NAME);

    int length = request.content().readableBytes();
    HttpMethod method = request.method();
    if (length > 0 || HttpMethod.POST.equals(method) || HttpMethod.PUT.equals(method) || HttpMethod.PATCH.equals(method)) {
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, length);
    } else {
      // RFC 9110 §8.6: no Content-Length for a request without content whose method expects none
      headers.remove(HttpHeaderNames.CONTENT_LENGTH);
    }
    request.setUri(originForm(request.uri()));
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    return request;
  }

  /** Prepares a backend's response for the client, in place. */
  static void toClient(FullHttpResponse response, boolean keepAlive, HttpVersion clientVersion, HttpMethod method) {
    HttpHeaders headers = response.headers();
    removeHopByHop(headers);
    response.setProtocolVersion(HttpVersion.HTTP_1_1);
    int code = response.status().code();
    if (code < 200 || code == 204) {
      // RFC 9110 §8.6: never a Content-Length in a 1xx or 204 response
      headers.remove(HttpHeaderNames.CONTENT_LENGTH);
    } else if (!HttpMethod.HEAD.equals(method) && code != 304) {
      // a HEAD or 304 response carries the length the full representation would have
      headers.setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    }
    setConnection(headers, keepAlive, clientVersion);
  }

  /** {@code Connection: close} when closing; {@code keep-alive} for an HTTP/1.0 client kept alive. */
  static void setConnection(HttpHeaders headers, boolean keepAlive, HttpVersion clientVersion) {
    if (!keepAlive) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (clientVersion.minorVersion() == 0 && clientVersion.majorVersion() == 1) {
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
  }

  /**
   * Removes the fields that describe one connection only (RFC 9110 §7.6.1): {@code Connection},
   * every field it names, and {@code Proxy-Connection}, {@code Keep-Alive}, {@code TE}, {@code
   * Transfer-Encoding}, {@code Upgrade}; and {@code Trailer}, as the aggregated message carries no
   * trailer section.
   */
  static void removeHopByHop(HttpHeaders headers) {
    for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
      for (String token : value.split(",")) {
        String name = token.strip();
        if (!name.isEmpty()) {
          headers.remove(name);
        }
      }
    }
    headers.remove(HttpHeaderNames.CONNECTION);
    headers.remove(PROXY_CONNECTION);
    headers.remove(KEEP_ALIVE);
    headers.remove(HttpHeaderNames.TE);
    headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
    headers.remove(HttpHeaderNames.UPGRADE);
    headers.remove(HttpHeaderNames.TRAILER);
  }

  // RFC 9112 §3.2.2: a server must accept the absolute form; backends get the origin form
  static String originForm(String uri) {
    if (uri.startsWith("/") || uri.equals("*")) {
      return uri;
    }
    int scheme = uri.indexOf("://");
    if (scheme > 0) {
      int path = uri.indexOf('/', scheme + 3);
      int query = uri.indexOf('?', scheme + 3);
      if (path < 0 && query < 0) {
        return "/";
      }
      if (path < 0 || (query >= 0 && query < path)) {
        return "/" + uri.substring(query);
      }
      return uri.substring(path);
    }
    return uri;
  }

  private static String addressText(SocketAddress address) {
    return address instanceof InetSocketAddress inet ? HostPort.format(inet) : String.valueOf(address);
  }
}
