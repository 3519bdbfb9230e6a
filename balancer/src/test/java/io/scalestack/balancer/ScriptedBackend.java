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
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A backend whose every move the test makes by hand: it answers health checks itself and hands
 * each other connection, with the head of its first request already read, to the test.
 */
final class ScriptedBackend implements AutoCloseable {

  /** A connection carrying a request whose head was read; the test reads the body and answers. */
  record Connection(Socket socket, String requestLine, List<String> headers, InputStream in, OutputStream out) {
    void write(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    /** Reads the head of the next request on this connection, or null at end of stream. */
    List<String> readHead() throws IOException {
      List<String> lines = new ArrayList<>();
      String line;
      while ((line = readLine(in)) != null && !line.isEmpty()) {
        lines.add(line);
      }
      return line == null ? null : lines;
    }
  }

  private final ServerSocket server;
  private final BlockingQueue<Connection> connections = new LinkedBlockingQueue<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private ScriptedBackend(ServerSocket server) {
    this.server = server;
  }

  static ScriptedBackend start() throws IOException {
    ScriptedBackend backend = new ScriptedBackend(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    Thread.ofVirtual().name("scripted-backend").start(backend::acceptLoop);
    return backend;
  }

  InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }

  /** The next connection that carries a request (not a health check). */
  Connection next() throws InterruptedException {
    Connection connection = connections.poll(10, TimeUnit.SECONDS);
    if (connection == null) {
      throw new AssertionError("no request reached the backend within 10 s");
    }
    return connection;
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
    try {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      String line = readLine(in);
      if (line == null) {
        socket.close();
        return;
      }
      List<String> headers = new ArrayList<>();
      String h;
      while ((h = readLine(in)) != null && !h.isEmpty()) {
        headers.add(h);
      }
      if (line.contains(" /health ")) {
        out.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        socket.close();
        return;
      }
      connections.add(new Connection(socket, line, headers, in, out));
    } catch (IOException e) {
      // the balancer went away; nothing to hand over
    }
  }

  static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      if (b == '\n') {
        String s = line.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
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
