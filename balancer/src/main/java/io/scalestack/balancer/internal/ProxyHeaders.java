package io.scalestack.balancer.internal;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;

/** Rewrites request and response heads as they cross the proxy. Stateless; thread-safe. */
final class ProxyHeaders {

  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  static final AsciiString X_FORWARDED_HOST = AsciiString.cached("x-forwarded-host");
  static final AsciiString FORWARDED = AsciiString.cached("forwarded");
  static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  // Netty deprecates its constant because HTTP/2 forbids the field; HTTP/1.1 proxies still strip it
  static final AsciiString KEEP_ALIVE = AsciiString.cached("keep-alive");
  private static final AsciiString VIA_1_0 = AsciiString.cached("1.0 scalestack-lb");
  private static final AsciiString VIA_1_1 = AsciiString.cached("1.1 scalestack-lb");
  // RFC 9110 §7.6.3: the received protocol's version; HTTP/2 is "2"
  private static final AsciiString VIA_2 = AsciiString.cached("2 scalestack-lb");
  private static final AsciiString HTTP = AsciiString.cached("http");
  private static final AsciiString HTTPS = AsciiString.cached("https");

  private ProxyHeaders() {}

  /**
   * The authority of an absolute-form target ({@code http://host:port/path}), or null for any
   * other form (RFC 9112 §3.2.2).
   */
  static String absoluteAuthority(String uri) {
    if (uri.startsWith("/")) {
      return null;
    }
    int scheme = uri.indexOf("://");
    if (scheme <= 0) {
      return null;
    }
    int end = scheme + 3;
    while (end < uri.length() && "/?#".indexOf(uri.charAt(end)) < 0) {
      end++;
    }
    String authority = uri.substring(scheme + 3, end);
    int at = authority.lastIndexOf('@');
    return at >= 0 ? authority.substring(at + 1) : authority;
  }

  /**
   * Whether {@code request} asks to switch to WebSocket (RFC 6455 §4.1, RFC 9110 §7.8): an
   * HTTP/1.1 GET with {@code Upgrade: websocket} and {@code upgrade} among its Connection options.
   */
  static boolean isWebSocketUpgrade(HttpRequest request) {
    HttpHeaders headers = request.headers();
    return HttpMethod.GET.equals(request.method())
        && request.protocolVersion().equals(HttpVersion.HTTP_1_1)
        && headers.containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)
        && headers.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
  }

  /** Prepares a backend's 101 response for the client: hop-by-hop fields go, the upgrade stays. */
  static void toClientUpgrade(HttpResponse response) {
    HttpHeaders headers = response.headers();
    String upgrade = headers.get(HttpHeaderNames.UPGRADE);
    removeHopByHop(headers);
    response.setProtocolVersion(HttpVersion.HTTP_1_1);
    headers.set(HttpHeaderNames.UPGRADE, upgrade != null ? upgrade : HttpHeaderValues.WEBSOCKET);
    headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
  }

  /**
   * Turns the client's request head into the one sent to backends, in place: HTTP/1.1,
   * origin-form target, hop-by-hop fields removed, {@code Host} from an absolute-form target or
   * kept, {@code X-Forwarded-*}, {@code Forwarded} (RFC 7239) and {@code Via} added, the body
   * framed as the client framed it (chunked stays chunked; the decoder checked both); a request
   * from an HTTP/2 stream with a body but no Content-Length arrives marked chunked by the stream
   * codec and goes on chunked.
   *
   * @param tls whether the client connection is TLS: {@code X-Forwarded-Proto} and {@code
   *     Forwarded: proto} say {@code https}
   * @param http2 whether the request came on an HTTP/2 stream (for {@code Via})
   */
  static HttpRequest toBackend(HttpRequest request, SocketAddress client, SocketAddress local, boolean tls,
      boolean http2) {
    HttpHeaders headers = request.headers();
    HttpVersion clientVersion = request.protocolVersion();
    boolean chunked = HttpUtil.isTransferEncodingChunked(request);
    String authority = absoluteAuthority(request.uri());
    String host = authority != null ? authority : headers.get(HttpHeaderNames.HOST);
    List<String> forwardedFor = headers.contains(X_FORWARDED_FOR) ? headers.getAll(X_FORWARDED_FOR) : List.of();
    List<String> forwarded = headers.contains(FORWARDED) ? headers.getAll(FORWARDED) : List.of();
    String upgrade = isWebSocketUpgrade(request) ? headers.get(HttpHeaderNames.UPGRADE) : null;

    removeHopByHop(headers);
    if (upgrade != null) {
      // the one hop-by-hop request a proxy passes on: the switch is end to end (RFC 9110 §7.8)
      headers.set(HttpHeaderNames.UPGRADE, upgrade);
      headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    }
    // the balancer answers Expect: 100-continue itself (RFC 9110 §10.1.1)
    headers.remove(HttpHeaderNames.EXPECT);

    String hostValue = host != null ? host : addressText(local);
    headers.set(HttpHeaderNames.HOST, hostValue);
    String clientIp = client instanceof InetSocketAddress inet && inet.getAddress() != null
        ? inet.getAddress().getHostAddress()
        : String.valueOf(client);
    // X-Forwarded-For: every earlier hop, then the address this connection came from
    headers.set(X_FORWARDED_FOR, forwardedFor.isEmpty() ? clientIp : String.join(", ", forwardedFor) + ", " + clientIp);
    // what this listener speaks; set, not appended, so that a client cannot claim otherwise
    headers.set(X_FORWARDED_PROTO, tls ? HTTPS : HTTP);
    headers.set(X_FORWARDED_HOST, hostValue);
    // RFC 7239 §4: one forwarded-element per proxy, appended to the earlier ones
    String node = client instanceof InetSocketAddress inet && inet.getAddress() instanceof Inet6Address
        ? "\"[" + clientIp + "]\""
        : clientIp;
    String element = "for=" + node + ";host=" + quoteIfNeeded(hostValue) + (tls ? ";proto=https" : ";proto=http");
    headers.set(FORWARDED, forwarded.isEmpty() ? element : String.join(", ", forwarded) + ", " + element);
    // RFC 9110 §7.6.3: a gateway sends Via in each request it forwards
    headers.add(HttpHeaderNames.VIA, http2 ? VIA_2 : clientVersion.equals(HttpVersion.HTTP_1_0) ? VIA_1_0 : VIA_1_1);

    if (chunked) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } else if (!headers.contains(HttpHeaderNames.CONTENT_LENGTH)) {
      HttpMethod method = request.method();
      if (HttpMethod.POST.equals(method) || HttpMethod.PUT.equals(method) || HttpMethod.PATCH.equals(method)) {
        // RFC 9110 §8.6: a user agent sends Content-Length: 0 for a bodyless POST or PUT
        headers.set(HttpHeaderNames.CONTENT_LENGTH, HttpHeaderValues.ZERO);
      }
    }
    request.setUri(originForm(request.uri()));
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    return request;
  }

  /**
   * Removes the {@code x-http2-*} fields Netty's stream codec adds to a request converted from
   * HTTP/2 (stream id, scheme): they describe the client's connection, not the request.
   */
  static void removeHttp2Extensions(HttpHeaders headers) {
    for (HttpConversionUtil.ExtensionHeaderNames name : HttpConversionUtil.ExtensionHeaderNames.values()) {
      headers.remove(name.text());
    }
  }

  /**
   * Prepares a backend's response head for the client, in place, and says whether the client
   * connection can stay open after it.
   *
   * @param keepAlive whether the client connection may stay open as far as the request goes
   */
  static boolean toClient(HttpResponse response, boolean keepAlive, HttpVersion clientVersion, HttpMethod method) {
    HttpHeaders headers = response.headers();
    boolean chunked = HttpUtil.isTransferEncodingChunked(response);
    removeHopByHop(headers);
    response.setProtocolVersion(HttpVersion.HTTP_1_1);
    int code = response.status().code();
    if (code < 200 || code == 204) {
      // RFC 9110 §8.6, RFC 9112 §6.1: neither field in a 1xx or 204 response
      headers.remove(HttpHeaderNames.CONTENT_LENGTH);
    } else if (chunked && clientVersion.equals(HttpVersion.HTTP_1_1)) {
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
    } else if (!headers.contains(HttpHeaderNames.CONTENT_LENGTH) && !HttpMethod.HEAD.equals(method) && code != 304) {
      // the body is delimited by the backend closing, or chunked for an HTTP/1.0 client that cannot
      // read chunks: chunk it for an HTTP/1.1 client, or send it as is and close (RFC 9112 §6.3)
      if (clientVersion.equals(HttpVersion.HTTP_1_1)) {
        headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      } else {
        keepAlive = false;
      }
    }
    setConnection(headers, keepAlive, clientVersion);
    return keepAlive;
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
   * Transfer-Encoding}, {@code Upgrade}, and {@code Trailer} (trailers are not forwarded).
   */
  static void removeHopByHop(HttpHeaders headers) {
    if (headers.contains(HttpHeaderNames.CONNECTION)) {
      for (String value : headers.getAll(HttpHeaderNames.CONNECTION)) {
        for (String token : value.split(",")) {
          String name = token.strip();
          if (!name.isEmpty()) {
            headers.remove(name);
          }
        }
      }
      headers.remove(HttpHeaderNames.CONNECTION);
    }
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

  // RFC 7239 §4: a value that is not a token is a quoted-string
  private static String quoteIfNeeded(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!(Character.isLetterOrDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0) || c > 127) {
        return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
      }
    }
    return value;
  }

  private static String addressText(SocketAddress address) {
    return address instanceof InetSocketAddress inet ? HostPort.format(inet) : String.valueOf(address);
  }
}
