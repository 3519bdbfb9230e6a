package io.scalestack.balancer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** An HTTP/1.1 client on a raw socket, for requests that well-behaved clients refuse to send. */
final class RawClient implements AutoCloseable {

  record Response(int status, Map<String, String> headers, String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  RawClient(InetSocketAddress address) throws IOException {
    socket = new Socket(address.getAddress(), address.getPort());
    socket.setSoTimeout(10_000);
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  void send(String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.ISO_8859_1));
    out.flush();
  }

  Response read() throws IOException {
    return read(false);
  }

  /** Reads a status line and header section only; the body stays in the stream. */
  Response readHeadOnly() throws IOException {
    return read(true);
  }

  /** Reads exactly {@code n} bytes of a body. */
  String readBytes(int n) throws IOException {
    byte[] bytes = in.readNBytes(n);
    if (bytes.length < n) {
      throw new IOException("connection closed after " + bytes.length + " of " + n + " bytes");
    }
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }

  InputStream input() {
    return in;
  }

  OutputStream output() {
    return out;
  }

  /** Reads the response to a HEAD request: no body, whatever Content-Length says. */
  Response readHead() throws IOException {
    return read(true);
  }

  private Response read(boolean head) throws IOException {
    String statusLine = readLine();
    if (statusLine == null) {
      throw new IOException("connection closed before a response");
    }
    int status = Integer.parseInt(statusLine.split(" ")[1]);
    Map<String, String> headers = new TreeMap<>();
    String line;
    while ((line = readLine()) != null && !line.isEmpty()) {
      int colon = line.indexOf(':');
      headers.merge(line.substring(0, colon).strip().toLowerCase(Locale.ROOT), line.substring(colon + 1).strip(),
          (a, b) -> a + ", " + b);
    }
    String length = headers.get("content-length");
    byte[] body;
    if (head || status < 200 || status == 204 || status == 304) {
      body = new byte[0];
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = readChunked();
    } else {
      body = length != null ? in.readNBytes(Integer.parseInt(length)) : new byte[0];
    }
    return new Response(status, headers, new String(body, StandardCharsets.UTF_8));
  }

  private byte[] readChunked() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    while (true) {
      String sizeLine = readLine();
      int size = Integer.parseInt(sizeLine.strip(), 16);
      if (size == 0) {
        String trailer;
        while ((trailer = readLine()) != null && !trailer.isEmpty()) {
          // trailers are ignored
        }
        return body.toByteArray();
      }
      body.write(in.readNBytes(size));
      readLine();
    }
  }

  /** Half-closes the connection: the balancer reads end of stream, but can still answer. */
  void shutdownOutput() throws IOException {
    socket.shutdownOutput();
  }

  /** Whether the peer closed the connection (end of stream or reset) rather than sending more. */
  boolean closedByPeer() throws IOException {
    try {
      return in.read() == -1;
    } catch (SocketException e) {
      return true;
    }
  }

  private String readLine() throws IOException {
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

  /** The underlying socket, for tests that reset or fill it. */
  Socket socket() {
    return socket;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
