package io.scalestack.balancer.internal;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.List;
import java.util.Map;

/**
 * The request checks of one HTTP/2 stream, on frames, before they become HTTP/1.1 messages: what
 * {@link StrictRequestDecoder} checks on an HTTP/1.1 connection, where it still applies. Netty's
 * codec already resets the stream (RFC 9113 §8.1.1, stream error PROTOCOL_ERROR) for
 * connection-specific fields and {@code TE} other than {@code trailers} (§8.2.2), uppercase
 * field names, pseudo-header fields after regular ones or unknown (§8.3), a Content-Length that
 * the DATA frames do not match (§8.1.1), and a header list above SETTINGS_MAX_HEADER_LIST_SIZE
 * (431). Here, answered with 400 like a malformed HTTP/1.1 request (§8.1.1 allows a response before
 * the reset):
 *
 * <ul>
 *   <li>a missing {@code :method}, {@code :scheme} or {@code :path}, or an empty {@code :path}
 *       (§8.3.1), a {@code :path} that is neither origin-form nor {@code *} for OPTIONS;
 *   <li>a method that is not a token; a field name that is not a token; a field value with NUL,
 *       CR or LF, or leading or trailing whitespace (§8.2.1) — such a value would split the
 *       HTTP/1.1 request sent on;
 *   <li>a {@code Host} that differs from {@code :authority} (§8.3.1); an equal one is dropped, as
 *       {@code :authority} becomes the {@code Host} sent on;
 *   <li>several Content-Length values that differ, or one that is not digits.
 * </ul>
 *
 * <p>Also: {@code CONNECT} gets 405 (this is a reverse proxy), a Content-Length above the body
 * limit 413 before any DATA is read, and DATA beyond the limit 413. Trailer fields are validated
 * by Netty and dropped, as on HTTP/1.1: the body is re-framed for the backend.
 *
 * <p>A refused request becomes a {@link Rejection} for {@link FrontendHandler}; the rest of the
 * stream's frames are discarded. Confined to the stream's event loop.
 */
final class Http2RequestCheck extends ChannelInboundHandlerAdapter {

  private enum State { HEAD, BODY, DONE, DISCARD }

  private final long maxContentLengthBytes;
  private State state = State.HEAD;
  private long bodyBytes;

  Http2RequestCheck(long maxContentLengthBytes) {
    this.maxContentLengthBytes = maxContentLengthBytes;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    switch (state) {
      case DISCARD -> ReferenceCountUtil.release(msg);
      case HEAD -> {
        if (msg instanceof Http2HeadersFrame frame) {
          head(ctx, frame);
        } else {
          ctx.fireChannelRead(msg);
        }
      }
      case BODY -> {
        if (msg instanceof Http2DataFrame data) {
          bodyBytes += data.content().readableBytes();
          if (bodyBytes > maxContentLengthBytes) {
            data.release();
            refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                "request body over " + maxContentLengthBytes + " bytes");
            return;
          }
          if (data.isEndStream()) {
            state = State.DONE;
          }
          ctx.fireChannelRead(data);
        } else if (msg instanceof Http2HeadersFrame trailers) {
          // trailer fields end the stream (§8.1); they are not forwarded, as on HTTP/1.1
          state = State.DONE;
          ctx.fireChannelRead(new DefaultHttp2DataFrame(Unpooled.EMPTY_BUFFER, trailers.isEndStream())
              .stream(trailers.stream()));
        } else {
          ctx.fireChannelRead(msg);
        }
      }
      case DONE -> ctx.fireChannelRead(msg);
    }
  }

  private void head(ChannelHandlerContext ctx, Http2HeadersFrame frame) {
    Http2Headers headers = frame.headers();
    CharSequence method = headers.method();
    if (method != null && HttpMethod.CONNECT.name().contentEquals(method)) {
      refuse(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "CONNECT is not supported: this is a reverse proxy");
      return;
    }
    String error = malformed(headers);
    if (error != null) {
      refuse(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request: " + error);
      return;
    }
    List<CharSequence> lengths = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
    if (!lengths.isEmpty()) {
      long length = contentLength(lengths);
      if (length < 0) {
        refuse(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request: Content-Length " + lengths
            + " (expected: one decimal length)");
        return;
      }
      if (length > maxContentLengthBytes) {
        refuse(ctx, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
            "Content-Length " + length + " is over " + maxContentLengthBytes + " bytes");
        return;
      }
    }
    state = frame.isEndStream() ? State.DONE : State.BODY;
    ctx.fireChannelRead(frame);
  }

  /** Why {@code headers} make a malformed request (RFC 9113 §8.2, §8.3.1), or null. */
  static String malformed(Http2Headers headers) {
    CharSequence method = headers.method();
    CharSequence scheme = headers.scheme();
    CharSequence path = headers.path();
    if (method == null || scheme == null || path == null || path.length() == 0) {
      return "a :method, :scheme and :path pseudo-header field are required (RFC 9113 §8.3.1)";
    }
    if (!StrictRequestDecoder.isToken(method)) {
      return ":method '" + method + "' is not a token";
    }
    boolean asterisk = "*".contentEquals(path) && HttpMethod.OPTIONS.name().contentEquals(method);
    if (!asterisk && path.charAt(0) != '/') {
      return ":path '" + path + "' (expected: an absolute path, or * for OPTIONS)";
    }
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c <= 0x20 || c >= 0x7f) {
        return ":path has a control character, a space or a non-ASCII byte";
      }
    }
    for (Map.Entry<CharSequence, CharSequence> field : headers) {
      CharSequence name = field.getKey();
      CharSequence value = field.getValue();
      if (name.length() > 0 && name.charAt(0) == ':') {
        continue; // Netty's codec validated the pseudo-header names
      }
      if (!StrictRequestDecoder.isToken(name)) {
        return "field name '" + name + "' is not a token";
      }
      if (!validValue(value)) {
        return "field '" + name + "' has a value with NUL, CR, LF or surrounding whitespace (RFC 9113 §8.2.1)";
      }
    }
    CharSequence authority = headers.authority();
    List<CharSequence> hosts = headers.getAll(HttpHeaderNames.HOST);
    if (authority != null && !hosts.isEmpty()) {
      for (CharSequence host : hosts) {
        if (!AsciiString.contentEqualsIgnoreCase(host, authority)) {
          return "Host '" + host + "' differs from :authority '" + authority + "'";
        }
      }
      // the same authority twice: :authority becomes the one Host
      headers.remove(HttpHeaderNames.HOST);
    }
    return null;
  }

  private static long contentLength(List<CharSequence> values) {
    long length = -1;
    for (CharSequence value : values) {
      for (String part : value.toString().split(",", -1)) {
        String digits = part.strip();
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
          return -1;
        }
        long n = Long.parseLong(digits);
        if (length >= 0 && n != length) {
          return -1;
        }
        length = n;
      }
    }
    return length;
  }

  private static boolean validValue(CharSequence value) {
    int n = value.length();
    if (n > 0 && (isWhitespace(value.charAt(0)) || isWhitespace(value.charAt(n - 1)))) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char c = value.charAt(i);
      if (c == 0 || c == '\r' || c == '\n') {
        return false;
      }
    }
    return true;
  }

  private static boolean isWhitespace(char c) {
    return c == ' ' || c == '\t';
  }

  private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String message) {
    state = State.DISCARD;
    ctx.fireChannelRead(new Rejection(status, message));
  }
}
