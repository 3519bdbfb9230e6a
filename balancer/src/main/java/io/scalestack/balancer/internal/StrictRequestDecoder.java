package io.scalestack.balancer.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A strict HTTP/1.1 request decoder for a proxy: it refuses everything that two parsers could read
 * differently (the root of request smuggling), rather than guessing. Emits, per request, one
 * {@link HttpRequest}, then {@link io.netty.handler.codec.http.HttpContent}s as the body arrives
 * (never buffering it whole), the last one a {@link LastHttpContent}. A request it refuses becomes
 * a {@link Rejection} (answered in order; then the connection closes) and everything after it on
 * the connection is discarded.
 *
 * <p>Refused, with the RFC that says so:
 *
 * <ul>
 *   <li>a line ending in a bare LF (RFC 9112 §2.2 allows accepting it; a proxy that reads a line
 *       end its backend does not is how smuggling starts), a CR anywhere but before LF;
 *   <li>obsolete line folding (§5.2), whitespace between a field name and the colon (§5.1), a
 *       field name that is not a token, a control character (NUL, CR, LF, DEL …) in a value
 *       (RFC 9110 §5.5);
 *   <li>both Transfer-Encoding and Content-Length (§6.1); Transfer-Encoding in an HTTP/1.0
 *       request (§6.1); any Transfer-Encoding but exactly {@code chunked} ({@code chunked,
 *       identity}, {@code xchunked}, {@code chunked, chunked}: §6.3 says 400 when chunked is not
 *       final; codings before chunked get 501, as a proxy cannot vouch for them);
 *   <li>a Content-Length that is not digits, or several that differ; identical repeats are
 *       folded into one (RFC 9110 §8.6 allows it);
 *   <li>a chunk size that is not hex or overflows, a chunk-size line over 4 KiB, malformed chunk
 *       extensions or more than 16 KiB of them in a request (the chunk-extension flood), chunk data
 *       not followed by exactly CRLF (§7.1);
 *   <li>a request line that is not {@code method SP target SP HTTP/1.x} with single spaces, an
 *       unsupported version (505), a target with controls or spaces;
 *   <li>a request line longer than {@code maxRequestLineBytes} (414), a header section longer
 *       than {@code maxHeaderBytes} (431), a body longer than {@code maxContentLengthBytes} (413).
 * </ul>
 *
 * <p>A request without a body comes as one {@link io.netty.handler.codec.http.FullHttpRequest}.
 *
 * <p>Chunk extensions and trailer fields are validated and dropped: the body is re-framed when it
 * goes to a backend, so the backend never sees the client's framing bytes. The decoder also
 * reports when a request head started arriving, for the request-header timeout.
 *
 * <p>Confined to its channel.
 */
final class StrictRequestDecoder extends ByteToMessageDecoder {

  private enum State { HEAD, BODY_FIXED, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, UPGRADE_WAIT, BAD }

  static final int MAX_CHUNK_SIZE_LINE = 4096;
  static final int MAX_CHUNK_EXTENSION_BYTES = 16 * 1024;
  // leading empty lines before a request line (RFC 9112 §2.2 says a server SHOULD ignore at least one)
  private static final int MAX_LEADING_EMPTY_LINES = 8;

  private static final HttpHeadersFactory HEADERS = DefaultHttpHeadersFactory.headersFactory().withValidation(false);
  private static final boolean[] TCHAR = new boolean[128];

  static {
    for (char c = '0'; c <= '9'; c++) {
      TCHAR[c] = true;
    }
    for (char c = 'a'; c <= 'z'; c++) {
      TCHAR[c] = true;
      TCHAR[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TCHAR[c] = true;
    }
  }

  private final int maxRequestLineBytes;
  private final int maxHeaderBytes;
  private final long maxContentLengthBytes;

  private State state = State.HEAD;
  private int scanned; // bytes of the current head (or chunk-size line / trailers) already searched
  private long headStartNanos; // 0 while no head is arriving
  private long remaining; // bytes left of the fixed body or the current chunk
  private long bodyBytes;
  private int extensionBytes;
  private int scannedLineStart; // where the line being searched starts, relative to the head
  private int requestLineBytes; // of the head being read, once its first line is complete

  StrictRequestDecoder(int maxRequestLineBytes, int maxHeaderBytes, long maxContentLengthBytes) {
    this.maxRequestLineBytes = maxRequestLineBytes;
    this.maxHeaderBytes = maxHeaderBytes;
    this.maxContentLengthBytes = maxContentLengthBytes;
  }

  /** {@link System#nanoTime()} when the head now arriving began, or 0 when none is partly read. */
  long headStartNanos() {
    return headStartNanos;
  }

  /** Restarts the clock of a partly read head (reading was paused while a response was pending). */
  void restartHeadClock() {
    if (headStartNanos != 0) {
      headStartNanos = System.nanoTime();
    }
  }

  /** Whether a request body is being read (its head was emitted, its end was not). */
  boolean inBody() {
    return state != State.HEAD && state != State.BAD && state != State.UPGRADE_WAIT;
  }

  /**
   * After an upgrade request the bytes that follow may not be HTTP: they wait, unread, until the
   * upgrade is refused (then parsing resumes; call this, then feed the decoder) or done (then the
   * decoder is removed and hands them on raw).
   *
   * @return whether the decoder was waiting
   */
  boolean resumeAfterRefusedUpgrade() {
    if (state == State.UPGRADE_WAIT) {
      state = State.HEAD;
      return true;
    }
    return false;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    while (in.isReadable()) {
      switch (state) {
        case HEAD -> {
          if (!readHead(in, out)) {
            return;
          }
        }
        case BODY_FIXED -> {
          int n = (int) Math.min(remaining, in.readableBytes());
          ByteBuf data = in.readRetainedSlice(n);
          remaining -= n;
          if (remaining == 0) {
            out.add(new DefaultLastHttpContent(data));
            state = State.HEAD;
          } else {
            out.add(new DefaultHttpContent(data));
          }
        }
        case CHUNK_SIZE -> {
          if (!readChunkSize(in, out)) {
            return;
          }
        }
        case CHUNK_DATA -> {
          int n = (int) Math.min(remaining, in.readableBytes());
          out.add(new DefaultHttpContent(in.readRetainedSlice(n)));
          remaining -= n;
          if (remaining == 0) {
            state = State.CHUNK_DATA_END;
          }
        }
        case CHUNK_DATA_END -> {
          // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF — exactly CRLF
          if (in.readableBytes() < 2) {
            if (in.getByte(in.readerIndex()) != '\r') {
              reject(in, out, HttpResponseStatus.BAD_REQUEST, "chunk data not followed by CRLF");
            }
            return;
          }
          if (in.getByte(in.readerIndex()) != '\r' || in.getByte(in.readerIndex() + 1) != '\n') {
            reject(in, out, HttpResponseStatus.BAD_REQUEST, "chunk data not followed by CRLF");
            return;
          }
          in.skipBytes(2);
          state = State.CHUNK_SIZE;
        }
        case TRAILERS -> {
          if (!readTrailers(in, out)) {
            return;
          }
        }
        case UPGRADE_WAIT -> {
          return;
        }
        case BAD -> {
          in.skipBytes(in.readableBytes());
          return;
        }
      }
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    decode(ctx, in, out);
    if (state != State.HEAD && state != State.BAD && state != State.UPGRADE_WAIT) {
      // the client half-closed in the middle of a body: the request can never complete
      reject(in, out, HttpResponseStatus.BAD_REQUEST, "the connection ended inside the request body");
    } else if (state == State.HEAD && headStartNanos != 0) {
      reject(in, out, HttpResponseStatus.BAD_REQUEST, "the connection ended inside the request head");
    }
  }

  // ---- head

  private boolean readHead(ByteBuf in, List<Object> out) {
    int start = in.readerIndex();
    // RFC 9112 §2.2: ignore a few empty lines (CRLF) before the request line
    int skipped = 0;
    while (scanned == 0 && in.readableBytes() >= 1 && in.getByte(in.readerIndex()) == '\r') {
      if (in.readableBytes() < 2) {
        return false;
      }
      if (in.getByte(in.readerIndex() + 1) != '\n' || ++skipped > MAX_LEADING_EMPTY_LINES) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: stray CR before the request line");
        return false;
      }
      in.skipBytes(2);
      start = in.readerIndex();
    }
    if (!in.isReadable()) {
      return false;
    }
    if (headStartNanos == 0) {
      headStartNanos = System.nanoTime();
    }
    int end = start + Math.min(in.readableBytes(), maxRequestLineBytes + maxHeaderBytes + 4);
    // find the empty line that ends the head; check each line ending on the way
    int lineStart = start + scannedLineStart;
    int pos = start + scanned;
    while (true) {
      int lf = in.indexOf(pos, end, (byte) '\n');
      if (lf < 0) {
        scanned = end - start;
        if (lineStart == start && end - start > maxRequestLineBytes) {
          reject(in, out, HttpResponseStatus.REQUEST_URI_TOO_LONG,
              "malformed request: request line longer than " + maxRequestLineBytes + " bytes");
        } else if (lineStart > start && end - lineStart + (lineStart - start - requestLineBytes) > maxHeaderBytes) {
          reject(in, out, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
              "malformed request: header section longer than " + maxHeaderBytes + " bytes");
        }
        return false;
      }
      if (lf == start || in.getByte(lf - 1) != '\r') {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: line ends in a bare LF (expected: CRLF)");
        return false;
      }
      if (lf - 1 == lineStart && lineStart > start) {
        // the empty line: the head is complete
        scanned = 0;
        scannedLineStart = 0;
        headStartNanos = 0;
        parseHead(in, start, lf + 1, out);
        return state != State.BAD;
      }
      if (lineStart == start) {
        if (lf + 1 - start > maxRequestLineBytes + 2) {
          reject(in, out, HttpResponseStatus.REQUEST_URI_TOO_LONG,
              "malformed request: request line longer than " + maxRequestLineBytes + " bytes");
          return false;
        }
        requestLineBytes = lf + 1 - start;
      } else if (lf + 1 - start - requestLineBytes > maxHeaderBytes) {
        reject(in, out, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            "malformed request: header section longer than " + maxHeaderBytes + " bytes");
        return false;
      }
      lineStart = lf + 1;
      pos = lf + 1;
      scanned = pos - start;
      scannedLineStart = scanned;
    }
  }

  private void parseHead(ByteBuf in, int start, int end, List<Object> out) {
    int lineEnd = in.indexOf(start, end, (byte) '\n') - 1; // index of CR
    // request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
    int sp1 = in.indexOf(start, lineEnd, (byte) ' ');
    int sp2 = sp1 < 0 ? -1 : in.indexOf(sp1 + 1, lineEnd, (byte) ' ');
    if (sp1 <= start || sp2 < 0 || sp2 == sp1 + 1) {
      reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: request line is not 'method target version'");
      return;
    }
    for (int i = start; i < sp1; i++) {
      if (!isTchar(in.getByte(i))) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: method is not a token");
        return;
      }
    }
    for (int i = sp1 + 1; i < sp2; i++) {
      byte b = in.getByte(i);
      if (b <= 0x20 || b == 0x7f) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: control character or space in the target");
        return;
      }
    }
    HttpVersion version = version(in, sp2 + 1, lineEnd);
    if (version == null) {
      if (lineEnd - sp2 - 1 == 8 && in.toString(sp2 + 1, 5, StandardCharsets.US_ASCII).equals("HTTP/")
          && Character.isDigit(in.getByte(sp2 + 6)) && in.getByte(sp2 + 7) == '.' && Character.isDigit(in.getByte(sp2 + 8))) {
        reject(in, out, HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "unsupported HTTP version (expected: HTTP/1.0 or HTTP/1.1)");
      } else {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: bad HTTP version");
      }
      return;
    }
    HttpMethod method = HttpMethod.valueOf(in.toString(start, sp1 - start, StandardCharsets.US_ASCII));
    String uri = in.toString(sp1 + 1, sp2 - sp1 - 1, StandardCharsets.US_ASCII);

    HttpHeaders headers = HEADERS.newHeaders();
    int pos = lineEnd + 2;
    while (pos < end - 2) {
      int lf = in.indexOf(pos, end, (byte) '\n');
      int cr = lf - 1;
      byte first = in.getByte(pos);
      if (first == ' ' || first == '\t') {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: obsolete line folding (RFC 9112 §5.2)");
        return;
      }
      int colon = -1;
      for (int i = pos; i < cr; i++) {
        byte b = in.getByte(i);
        if (b == ':') {
          colon = i;
          break;
        }
        if (!isTchar(b)) {
          reject(in, out, HttpResponseStatus.BAD_REQUEST, b == ' ' || b == '\t'
              ? "malformed request: whitespace in a field name or before the colon (RFC 9112 §5.1)"
              : "malformed request: field name is not a token");
          return;
        }
      }
      if (colon <= pos) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: header line without a field name and colon");
        return;
      }
      int vs = colon + 1;
      int ve = cr;
      while (vs < ve && isOws(in.getByte(vs))) {
        vs++;
      }
      while (ve > vs && isOws(in.getByte(ve - 1))) {
        ve--;
      }
      for (int i = vs; i < ve; i++) {
        byte b = in.getByte(i);
        // field-value = *( VCHAR / SP / HTAB / obs-text ): no NUL, CR, LF or other controls (RFC 9110 §5.5)
        if ((b >= 0 && b < 0x20 && b != '\t') || b == 0x7f) {
          reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: control character in a field value");
          return;
        }
      }
      headers.add(new AsciiString(in.toString(pos, colon - pos, StandardCharsets.US_ASCII)),
          in.toString(vs, ve - vs, StandardCharsets.ISO_8859_1));
      pos = lf + 1;
    }
    in.readerIndex(end);

    HttpRequest request = new DefaultHttpRequest(version, method, uri, headers);
    if (!frame(request, in, out)) {
      return;
    }
    // a request without a body is one message, so that the proxy knows at once that it is complete
    if (state == State.HEAD) {
      out.add(new DefaultFullHttpRequest(version, method, uri, Unpooled.EMPTY_BUFFER, headers, EmptyHttpHeaders.INSTANCE));
      if (ProxyHeaders.isWebSocketUpgrade(request)) {
        state = State.UPGRADE_WAIT;
      }
    } else {
      out.add(request);
    }
  }

  // RFC 9112 §6: how long is the body? Sets the state; false after a rejection
  private boolean frame(HttpRequest request, ByteBuf in, List<Object> out) {
    HttpHeaders headers = request.headers();
    List<String> te = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
    List<String> cl = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
    bodyBytes = 0;
    extensionBytes = 0;
    if (!te.isEmpty()) {
      if (!cl.isEmpty()) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: both Transfer-Encoding and Content-Length are present");
        return false;
      }
      if (request.protocolVersion().equals(HttpVersion.HTTP_1_0)) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: Transfer-Encoding in an HTTP/1.0 request");
        return false;
      }
      int codings = 0;
      boolean chunkedLast = false;
      boolean chunkedEarlier = false;
      for (String value : te) {
        for (String token : value.split(",", -1)) {
          String coding = token.strip();
          if (coding.isEmpty()) {
            continue;
          }
          codings++;
          if (chunkedLast) {
            chunkedEarlier = true;
          }
          chunkedLast = coding.equalsIgnoreCase("chunked");
        }
      }
      if (!chunkedLast || chunkedEarlier) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: Transfer-Encoding '" + String.join(", ", te)
            + "' (expected: chunked)");
        return false;
      }
      if (codings > 1) {
        reject(in, out, HttpResponseStatus.NOT_IMPLEMENTED, "Transfer-Encoding '" + String.join(", ", te)
            + "' is not supported (expected: chunked)");
        return false;
      }
      headers.set(HttpHeaderNames.TRANSFER_ENCODING, "chunked");
      state = State.CHUNK_SIZE;
      return true;
    }
    if (!cl.isEmpty()) {
      long length = -1;
      for (String value : cl) {
        for (String token : value.split(",", -1)) {
          long parsed = digits(token.strip());
          if (parsed < 0) {
            reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: Content-Length '" + value + "' (expected: digits)");
            return false;
          }
          if (length >= 0 && parsed != length) {
            reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: differing Content-Length values");
            return false;
          }
          length = parsed;
        }
      }
      if (length > maxContentLengthBytes) {
        reject(in, out, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request content exceeds " + maxContentLengthBytes + " bytes");
        return false;
      }
      // identical duplicates fold into one (RFC 9110 §8.6)
      headers.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(length));
      if (length > 0) {
        remaining = length;
        state = State.BODY_FIXED;
      }
      return true;
    }
    return true;
  }

  private static long digits(String s) {
    if (s.isEmpty() || s.length() > 18) {
      return -1;
    }
    long value = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private static HttpVersion version(ByteBuf in, int from, int to) {
    if (to - from != 8) {
      return null;
    }
    String text = in.toString(from, 8, StandardCharsets.US_ASCII);
    return switch (text) {
      case "HTTP/1.1" -> HttpVersion.HTTP_1_1;
      case "HTTP/1.0" -> HttpVersion.HTTP_1_0;
      default -> null;
    };
  }

  // ---- chunked body (RFC 9112 §7.1)

  private boolean readChunkSize(ByteBuf in, List<Object> out) {
    int start = in.readerIndex();
    int end = start + Math.min(in.readableBytes(), MAX_CHUNK_SIZE_LINE);
    int lf = in.indexOf(start, end, (byte) '\n');
    if (lf < 0) {
      if (end - start >= MAX_CHUNK_SIZE_LINE) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed chunk: size line longer than " + MAX_CHUNK_SIZE_LINE + " bytes");
      }
      return false;
    }
    if (lf == start || in.getByte(lf - 1) != '\r') {
      reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed chunk: size line ends in a bare LF (expected: CRLF)");
      return false;
    }
    int cr = lf - 1;
    long size = 0;
    int i = start;
    for (; i < cr; i++) {
      int digit = Character.digit(in.getByte(i), 16);
      if (digit < 0) {
        break;
      }
      if (i - start >= 15) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed chunk: size too large");
        return false;
      }
      size = size * 16 + digit;
    }
    if (i == start) {
      reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed chunk: size is not hexadecimal");
      return false;
    }
    if (i < cr) {
      extensionBytes += cr - i;
      if (extensionBytes > MAX_CHUNK_EXTENSION_BYTES) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed chunk: more than " + MAX_CHUNK_EXTENSION_BYTES
            + " bytes of chunk extensions");
        return false;
      }
      if (!validExtensions(in, i, cr)) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed chunk: bad chunk extension");
        return false;
      }
    }
    in.readerIndex(lf + 1);
    bodyBytes += size;
    if (bodyBytes > maxContentLengthBytes) {
      reject(in, out, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "request content exceeds " + maxContentLengthBytes + " bytes");
      return false;
    }
    if (size == 0) {
      state = State.TRAILERS;
      scanned = 0;
    } else {
      remaining = size;
      state = State.CHUNK_DATA;
    }
    return true;
  }

  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), val = token / quoted-string
  private static boolean validExtensions(ByteBuf in, int i, int end) {
    while (i < end) {
      i = skipBws(in, i, end);
      if (i >= end || in.getByte(i) != ';') {
        return false;
      }
      i = skipBws(in, i + 1, end);
      int name = i;
      while (i < end && isTchar(in.getByte(i))) {
        i++;
      }
      if (i == name) {
        return false;
      }
      int afterName = skipBws(in, i, end);
      if (afterName < end && in.getByte(afterName) == '=') {
        i = skipBws(in, afterName + 1, end);
        if (i < end && in.getByte(i) == '"') {
          i++;
          boolean closed = false;
          while (i < end) {
            byte b = in.getByte(i);
            if (b == '\\') {
              if (i + 1 >= end || !isQuotedPairChar(in.getByte(i + 1))) {
                return false;
              }
              i += 2;
              continue;
            }
            if (b == '"') {
              closed = true;
              i++;
              break;
            }
            if ((b >= 0 && b < 0x20 && b != '\t') || b == 0x7f) {
              return false;
            }
            i++;
          }
          if (!closed) {
            return false;
          }
        } else {
          int value = i;
          while (i < end && isTchar(in.getByte(i))) {
            i++;
          }
          if (i == value) {
            return false;
          }
        }
      } else {
        i = afterName;
      }
    }
    return true;
  }

  private boolean readTrailers(ByteBuf in, List<Object> out) {
    int start = in.readerIndex();
    int end = start + Math.min(in.readableBytes(), maxHeaderBytes + 2);
    int pos = start + scanned;
    while (true) {
      int lf = in.indexOf(pos, end, (byte) '\n');
      if (lf < 0) {
        scanned = end - start;
        if (end - start > maxHeaderBytes) {
          reject(in, out, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "malformed request: trailer section too long");
        }
        return false;
      }
      if (lf == pos || in.getByte(lf - 1) != '\r') {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed chunk: trailer line ends in a bare LF (expected: CRLF)");
        return false;
      }
      if (lf - 1 == pos) {
        // the empty line ends the message; trailer fields are dropped (RFC 9110 §6.5.1)
        in.readerIndex(lf + 1);
        scanned = 0;
        state = State.HEAD;
        out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        return true;
      }
      byte first = in.getByte(pos);
      if (first == ' ' || first == '\t') {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: obsolete line folding in a trailer");
        return false;
      }
      int colon = -1;
      for (int i = pos; i < lf - 1; i++) {
        byte b = in.getByte(i);
        if (colon < 0) {
          if (b == ':') {
            colon = i;
          } else if (!isTchar(b)) {
            reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: bad trailer field name");
            return false;
          }
        } else if ((b >= 0 && b < 0x20 && b != '\t') || b == 0x7f) {
          reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: control character in a trailer value");
          return false;
        }
      }
      if (colon <= pos) {
        reject(in, out, HttpResponseStatus.BAD_REQUEST, "malformed request: trailer line without a field name and colon");
        return false;
      }
      pos = lf + 1;
      scanned = pos - start;
    }
  }

  // ---- helpers

  private void reject(ByteBuf in, List<Object> out, HttpResponseStatus status, String message) {
    state = State.BAD;
    headStartNanos = 0;
    in.skipBytes(in.readableBytes());
    out.add(new Rejection(status, message));
  }

  private static boolean isTchar(byte b) {
    return b > 0 && TCHAR[b];
  }

  /** Whether {@code s} is a token (RFC 9110 §5.6.2): a valid field name or method. */
  static boolean isToken(CharSequence s) {
    if (s.length() == 0) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 128 || !TCHAR[c]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isOws(byte b) {
    return b == ' ' || b == '\t';
  }

  private static boolean isQuotedPairChar(byte b) {
    return b == '\t' || (b >= 0x20 && b != 0x7f) || b < 0;
  }

  private static int skipBws(ByteBuf in, int i, int end) {
    while (i < end && isOws(in.getByte(i))) {
      i++;
    }
    return i;
  }
}
