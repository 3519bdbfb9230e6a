package io.scalestack.balancer;

import java.io.BufferedInputStream;
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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 web server for the routing tests, on a server socket with a virtual thread per
 * connection, keep-alive, and each response written in one piece with TCP_NODELAY (so that its
 * latency is what the test asks, without Nagle and delayed-ACK pauses): answers every request
 * with its name after {@link #delayMillis}, with {@link #status}; {@code /hold…} waits until the
 * test releases it; {@code /login} sets an application session cookie; {@code /health} answers
 * {@link #healthStatus}. Records the target, cookies and body size of each request.
 */
final class NamedBackend implements AutoCloseable {

  /** One request as the backend saw it. */
  record Seen(String method, String uri, String cookie, int bodyBytes) {}

  final String name;
  final AtomicInteger status = new AtomicInteger(200);
  final AtomicInteger healthStatus = new AtomicInteger(200);
  final AtomicInteger held = new AtomicInteger();
  final List<Seen> seen = new CopyOnWriteArrayList<>();
  volatile long delayMillis;
  private final Semaphore release = new Semaphore(0);
  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private NamedBackend(String name, ServerSocket server) {
    this.name = name;
    this.server = server;
  }

  static NamedBackend start(String name) throws IOException {
    ServerSocket server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    NamedBackend backend = new NamedBackend(name, server);
    Thread.ofVirtual().name("named-backend-" + name).start(backend::acceptLoop);
    return backend;
  }

  InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /** Requests other than health checks. */
  int requests() {
    return seen.size();
  }

  /** Lets {@code n} held requests answer. */
  void release(int n) {
    release.release(n);
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket socket = server.accept();
        socket.setTcpNoDelay(true);
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
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      while (true) {
        String requestLine = line(in);
        if (requestLine == null || requestLine.isEmpty()) {
          return;
        }
        String[] parts = requestLine.split(" ");
        Map<String, String> headers = new ConcurrentHashMap<>();
        String header;
        while ((header = line(in)) != null && !header.isEmpty()) {
          int colon = header.indexOf(':');
          headers.merge(header.substring(0, colon).strip().toLowerCase(Locale.ROOT), header.substring(colon + 1).strip(),
              (a, b) -> a + "; " + b);
        }
        int bodyBytes = readBody(in, headers);
        boolean close = "close".equalsIgnoreCase(headers.get("connection"));
        if (!respond(out, parts[0], parts[1], headers, bodyBytes, close) || close) {
          return;
        }
      }
    } catch (IOException e) {
      // the peer went away: nothing to answer
    } finally {
      open.remove(socket);
    }
  }

  private boolean respond(OutputStream out, String method, String uri, Map<String, String> headers, int bodyBytes,
      boolean close) throws IOException {
    String path = uri.contains("?") ? uri.substring(0, uri.indexOf('?')) : uri;
    if (path.equals("/health")) {
      write(out, healthStatus.get(), "{}", List.of(), close);
      return true;
    }
    seen.add(new Seen(method, uri, headers.get("cookie"), bodyBytes));
    if (path.startsWith("/hold")) {
      held.incrementAndGet();
      try {
        if (!release.tryAcquire(20, TimeUnit.SECONDS)) {
          write(out, 500, "never released", List.of(), close);
          return true;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } finally {
        held.decrementAndGet();
      }
    }
    long delay = delayMillis;
    if (delay > 0) {
      try {
        Thread.sleep(delay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    List<String> extra = new ArrayList<>();
    if (path.equals("/login")) {
      extra.add("Set-Cookie: JSESSIONID=" + name + "-session; Path=/");
    }
    write(out, status.get(), name, extra, close);
    return true;
  }

  private static void write(OutputStream out, int status, String body, List<String> extra, boolean close)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    StringBuilder head = new StringBuilder("HTTP/1.1 ").append(status).append(" X\r\n")
        .append("Content-Type: text/plain\r\nContent-Length: ").append(bytes.length).append("\r\n");
    for (String h : extra) {
      head.append(h).append("\r\n");
    }
    if (close) {
      head.append("Connection: close\r\n");
    }
    head.append("\r\n");
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    all.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    all.write(bytes);
    out.write(all.toByteArray());
    out.flush();
  }

  private static int readBody(InputStream in, Map<String, String> headers) throws IOException {
    String length = headers.get("content-length");
    if (length != null) {
      return in.readNBytes(Integer.parseInt(length)).length;
    }
    if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      int total = 0;
      while (true) {
        String size = line(in);
        int n = Integer.parseInt(size.split(";")[0].strip(), 16);
        if (n == 0) {
          String trailer;
          while ((trailer = line(in)) != null && !trailer.isEmpty()) {
            // trailer fields are ignored
          }
          return total;
        }
        total += in.readNBytes(n).length;
        line(in);
      }
    }
    return 0;
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
  }

  static Map<String, Long> countByName(List<NamedBackend> backends) {
    Map<String, Long> counts = new java.util.TreeMap<>();
    for (NamedBackend b : backends) {
      counts.put(b.name, (long) b.requests());
    }
    return counts;
  }

  /** Stops listening and closes its connections. */
  @Override
  public void close() throws IOException {
    closed = true;
    release.release(10_000);
    server.close();
    for (Socket socket : open) {
      socket.close();
    }
  }
}
