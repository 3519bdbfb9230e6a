package io.scalestack.edge;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** An origin for the tests: per-path scripted answers, counting every request and keeping the last headers. */
final class TestOrigin implements AutoCloseable {

  /** One scripted answer. */
  record Answer(int status, Map<String, String> headers, byte[] body, long delayMillis) {
    static Answer ok(String body, String... headers) {
      return of(200, body, headers);
    }

    static Answer of(int status, String body, String... headers) {
      Map<String, String> h = new java.util.LinkedHashMap<>();
      for (int i = 0; i + 1 < headers.length; i += 2) {
        h.put(headers[i], headers[i + 1]);
      }
      return new Answer(status, h, body.getBytes(java.nio.charset.StandardCharsets.UTF_8), 0);
    }

    Answer delayed(long millis) {
      return new Answer(status, headers, body, millis);
    }
  }

  /** Computes an answer from the request's headers. */
  interface Script {
    Answer answer(Headers request);
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final Map<String, Script> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  private final Map<String, Headers> lastHeaders = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();

  private final java.time.Clock clock;

  /** An origin whose {@code Date} comes from {@code clock} (the edge's), so ages are what the test says. */
  TestOrigin(java.time.Clock clock) throws IOException {
    this.clock = clock;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
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

  Headers lastHeaders(String path) {
    return lastHeaders.get(path);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange; InputStream in = exchange.getRequestBody()) {
      in.readAllBytes();
      String path = exchange.getRequestURI().getRawPath()
          + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());
      total.incrementAndGet();
      counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      lastHeaders.put(path, exchange.getRequestHeaders());
      Script script = scripts.get(path);
      Answer a = script == null ? Answer.of(404, "no script for " + path, "Cache-Control", "no-store")
          : script.answer(exchange.getRequestHeaders());
      if (a.delayMillis() > 0) {
        try {
          Thread.sleep(a.delayMillis()); // the origin is slow on purpose (coalescing)
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      exchange.getResponseHeaders().set("Date", java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME
          .format(java.time.ZonedDateTime.ofInstant(clock.instant(), java.time.ZoneOffset.UTC)));
      for (Map.Entry<String, String> h : a.headers().entrySet()) {
        exchange.getResponseHeaders().put(h.getKey(), List.of(h.getValue()));
      }
      boolean noBody = a.status() == 304 || a.status() == 204 || exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(a.status(), noBody ? -1 : a.body().length);
      if (!noBody) {
        exchange.getResponseBody().write(a.body());
      }
    }
  }

  /** Stops accepting and closes the listener (connections then get refused). */
  void stop() {
    server.stop(0);
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
