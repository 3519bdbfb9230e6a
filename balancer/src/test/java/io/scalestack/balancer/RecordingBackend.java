package io.scalestack.balancer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A web server on a plain server socket that records every request exactly as it arrived on the
 * wire (request line, header lines, de-chunked body), so that tests can prove what the balancer
 * let through — and that no smuggled second request ever arrived.
 *
 * <p>It answers by path: {@code /health} for health checks (not recorded); {@code /status/NNN}
 * with that status (no body for 204 and 304); {@code /hop} with hop-by-hop response fields;
 * {@code /chunked} with a chunked body; {@code /close} by closing the connection without an answer; {@code HEAD} with a Content-Length and no body; anything
 * else with 200 and the request target as body. Keep-alive; a connection that sends a malformed
 * request is closed.
 */
final class RecordingBackend implements AutoCloseable {

  /** One complete request as received. */
  record Request(String line, List<String> headerLines, String body) {
    String header(String name) {
      String prefix = name.toLowerCase(Locale.ROOT) + ":";
      List<String> values = new ArrayList<>();
      for (String h : headerLines) {
        if (h.toLowerCase(Locale.ROOT).startsWith(prefix)) {
          values.add(h.substring(prefix.length()).strip());
        }
      }
      return values.isEmpty() ? null : String.join(", ", values);
    }

    int count(String name) {
      String prefix = name.toLowerCase(Locale.ROOT) + ":";
      return (int) headerLines.stream().filter(h -> h.toLowerCase(Locale.ROOT).startsWith(prefix)).count();
    }
  }

  /** Complete requests, in arrival order (health checks excluded). */
  final List<Request> requests = new CopyOnWriteArrayList<>();
  /** Every request line that started arriving, complete or not (health checks excluded). */
  final List<String> requestLines = new CopyOnWriteArrayList<>();
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private RecordingBackend(ServerSocket server) {
    this.server = server;
  }

  static RecordingBackend start() throws IOException {
    RecordingBackend backend = new RecordingBackend(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    Thread.ofVirtual().name("recording-backend").start(backend::acceptLoop);
    return backend;
  }

  InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket socket = server.accept();
        open.add(socket);
        Thread.ofVirtual().start(() -> serve(socket));
      } catch (IOException e) {
        if (!closed) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      while (true) {
        String line = readLine(in);
        if (line == null) {
          return;
        }
        String[] parts = line.split(" ");
        boolean health = parts.length > 1 && parts[1].equals("/health");
        if (!health) {
          requestLines.add(line);
        }
        List<String> headers = new ArrayList<>();
        String h;
        while ((h = readLine(in)) != null && !h.isEmpty()) {
          headers.add(h);
        }
        if (h == null) {
          return;
        }
        Request partial = new Request(line, headers, "");
        String body;
        String te = partial.header("transfer-encoding");
        String cl = partial.header("content-length");
        if (te != null) {
          if (!te.equalsIgnoreCase("chunked")) {
            return;
          }
          body = readChunked(in);
          if (body == null) {
            return;
          }
        } else if (cl != null) {
          int length = Integer.parseInt(cl);
          byte[] bytes = in.readNBytes(length);
          if (bytes.length < length) {
            return;
          }
          body = new String(bytes, StandardCharsets.ISO_8859_1);
        } else {
          body = "";
        }
        if (health) {
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          return;
        }
        requests.add(new Request(line, List.copyOf(headers), body));
        if (parts[1].equals("/close")) {
          // a crash after reading the request: no answer at all
          return;
        }
        out.write(answer(parts[0], parts[1]).getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      }
    } catch (IOException | RuntimeException e) {
      // the balancer closed its side, or sent something this server cannot parse: drop the connection
    } finally {
      open.remove(socket);
    }
  }

  private static String answer(String method, String target) {
    if (target.startsWith("/status/")) {
      int status = Integer.parseInt(target.substring(8));
      if (status == 204) {
        return "HTTP/1.1 204 No Content\r\nX-Status: 204\r\n\r\n";
      }
      if (status == 304) {
        return "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n";
      }
      return "HTTP/1.1 " + status + " Status\r\nContent-Length: 0\r\n\r\n";
    }
    if (method.equals("HEAD")) {
      return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\n";
    }
    if (target.equals("/hop")) {
      return "HTTP/1.1 200 OK\r\nConnection: X-Internal, keep-alive\r\nX-Internal: secret\r\nKeep-Alive: timeout=30\r\n"
          + "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-Public: yes\r\nContent-Length: 3\r\n\r\nhop";
    }
    if (target.equals("/chunked")) {
      return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
    }
    return "HTTP/1.1 200 OK\r\nContent-Length: " + target.length() + "\r\n\r\n" + target;
  }

  private static String readChunked(InputStream in) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine(in);
      if (sizeLine == null || sizeLine.contains(";")) {
        return null;
      }
      int size = Integer.parseInt(sizeLine.strip(), 16);
      if (size == 0) {
        String trailer;
        while ((trailer = readLine(in)) != null && !trailer.isEmpty()) {
          // trailers are ignored
        }
        return body.toString(StandardCharsets.ISO_8859_1);
      }
      byte[] data = in.readNBytes(size);
      if (data.length < size) {
        return null;
      }
      body.write(data);
      if (!"".equals(readLine(in))) {
        return null;
      }
    }
  }

  // strict: a line must end in CRLF, as the balancer must send it
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        byte[] bytes = line.toByteArray();
        if (bytes.length == 0 || bytes[bytes.length - 1] != '\r') {
          throw new IOException("bare LF from the balancer");
        }
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.ISO_8859_1);
      }
      line.write(b);
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    for (Socket socket : open) {
      socket.close();
    }
  }
}
