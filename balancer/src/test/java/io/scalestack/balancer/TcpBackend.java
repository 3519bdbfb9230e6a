package io.scalestack.balancer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A plain TCP server on a loopback port for TCP-mode tests: each accepted connection runs {@code
 * behaviour} on a thread of its own. Health checks (connections that send nothing and close) run
 * it too, so behaviours must cope with an immediate end of stream.
 */
final class TcpBackend implements AutoCloseable {

  /** What the backend does with one connection. */
  interface Behaviour {
    void serve(Socket socket, TcpBackend backend) throws IOException;
  }

  final String name;
  /** Connections whose first byte arrived (so not health checks). */
  final AtomicInteger served = new AtomicInteger();
  private final ServerSocket server;
  private final Behaviour behaviour;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private TcpBackend(String name, ServerSocket server, Behaviour behaviour) {
    this.name = name;
    this.server = server;
    this.behaviour = behaviour;
  }

  static TcpBackend start(String name, Behaviour behaviour) throws IOException {
    ServerSocket server = new ServerSocket(0, 128, Fixtures.LOOPBACK);
    TcpBackend backend = new TcpBackend(name, server, behaviour);
    Thread.ofPlatform().daemon().name("tcp-backend-" + name).start(backend::acceptLoop);
    return backend;
  }

  /** Echoes every byte back; half-closes its output when the client half-closes. */
  static TcpBackend echo(String name) throws IOException {
    return start(name, (socket, backend) -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      byte[] buf = new byte[16 * 1024];
      boolean first = true;
      for (int n; (n = in.read(buf)) >= 0; ) {
        if (first) {
          backend.served.incrementAndGet();
          first = false;
        }
        out.write(buf, 0, n);
      }
      socket.shutdownOutput();
    });
  }

  /** Writes {@code name + "\n"} at once, then echoes. */
  static TcpBackend named(String name) throws IOException {
    return start(name, (socket, backend) -> {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      out.write((name + "\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      byte[] buf = new byte[16 * 1024];
      boolean first = true;
      for (int n; (n = in.read(buf)) >= 0; ) {
        if (first) {
          backend.served.incrementAndGet();
          first = false;
        }
        out.write(buf, 0, n);
      }
    });
  }

  InetSocketAddress address() {
    return new InetSocketAddress(Fixtures.LOOPBACK, server.getLocalPort());
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (!closed) {
          throw new IllegalStateException("accept failed on backend " + name, e);
        }
        return;
      }
      open.add(socket);
      Thread.ofVirtual().start(() -> {
        try (socket) {
          behaviour.serve(socket, this);
        } catch (IOException e) {
          // the peer went away: the test sees it on its side
          open.remove(socket);
          return;
        }
        open.remove(socket);
      });
    }
  }

  @Override
  public void close() throws IOException {
    closed = true;
    server.close();
    for (Socket s : open) {
      s.close();
    }
  }
}
