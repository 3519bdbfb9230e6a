package io.scalestack.balancer;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small real web server (the JDK's HttpServer) standing in for a web member: answers {@code GET
 * /health} with a settable status, {@code /slow} once a gate opens, anything else with its own
 * name, and records what it received.
 */
final class TestBackend implements AutoCloseable {

  /** One request as the backend saw it. */
  record Received(String method, String path, Map<String, List<String>> headers, InetSocketAddress remote, String body) {
    String header(String name) {
      for (Map.Entry<String, List<String>> e : headers.entrySet()) {
        if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
          return String.join(",", e.getValue());
        }
      }
      return null;
    }
  }

  final String name;
  final AtomicInteger healthStatus = new AtomicInteger(200);
  final AtomicInteger healthChecks = new AtomicInteger();
  final List<Received> received = new CopyOnWriteArrayList<>();
  final CountDownLatch slowGate = new CountDownLatch(1);
  final AtomicInteger slowArrived = new AtomicInteger();
  volatile long healthDelayMillis;
  private final Set<InetSocketAddress> connections = ConcurrentHashMap.newKeySet();
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  private TestBackend(String name, HttpServer server) {
    this.name = name;
    this.server = server;
  }

  static TestBackend start(String name) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    TestBackend backend = new TestBackend(name, server);
    server.setExecutor(backend.executor);
    server.createContext("/", backend::handle);
    server.start();
    return backend;
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  /** Requests other than health checks. */
  int requests() {
    return received.size();
  }

  /** Distinct connections that carried requests other than health checks. */
  int connections() {
    return connections.size();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (path.equals("/health")) {
        healthChecks.incrementAndGet();
        if (healthDelayMillis > 0) {
          sleep(healthDelayMillis);
        }
        respond(exchange, healthStatus.get(), "{\"status\":\"" + (healthStatus.get() == 200 ? "UP" : "DOWN") + "\"}");
        return;
      }
      received.add(new Received(exchange.getRequestMethod(), path, Map.copyOf(exchange.getRequestHeaders()),
          exchange.getRemoteAddress(), body));
      connections.add(exchange.getRemoteAddress());
      if (path.equals("/slow")) {
        slowArrived.incrementAndGet();
        try {
          if (!slowGate.await(20, TimeUnit.SECONDS)) {
            respond(exchange, 500, "gate never opened");
            return;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      if (exchange.getRequestMethod().equals("HEAD")) {
        exchange.getResponseHeaders().set("Content-Length", Integer.toString(name.length()));
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      respond(exchange, 200, name);
    }
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "text/plain");
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops listening and closes its connections. */
  @Override
  public void close() {
    slowGate.countDown();
    server.stop(0);
    executor.shutdownNow();
  }
}
