package io.scalestack.balancer;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A web server that runs as a process of its own, so that a test can {@code kill -9} it: HTTP/1.1
 * with keep-alive on a loopback port it prints as {@code PORT <n>} on standard output, answers
 * every request with 200 and its name after a random 0–{@code maxDelayMillis} ms, and {@code
 * /health} at once. Before answering a POST it appends the request's {@code X-Request-Id} to its
 * log file with one {@code write(2)} (a {@link FileChannel} in append mode): the page cache keeps
 * what was written when the process is killed, so the log lists every POST the server got, even
 * one it never answered. Exits when its standard input closes (the test JVM went away).
 *
 * <p>Arguments: {@code name logFile maxDelayMillis}.
 */
final class KillableBackendMain {

  private final String name;
  private final FileChannel log;
  private final int maxDelayMillis;

  private KillableBackendMain(String name, FileChannel log, int maxDelayMillis) {
    this.name = name;
    this.log = log;
    this.maxDelayMillis = maxDelayMillis;
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      throw new IllegalArgumentException("arguments: " + args.length + " (expected: name logFile maxDelayMillis)");
    }
    FileChannel log = FileChannel.open(Path.of(args[1]),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    KillableBackendMain backend = new KillableBackendMain(args[0], log, Integer.parseInt(args[2]));
    ServerSocket server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon().name("stdin-watch").start(KillableBackendMain::exitWhenStdinCloses);
    System.out.println("PORT " + server.getLocalPort());
    System.out.flush();
    while (true) {
      Socket socket = server.accept();
      socket.setTcpNoDelay(true);
      Thread.ofVirtual().start(() -> backend.serve(socket));
    }
  }

  private static void exitWhenStdinCloses() {
    try {
      while (System.in.read() != -1) {
        // nothing is expected on stdin; it only tells that the parent is alive
      }
    } catch (IOException e) {
      System.err.println("stdin: " + e);
    }
    System.exit(0);
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
        String method = requestLine.substring(0, requestLine.indexOf(' '));
        boolean health = requestLine.startsWith(method + " /health");
        String requestId = null;
        int contentLength = 0;
        boolean close = false;
        String header;
        while ((header = line(in)) != null && !header.isEmpty()) {
          int colon = header.indexOf(':');
          String field = header.substring(0, colon).strip().toLowerCase(Locale.ROOT);
          String value = header.substring(colon + 1).strip();
          switch (field) {
            case "x-request-id" -> requestId = value;
            case "content-length" -> contentLength = Integer.parseInt(value);
            case "connection" -> close = value.equalsIgnoreCase("close");
            default -> {
              // other fields do not matter here
            }
          }
        }
        if (in.readNBytes(contentLength).length < contentLength) {
          return;
        }
        if (!health) {
          // the delay before the log line and the one after it put a kill anywhere in between
          pause();
          if (method.equals("POST")) {
            record(requestId);
          }
          pause();
        }
        byte[] body = (health ? "{}" : name).getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length + "\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(body, 0, all, headBytes.length, body.length);
        // one write: a kill leaves either the whole response or none of it on the wire
        out.write(all);
        out.flush();
        if (close) {
          return;
        }
      }
    } catch (IOException | InterruptedException e) {
      // the peer went away, or the process is exiting: nothing to answer
    }
  }

  private void pause() throws InterruptedException {
    int half = maxDelayMillis / 2;
    if (half > 0) {
      Thread.sleep(ThreadLocalRandom.current().nextInt(half + 1));
    }
  }

  private void record(String requestId) throws IOException {
    ByteBuffer line = ByteBuffer.wrap(((requestId == null ? "-" : requestId) + "\n").getBytes(StandardCharsets.UTF_8));
    // an append-mode channel makes each write(2) land at the end; the lock keeps lines whole
    synchronized (log) {
      while (line.hasRemaining()) {
        log.write(line);
      }
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
