package io.scalestack.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The CLI's client of the control plane API (status, chaos, scale, down). */
final class ControlPlaneClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String base;

  ControlPlaneClient(String base) {
    if (!base.startsWith("http://")) {
      throw new BadInputException("--api: '" + base + "' (expected: http://host:port)");
    }
    this.base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
  }

  /** The answer of a call: status code and JSON body. */
  record Answer(int status, JsonNode body) {
    String error() {
      return body.path("error").asText("HTTP " + status);
    }
  }

  Answer get(String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(base + path)).GET());
  }

  Answer post(String path, String json) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  boolean reachable() {
    try {
      return get("/health").status() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
    try {
      HttpResponse<String> response = client.send(request.timeout(Duration.ofSeconds(60)).build(),
          HttpResponse.BodyHandlers.ofString());
      JsonNode body = response.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(response.body());
      return new Answer(response.statusCode(), body);
    } catch (ConnectException e) {
      throw new IOException("no control plane at " + base + " (is `scalestack up` running?)", e);
    }
  }
}
