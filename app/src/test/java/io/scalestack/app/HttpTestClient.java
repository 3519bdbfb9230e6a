package io.scalestack.app;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A plain {@link HttpClient} for the tests, with no cookie handler: tests carry the session
 * cookie by hand, so they can look at its attributes and present it to another server.
 */
final class HttpTestClient {

  static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).version(HttpClient.Version.HTTP_1_1).build();

  /** One answer. */
  record Reply(int status, HttpHeaders headers, String body) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (IOException e) {
        throw new UncheckedIOException("not JSON: " + body, e);
      }
    }

    String header(String name) {
      return headers.firstValue(name).orElse(null);
    }

    /** The raw {@code Set-Cookie} header of the session cookie, if one was sent. */
    Optional<String> setSessionCookie() {
      return headers.allValues("Set-Cookie").stream()
          .filter(h -> h.startsWith(WebServer.SESSION_COOKIE + "="))
          .findFirst();
    }

    /** {@code SESSION=<id>}, ready for a {@code Cookie} header. */
    String sessionCookie() {
      String header = setSessionCookie().orElseThrow(() -> new AssertionError("no session cookie in " + headers));
      return header.split(";", 2)[0];
    }
  }

  Reply send(WebServer server, String method, String path, String jsonBody, String cookie) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(server, path)).timeout(Duration.ofSeconds(20));
    if (jsonBody != null) {
      request.header("Content-Type", "application/json");
      request.method(method, HttpRequest.BodyPublishers.ofString(jsonBody));
    } else {
      request.method(method, HttpRequest.BodyPublishers.noBody());
    }
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    return send(request.build());
  }

  Reply send(HttpRequest request) {
    try {
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      return new Reply(response.statusCode(), response.headers(), response.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  Reply get(WebServer server, String path) {
    return send(server, "GET", path, null, null);
  }

  Reply get(WebServer server, String path, String cookie) {
    return send(server, "GET", path, null, cookie);
  }

  Reply post(WebServer server, String path, String jsonBody) {
    return send(server, "POST", path, jsonBody, null);
  }

  Reply post(WebServer server, String path, String jsonBody, String cookie) {
    return send(server, "POST", path, jsonBody, cookie);
  }

  static URI uri(WebServer server, String path) {
    InetSocketAddress address = server.address();
    return URI.create("http://" + address.getHostString() + ":" + address.getPort() + path);
  }

  static String json(Object... keysAndValues) {
    var node = JSON.createObjectNode();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      node.set((String) keysAndValues[i], JSON.valueToTree(keysAndValues[i + 1]));
    }
    return node.toString();
  }

  static List<String> lines(String text) {
    return text.lines().toList();
  }
}
