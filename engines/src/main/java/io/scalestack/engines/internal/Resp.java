package io.scalestack.engines.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Just enough RESP (the Redis serialization protocol, https://redis.io/docs/latest/develop/reference/protocol-spec/)
 * to ask a server whether it is ready.
 */
public final class Resp {

  /** A PING as a RESP array of one bulk string. */
  private static final byte[] PING = "*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII);
  /** INFO server: its bulk-string reply holds {@code process_id:<pid>}. */
  private static final byte[] INFO_SERVER =
      "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final int MAX_LINE_BYTES = 512;
  private static final int MAX_BULK_BYTES = 64 * 1024;

  private Resp() {}

  /**
   * Whether the server at {@code address} is ready and is the process {@code pid}: PING answers
   * {@code +PONG} (not {@code -LOADING} while the AOF is replayed) and INFO server reports that
   * {@code process_id} (so a stranger that took the port is not mistaken for our engine).
   *
   * @param pid the expected process id, or -1 to accept any server
   * @return null when ready, otherwise what the server answered instead
   */
  public static String readiness(InetSocketAddress address, long pid, Duration timeout) throws IOException {
    try (Socket socket = connect(address, timeout)) {
      InputStream in = socket.getInputStream();
      socket.getOutputStream().write(PING);
      socket.getOutputStream().flush();
      String pong = line(in);
      if (!"+PONG".equals(pong)) {
        return pong;
      }
      if (pid < 0) {
        return null;
      }
      socket.getOutputStream().write(INFO_SERVER);
      socket.getOutputStream().flush();
      String header = line(in);
      if (!header.startsWith("$")) {
        return header;
      }
      int length;
      try {
        length = Integer.parseInt(header.substring(1));
      } catch (NumberFormatException e) {
        throw new IOException("malformed bulk string header: " + header, e);
      }
      if (length < 0 || length > MAX_BULK_BYTES) {
        return "INFO reply of " + length + " bytes";
      }
      String info = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      for (String entry : info.split("\r\n")) {
        if (entry.startsWith("process_id:")) {
          String actual = entry.substring("process_id:".length()).trim();
          return actual.equals(Long.toString(pid)) ? null : "a different Redis (process_id " + actual + ")";
        }
      }
      return "INFO server without process_id";
    }
  }

  /**
   * Sends one command and returns its reply: a simple string, error or integer as its line
   * ({@code +OK}, {@code -ERR ...}, {@code :1}), a bulk string as its content (null for a null
   * bulk string), an array of those as a {@link java.util.List} (null for a null array).
   */
  public static Object command(InetSocketAddress address, Duration timeout, String... command) throws IOException {
    try (Socket socket = connect(address, timeout)) {
      StringBuilder request = new StringBuilder("*").append(command.length).append("\r\n");
      for (String part : command) {
        request.append('$').append(part.getBytes(StandardCharsets.UTF_8).length).append("\r\n")
            .append(part).append("\r\n");
      }
      socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      return reply(socket.getInputStream(), 0);
    }
  }

  private static Object reply(InputStream in, int depth) throws IOException {
    String header = line(in);
    if (header.isEmpty()) {
      throw new IOException("empty reply line");
    }
    switch (header.charAt(0)) {
      case '$' -> {
        int length = length(header);
        if (length < 0) {
          return null;
        }
        if (length > MAX_BULK_BYTES) {
          throw new IOException("bulk string of " + length + " bytes");
        }
        String value = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        line(in); // the CRLF after the content
        return value;
      }
      case '*' -> {
        int count = length(header);
        if (count < 0) {
          return null;
        }
        if (depth > 4 || count > 1024) {
          throw new IOException("array of " + count + " elements at depth " + depth);
        }
        java.util.List<Object> elements = new java.util.ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          elements.add(reply(in, depth + 1));
        }
        return elements;
      }
      default -> {
        return header;
      }
    }
  }

  private static int length(String header) throws IOException {
    try {
      return Integer.parseInt(header.substring(1));
    } catch (NumberFormatException e) {
      throw new IOException("malformed length in reply: " + header, e);
    }
  }

  private static Socket connect(InetSocketAddress address, Duration timeout) throws IOException {
    int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    Socket socket = new Socket();
    try {
      socket.connect(address, millis);
      socket.setSoTimeout(millis);
      return socket;
    } catch (IOException e) {
      socket.close();
      throw e;
    }
  }

  /** Reads one CRLF-terminated line (a simple string, error, integer or bulk header). */
  private static String line(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int previous = -1;
    while (line.length() < MAX_LINE_BYTES) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("connection closed after " + line.length() + " bytes of a reply line");
      }
      if (previous == '\r' && b == '\n') {
        line.setLength(line.length() - 1);
        return line.toString();
      }
      line.append((char) b);
      previous = b;
    }
    throw new IOException("reply line longer than " + MAX_LINE_BYTES + " bytes");
  }
}
