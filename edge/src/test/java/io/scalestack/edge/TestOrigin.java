package io.scalestack.edge;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An HTTP/1.1 origin for the tests, on a plain socket so that every response field is the test's
 * (notably {@code Date}, from the edge's clock, so that ages are what the test says): per-path
 * scripted answers, keep-alive, a count of every request and the last request's headers.
 */
final class TestOrigin implements AutoCloseable {

  /** One scripted answer. */
  record Answer(int status, Map<String, String> headers, byte[] body, long delayMillis) {
    static Answer ok(String body, String... headers) {
      return of(200, body, headers);
    }

    static Answer of(int status, String body, String... headers) {
      Map<String, String> h = new LinkedHashMap<>();
      for (int i = 0; i + 1 < headers.length; i += 2) {
        h.put(headers[i], headers[i + 1]);
      }
      return new Answer(status, h, body.getBytes(StandardCharsets.UTF_8), 0);
    }

    Answer delayed(long millis) {
      return new Answer(status, headers, body, millis);
    }
  }

  /** A request's header fields, case-insensitive. */
  static final class RequestHeaders {
    private final Map<String, List<String>> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);

    String getFirst(String name) {
      List<String> v = fields.get(name);
      return v == null ? null : v.get(0);
    }
  }

  /** Computes an answer from the request's headers. */
  interface Script {
    Answer answer(RequestHeaders request);
  }

  private final Clock clock;
  private final ServerSocket server;
  private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final Map<String, RequestHeaders> lastHeaders = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();
  private volatile boolean stopped;

  TestOrigin(Clock clock) throws IOException {
    this.clock = clock;
    this.server = new ServerSocket(0, 1024, InetAddress.getLoopbackAddress());
    Thread.ofPlatform().daemon().name("test-origin-accept").start(this::accept);
  }

  String url() {
    return "http://127.0.0.1:" + server.getLocalPort();
  }

  void on(String path, Script script) {
    scripts.put(path, script);
  }

  void on(String path, Answer answer) {
    scripts.put(path, h -> answer);
  }

  int count(String path) {
    AtomicInteger c = counts.get(path);
    return c == null ? 0 : c.get();
  }

  int total() {
    return total.get();
  }

  RequestHeaders lastHeaders(String path) {
    return lastHeaders.get(path);
  }

  private void accept() {
    while (!stopped) {
      try {
        Socket s = server.accept();
        connections.add(s);
        Thread.ofVirtual().start(() -> serve(s));
      } catch (IOException e) {
        if (!stopped) {
          throw new IllegalStateException("test origin accept failed", e);
        }
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      InputStream in = new BufferedInputStream(s.getInputStream());
      OutputStream out = s.getOutputStream();
      while (!stopped) {
        String requestLine = line(in);
        if (requestLine == null) {
          return;
        }
        if (requestLine.isEmpty()) {
          continue;
        }
        String[] parts = requestLine.split(" ");
        String method = parts[0];
        String path = parts[1];
        RequestHeaders headers = new RequestHeaders();
        String l;
        while ((l = line(in)) != null && !l.isEmpty()) {
          int colon = l.indexOf(':');
          headers.fields.computeIfAbsent(l.substring(0, colon).strip(), k -> new ArrayList<>()).add(l.substring(colon + 1).strip());
        }
        String cl = headers.getFirst("content-length");
        if (cl != null) {
          in.readNBytes(Integer.parseInt(cl));
        }
        total.incrementAndGet();
        counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
        lastHeaders.put(path, headers);
        Script script = scripts.get(path);
        Answer a = script == null ? Answer.of(404, "no script for " + path, "Cache-Control", "no-store") : script.answer(headers);
        if (a.delayMillis() > 0) {
          Thread.sleep(a.delayMillis()); // slow on purpose (coalescing)
        }
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        StringBuilder sb = new StringBuilder("HTTP/1.1 ").append(a.status()).append(' ').append(reason(a.status())).append("\r\n");
        boolean hasDate = a.headers().keySet().stream().anyMatch(k -> k.equalsIgnoreCase("date"));
        if (!hasDate) {
          sb.append("Date: ").append(DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.ofInstant(clock.instant(), ZoneOffset.UTC))).append("\r\n");
        }
        for (Map.Entry<String, String> h : a.headers().entrySet()) {
          sb.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        boolean noBody = a.status() == 304 || a.status() == 204;
        if (!noBody) {
          sb.append("Content-Length: ").append(a.body().length).append("\r\n");
        }
        sb.append("\r\n");
        head.writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (!noBody && !method.equals("HEAD")) {
          head.writeBytes(a.body());
        }
        out.write(head.toByteArray());
        out.flush();
      }
    } catch (IOException e) {
      // the peer went away (or stop() closed the socket): this connection is done
      connections.remove(s);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      connections.remove(s);
    }
  }

  private static String reason(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 304 -> "Not Modified";
      case 404 -> "Not Found";
      case 503 -> "Service Unavailable";
      default -> "Status";
    };
  }

  private static String line(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        int n = sb.length();
        return n > 0 && sb.charAt(n - 1) == '\r' ? sb.substring(0, n - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return null;
  }

  /** Stops accepting and closes every connection (the edge's next attempt is refused). */
  void stop() {
    stopped = true;
    try {
      server.close();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    for (Socket s : connections) {
      try {
        s.close();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Override
  public void close() {
    if (!stopped) {
      stop();
    }
  }
}
