package io.scalestack.observability;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;

/**
 * Encodes a log event as one compact JSON object on one line:
 *
 * <pre>{"time":"2026-11-22T01:02:03.456Z","level":"INFO","member":"web-1","logger":"io.scalestack…",
 * "thread":"main","message":"…","mdc":{…},"error":"java.io.IOException: …\n\tat …"}</pre>
 *
 * <p>{@code mdc} and {@code error} appear only when present. Strings are escaped per RFC 8259 §7,
 * so a message with quotes, newlines or control characters stays one line.
 *
 * <p>Thread-safe: stateless apart from the member name set before {@link #start()}.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {

  private static final byte[] EMPTY = new byte[0];

  private String member = "";

  /** The member name written into every line. */
  public void setMember(String member) {
    this.member = member;
  }

  @Override
  public byte[] headerBytes() {
    return EMPTY;
  }

  @Override
  public byte[] footerBytes() {
    return EMPTY;
  }

  @Override
  public byte[] encode(ILoggingEvent event) {
    StringBuilder line = new StringBuilder(256);
    line.append("{\"time\":");
    string(line, Instant.ofEpochMilli(event.getTimeStamp()).toString());
    line.append(",\"level\":");
    string(line, event.getLevel().toString());
    line.append(",\"member\":");
    string(line, member);
    line.append(",\"logger\":");
    string(line, event.getLoggerName());
    line.append(",\"thread\":");
    string(line, event.getThreadName());
    line.append(",\"message\":");
    string(line, event.getFormattedMessage());
    Map<String, String> mdc = event.getMDCPropertyMap();
    if (mdc != null && !mdc.isEmpty()) {
      line.append(",\"mdc\":{");
      boolean first = true;
      for (Map.Entry<String, String> entry : mdc.entrySet()) {
        if (!first) {
          line.append(',');
        }
        first = false;
        string(line, entry.getKey());
        line.append(':');
        string(line, entry.getValue());
      }
      line.append('}');
    }
    IThrowableProxy error = event.getThrowableProxy();
    if (error != null) {
      line.append(",\"error\":");
      string(line, ThrowableProxyUtil.asString(error));
    }
    line.append("}\n");
    return line.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Appends {@code value} as a JSON string (RFC 8259 §7); null becomes {@code null}. */
  static void string(StringBuilder out, String value) {
    if (value == null) {
      out.append("null");
      return;
    }
    out.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
