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
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A misbehaving web server on a plain server socket: it answers health checks, but drops
 * connections in ways a well-behaved server does not, to exercise the balancer's retry rules.
 */
final class RawBackend implements AutoCloseable {

  enum Mode {
    /** Answers every request with 200 and its name, keeping the connection alive: a healthy server. */
    ANSWER,
    /** Reads each request completely, then closes the connection without a byte of answer (a crash). */
    CLOSE_WITHOUT_ANSWER,
    /**
     * Answers the first request of each connection with keep-alive, then closes the connection when
     * the next request arrives (a server that timed the idle connection out just as it was reused).
     */
    ANSWER_FIRST_THEN_CLOSE,
    /**
     * Announces {@code Keep-Alive: timeout=1} and drops, without an answer, a request that arrives
     * on a connection idle for {@link #SHORT_KEEP_ALIVE_MILLIS} or more: a server whose keep-alive
     * timer fired just as the request came (the stale pooled connection race).
     */
    SHORT_KEEP_ALIVE
  }

  static final long SHORT_KEEP_ALIVE_MILLIS = 600;

  final String name;
  private final Mode mode;
  private final ServerSocket server;
  private final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
  private final AtomicInteger answered = new AtomicInteger();
  private final java.util.Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private RawBackend(String name, Mode mode, ServerSocket server) {
    this.name = name;
    this.mode = mode;
    this.server = server;
  }

  static RawBackend start(String name, Mode mode) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    RawBackend backend = new RawBackend(name, mode, server);
    Thread.ofVirtual().name("raw-backend-" + name).start(backend::acceptLoop);
    return backend;
  }

  InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /** Requests of {@code method} received (health checks excluded). */
  int received(String method) {
    AtomicInteger count = received.get(method);
    return count == null ? 0 : count.get();
  }

  int answered() {
    return answered.get();
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket socket = server.accept();
        Thread.ofVirtual().start(() -> serve(socket));
      } catch (IOException e) {
        if (!closed) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private void serve(Socket socket) {
    open.add(socket);
    if (closed) {
      open.remove(socket);
      closeQuietly(socket);
      return;
    }
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      int onThisConnection = 0;
      long lastAnswerNanos = 0;
      while (true) {
        String requestLine = readLine(in);
        if (requestLine == null) {
          return;
        }
        int contentLength = 0;
        String line;
        while ((line = readLine(in)) != null && !line.isEmpty()) {
          int colon = line.indexOf(':');
          if (colon > 0 && line.substring(0, colon).strip().toLowerCase(Locale.ROOT).equals("content-length")) {
            contentLength = Integer.parseInt(line.substring(colon + 1).strip());
          }
        }
        in.readNBytes(contentLength);
        String[] parts = requestLine.split(" ");
        if (parts.length > 1 && parts[1].equals("/health")) {
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          return;
        }
        received.computeIfAbsent(parts[0], m -> new AtomicInteger()).incrementAndGet();
        onThisConnection++;
        if (mode == Mode.CLOSE_WITHOUT_ANSWER || (mode == Mode.ANSWER_FIRST_THEN_CLOSE && onThisConnection > 1)) {
          return;
        }
        if (mode == Mode.SHORT_KEEP_ALIVE) {
          if (lastAnswerNanos != 0
              && System.nanoTime() - lastAnswerNanos >= java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(SHORT_KEEP_ALIVE_MILLIS)) {
            return;
          }
          // counted before writing: once the client has the answer, the count includes it
          answered.incrementAndGet();
          out.write(("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: " + name.length() + "\r\n\r\n" + name)
              .getBytes(StandardCharsets.US_ASCII));
          out.flush();
          lastAnswerNanos = System.nanoTime();
          continue;
        }
        // counted before writing (once the client has the answer, the count includes it); one
        // write, as a real server's small response: the peer gets all of it or none of it
        answered.incrementAndGet();
        out.write(("HTTP/1.1 200 OK\r\nContent-Length: " + name.length() + "\r\n\r\n" + name)
            .getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
    } catch (IOException e) {
      // the balancer closed its side, or the server was killed; nothing more to serve here
    } finally {
      open.remove(socket);
    }
  }

  /** What {@code kill -9} does to a server: the listening socket and every connection close at once. */
  void kill() {
    closed = true;
    closeQuietly(server);
    for (Socket socket : open) {
      closeQuietly(socket);
    }
  }

  private static void closeQuietly(java.io.Closeable closeable) {
    try {
      closeable.close();
    } catch (IOException e) {
      // already closed: the state we want
    }
  }

  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        String s = line.toString(StandardCharsets.US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      line.write(b);
    }
    return line.size() == 0 ? null : line.toString(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() {
    kill();
  }
}
