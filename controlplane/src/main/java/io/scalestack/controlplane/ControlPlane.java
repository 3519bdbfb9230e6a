package io.scalestack.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Gauge;
import io.scalestack.observability.Telemetry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's HTTP API over a {@link Supervisor} (127.0.0.1:7070 by default), used by
 * {@code scalestack status}, {@code chaos kill}, {@code scale} and {@code down}:
 *
 * <pre>
 * GET  /health                      200 {"status":"UP"}
 * GET  /metrics                     Prometheus text
 * GET  /api/members                 [{"name","role","address","state","pid","restarts",…}]
 *                                   (PostgreSQL members also "database": {"role","reachable","lsn","lagBytes","walReceiver"})
 * GET  /api/hot-keys               {"web-1":[{"userId","share","estimate"}],…}: the users each web server finds hot
 * GET  /api/failovers               [{"oldPrimary","newPrimary","detectedAt","promotedAt","promotedMillis","promotedLsn"}]
 * POST /api/members/{name}/kill     202 {"killed":name}; 404 when no such member runs
 * POST /api/pools/{pool}/scale      body {"size":N}; 200 {"pool","size"}; 400 naming the bad field
 * POST /api/shutdown                202 {"status":"stopping","pid"}; then stops every member and this server
 * </pre>
 *
 * <p>Requests are served on virtual threads. Thread-safe.
 */
public final class ControlPlane implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern KILL = Pattern.compile("/api/members/([A-Za-z0-9._-]{1,64})/kill");
  private static final Pattern SCALE = Pattern.compile("/api/pools/([A-Za-z0-9._-]{1,64})/scale");
  private static final int MAX_BODY_BYTES = 4096;

  private final Supervisor supervisor;
  private final Telemetry telemetry;
  private final Runnable onShutdownRequest;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();

  private ControlPlane(Supervisor supervisor, Telemetry telemetry, InetSocketAddress listen, Runnable onShutdownRequest)
      throws IOException {
    this.supervisor = supervisor;
    this.telemetry = telemetry;
    this.onShutdownRequest = onShutdownRequest;
    this.server = HttpServer.create(listen, 64);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    Gauge.builder("scalestack_members_healthy", supervisor, Supervisor::healthyMembers)
        .description("Members answering their health checks")
        .register(telemetry.registry());
  }

  /**
   * Binds the API at {@code listen} and starts serving. {@code onShutdownRequest} runs (on its own
   * thread) when a client asks {@code POST /api/shutdown}.
   */
  public static ControlPlane start(Supervisor supervisor, Telemetry telemetry, InetSocketAddress listen,
      Runnable onShutdownRequest) throws IOException {
    Objects.requireNonNull(supervisor, "supervisor");
    ControlPlane plane = new ControlPlane(supervisor, telemetry, listen, onShutdownRequest);
    plane.server.start();
    return plane;
  }

  /** The bound address. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdown();
  }

  private void handle(HttpExchange exchange) throws IOException {
    boolean shutdown = false;
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String method = exchange.getRequestMethod();
      Matcher kill = KILL.matcher(path);
      Matcher scale = SCALE.matcher(path);
      if (path.equals("/health") && method.equals("GET")) {
        send(exchange, 200, JSON.createObjectNode().put("status", "UP"));
      } else if (path.equals("/metrics") && method.equals("GET")) {
        byte[] body = telemetry.scrape().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", Telemetry.CONTENT_TYPE);
        exchange.sendResponseHeaders(200, body.length);
        exchange.getResponseBody().write(body);
      } else if (path.equals("/api/members") && method.equals("GET")) {
        send(exchange, 200, membersJson());
      } else if (path.equals("/api/hot-keys") && method.equals("GET")) {
        ObjectNode hot = JSON.createObjectNode();
        for (Map.Entry<String, String> answer : supervisor.hotKeys().entrySet()) {
          try {
            hot.set(answer.getKey(), JSON.readTree(answer.getValue()));
          } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            log.warn("{}: unreadable hot keys: {}", answer.getKey(), e.getOriginalMessage());
          }
        }
        send(exchange, 200, hot);
      } else if (path.equals("/api/failovers") && method.equals("GET")) {
        ArrayNode failovers = JSON.createArrayNode();
        for (PostgresFailover.FailoverEvent event : supervisor.failovers()) {
          failovers.addObject()
              .put("oldPrimary", event.oldPrimary())
              .put("newPrimary", event.newPrimary())
              .put("detectedAt", event.detectedAt().toString())
              .put("promotedAt", event.promotedAt().toString())
              .put("promotedMillis", event.duration().toMillis())
              .put("promotedLsn", event.promotedLsn());
        }
        send(exchange, 200, failovers);
      } else if (kill.matches() && method.equals("POST")) {
        String name = kill.group(1);
        if (supervisor.kill(name)) {
          send(exchange, 202, JSON.createObjectNode().put("killed", name));
        } else {
          send(exchange, 404, error("member: '" + name + "' (expected: a running member; see GET /api/members)", "member"));
        }
      } else if (scale.matches() && method.equals("POST")) {
        scale(exchange, scale.group(1));
      } else if (path.equals("/api/edge/purge") && method.equals("POST")) {
        purgeEdge(exchange);
      } else if (path.equals("/api/shutdown") && method.equals("POST")) {
        send(exchange, 202, JSON.createObjectNode().put("status", "stopping").put("pid", ProcessHandle.current().pid()));
        shutdown = true;
      } else {
        send(exchange, 404, error("no such endpoint: " + method + " " + path, null));
      }
    } catch (RuntimeException e) {
      log.warn("control API request failed", e);
      send(exchange, 500, error("internal error: " + e.getMessage(), null));
    }
    if (shutdown) {
      // Only now that the answer is out: stopping closes this server.
      Thread.ofPlatform().name("shutdown-request").start(onShutdownRequest);
    }
  }

  // the edge's own answer passed on: it says what was purged, or what was wrong with the query
  private void purgeEdge(HttpExchange exchange) throws IOException {
    try {
      Supervisor.PurgeAnswer answer = supervisor.purgeEdge(exchange.getRequestURI().getRawQuery());
      byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", answer.contentType());
      exchange.sendResponseHeaders(answer.status(), body.length == 0 ? -1 : body.length);
      exchange.getResponseBody().write(body);
    } catch (IllegalStateException e) {
      send(exchange, 404, error(e.getMessage(), null));
    } catch (IOException e) {
      send(exchange, 502, error("edge: purge failed: " + e.getMessage(), null));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      send(exchange, 503, error("interrupted", null));
    }
  }

  private void scale(HttpExchange exchange, String pool) throws IOException {
    JsonNode body;
    try (InputStream in = exchange.getRequestBody()) {
      byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
      if (bytes.length > MAX_BODY_BYTES) {
        send(exchange, 413, error("body: more than " + MAX_BODY_BYTES + " bytes (expected: {\"size\":N})", null));
        return;
      }
      body = JSON.readTree(bytes);
    } catch (IOException e) {
      send(exchange, 400, error("body: not JSON (expected: {\"size\":N})", null));
      return;
    }
    JsonNode size = body == null ? null : body.get("size");
    if (size == null || !size.canConvertToInt() || !size.isIntegralNumber()) {
      send(exchange, 400, error("size: " + size + " (expected: an integer)", "size"));
      return;
    }
    try {
      supervisor.scale(pool, size.intValue());
      int now = pool.equals(Supervisor.WORKER_POOL) ? supervisor.workerPoolSize() : supervisor.webPoolSize();
      send(exchange, 200, JSON.createObjectNode().put("pool", pool).put("size", now));
    } catch (IllegalArgumentException e) {
      send(exchange, 400, error(e.getMessage(), e.getMessage().startsWith("pool") ? "pool" : "size"));
    } catch (Exception e) {
      send(exchange, 500, error("scaling failed: " + e.getMessage(), null));
    }
  }

  private ArrayNode membersJson() {
    ArrayNode array = JSON.createArrayNode();
    Map<String, PostgresFailover.NodeStatus> database = new java.util.HashMap<>();
    supervisor.databaseStatus().forEach(node -> database.put(node.name(), node));
    for (MemberStatus m : supervisor.members()) {
      ObjectNode member = array.addObject();
      PostgresFailover.NodeStatus node = database.get(m.name());
      if (node != null) {
        // the failover orchestrator's view: roles change, names do not
        member.putObject("database")
            .put("role", node.role().name().toLowerCase(java.util.Locale.ROOT))
            .put("reachable", node.reachable())
            .put("lsn", node.lsn())
            .put("lagBytes", node.lagBytes())
            .put("walReceiver", node.receiver());
      }
      member
          .put("name", m.name())
          .put("role", m.role())
          .put("address", m.address())
          .put("state", m.state().name())
          .put("pid", m.pid())
          .put("restarts", m.restarts())
          .put("uptimeSeconds", m.uptime().toSeconds())
          .put("balancerState", m.balancerState())
          .put("inFlight", m.inFlight())
          .put("requests", m.requests());
    }
    return array;
  }

  private static ObjectNode error(String message, String field) {
    ObjectNode node = JSON.createObjectNode().put("error", message);
    if (field != null) {
      node.put("field", field);
    }
    return node;
  }

  private static void send(HttpExchange exchange, int status, JsonNode body) throws IOException {
    byte[] bytes = JSON.writeValueAsBytes(body);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }
}
