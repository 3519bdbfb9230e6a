import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Backends for benchmarks/response-time: HTTP/1.1 servers with keep-alive on 127.0.0.1, one per
 * {@code port:delayMillis} argument, each answering every request with a 100-byte JSON body after
 * its delay (a sleeping virtual thread per connection: the delay costs no CPU, so a slow backend
 * is slow, not busy). {@code /health} answers at once and is not counted; {@code /stats} answers
 * the number of other requests served so far, so that the run script can tell each backend's
 * share. Runs with the JDK's source launcher: {@code java DelayBackends.java 18101:5 18102:50}.
 */
final class DelayBackends {

  private DelayBackends() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      throw new IllegalArgumentException("arguments: none (expected: port:delayMillis …)");
    }
    for (String arg : args) {
      String[] parts = arg.split(":");
      if (parts.length != 2) {
        throw new IllegalArgumentException("argument: '" + arg + "' (expected: port:delayMillis)");
      }
      int port = Integer.parseInt(parts[0]);
      long delayMillis = Long.parseLong(parts[1]);
      ServerSocket server = new ServerSocket(port, 1024, InetAddress.getLoopbackAddress());
      AtomicLong served = new AtomicLong();
      byte[] body = body(port).getBytes(StandardCharsets.UTF_8);
      Thread.ofPlatform().name("accept-" + port).start(() -> accept(server, delayMillis, served, body));
      System.out.println("backend 127.0.0.1:" + port + " delay " + delayMillis + " ms");
    }
  }

  private static String body(int port) {
    String head = "{\"server\":\"backend-" + port + "\",\"status\":\"ok\",\"data\":\"";
    return head + "x".repeat(100 - head.length() - 2) + "\"}";
  }

  private static void accept(ServerSocket server, long delayMillis, AtomicLong served, byte[] body) {
    while (true) {
      try {
        Socket socket = server.accept();
        socket.setTcpNoDelay(true);
        Thread.ofVirtual().start(() -> serve(socket, delayMillis, served, body));
      } catch (IOException e) {
        System.err.println("accept on " + server.getLocalPort() + ": " + e);
        return;
      }
    }
  }

  private static void serve(Socket socket, long delayMillis, AtomicLong served, byte[] body) {
    try (socket) {
      InputStream in = new BufferedInputStream(socket.getInputStream());
      OutputStream out = socket.getOutputStream();
      while (true) {
        String requestLine = line(in);
        if (requestLine == null || requestLine.isEmpty()) {
          return;
        }
        String[] parts = requestLine.split(" ");
        String path = parts.length > 1 ? parts[1] : "/";
        int contentLength = 0;
        boolean close = false;
        String header;
        while ((header = line(in)) != null && !header.isEmpty()) {
          int colon = header.indexOf(':');
          if (colon < 0) {
            continue;
          }
          String name = header.substring(0, colon).strip().toLowerCase(Locale.ROOT);
          String value = header.substring(colon + 1).strip();
          if (name.equals("content-length")) {
            contentLength = Integer.parseInt(value);
          } else if (name.equals("connection")) {
            close = value.equalsIgnoreCase("close");
          }
        }
        in.readNBytes(contentLength);
        byte[] answer;
        if (path.equals("/health")) {
          answer = "ok\n".getBytes(StandardCharsets.US_ASCII);
        } else if (path.equals("/stats")) {
          answer = (served.get() + "\n").getBytes(StandardCharsets.US_ASCII);
        } else {
          served.incrementAndGet();
          if (delayMillis > 0) {
            Thread.sleep(delayMillis);
          }
          answer = body;
        }
        String head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + answer.length + "\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n";
        ByteArrayOutputStream all = new ByteArrayOutputStream(head.length() + answer.length);
        all.write(head.getBytes(StandardCharsets.US_ASCII));
        all.write(answer);
        out.write(all.toByteArray());
        out.flush();
        if (close) {
          return;
        }
      }
    } catch (IOException | InterruptedException e) {
      // the client went away, or the process is ending: nothing to answer
    }
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
}
