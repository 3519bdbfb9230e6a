package io.scalestack.controlplane.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Client of the load balancer's admin API (HAProxy's runtime API, over HTTP): registers, drains
 * and removes web servers, and reads the balancer's view of them.
 *
 * <p>Thread-safe; calls block, so make them from virtual threads.
 */
public final class BalancerAdmin {

  /** The balancer's view of one backend. */
  public record Backend(String state, long inFlight, long requests) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient client;
  private final String base;

  public BalancerAdmin(HttpClient client, InetSocketAddress admin) {
    this.client = client;
    this.base = "http://" + admin.getHostString() + ":" + admin.getPort();
  }

  /** Adds (or confirms) backend {@code name} at {@code address}. */
  public void register(String name, InetSocketAddress address) throws IOException, InterruptedException {
    String body = JSON.writeValueAsString(Map.of("address", address.getHostString() + ":" + address.getPort()));
    send(HttpRequest.newBuilder(URI.create(base + "/backends/" + name)).PUT(HttpRequest.BodyPublishers.ofString(body)), 200, 201);
  }

  /** Stops new requests to {@code name}; in-flight ones finish. */
  public void drain(String name) throws IOException, InterruptedException {
    send(HttpRequest.newBuilder(URI.create(base + "/backends/" + name + "/drain")).POST(HttpRequest.BodyPublishers.noBody()), 200, 404);
  }

  /** Removes {@code name}; absent is fine. */
  public void remove(String name) throws IOException, InterruptedException {
    send(HttpRequest.newBuilder(URI.create(base + "/backends/" + name)).DELETE(), 204, 404);
  }

  /** Every backend by name. */
  public Map<String, Backend> backends() throws IOException, InterruptedException {
    HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create(base + "/backends")).GET(), 200);
    Map<String, Backend> backends = new HashMap<>();
    for (JsonNode node : JSON.readTree(response.body())) {
      backends.put(
          node.path("name").asText(),
          new Backend(node.path("state").asText(), node.path("inFlight").asLong(), node.path("requests").asLong()));
    }
    return backends;
  }

  private HttpResponse<String> send(HttpRequest.Builder request, int... accepted) throws IOException, InterruptedException {
    HttpResponse<String> response =
        client.send(request.timeout(Duration.ofSeconds(5)).header("Content-Type", "application/json").build(),
            HttpResponse.BodyHandlers.ofString());
    for (int status : accepted) {
      if (response.statusCode() == status) {
        return response;
      }
    }
    throw new IOException("balancer admin " + response.request().method() + " " + response.request().uri()
        + " answered " + response.statusCode() + ": " + response.body());
  }
}
