package io.scalestack.session;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A client holding one session cookie the way a browser does: it keeps the last value a
 * {@code Set-Cookie} gave it and drops it on {@code Max-Age=0}. Cookies are handled by hand so
 * that tests see the exact headers.
 */
final class Browser {

  record Reply(int status, String body, List<String> setCookies) {
    /** The value of the one Set-Cookie header, or fails. */
    String setCookie() {
      if (setCookies.size() != 1) {
        throw new AssertionError("expected one Set-Cookie header, got " + setCookies);
      }
      return setCookies.get(0);
    }
  }

  private static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  private final String cookieName;
  private volatile String cookie;

  Browser() {
    this("SESSION");
  }

  Browser(String cookieName) {
    this.cookieName = cookieName;
  }

  String cookie() {
    return cookie;
  }

  Browser cookie(String value) {
    this.cookie = value;
    return this;
  }

  Reply get(WebServer server, String path) {
    return send(server, "GET", path);
  }

  Reply post(WebServer server, String path) {
    return send(server, "POST", path);
  }

  Reply send(WebServer server, String method, String path) {
    return send(method, server.uri(path));
  }

  /** GET of an absolute URI, for servers other than {@link WebServer}. */
  Reply get(URI uri) {
    return send("GET", uri);
  }

  /** POST of an absolute URI, for servers other than {@link WebServer}. */
  Reply post(URI uri) {
    return send("POST", uri);
  }

  Reply send(String method, URI uri) {
    try {
      return remember(CLIENT.send(request(method, uri), HttpResponse.BodyHandlers.ofString()));
    } catch (IOException e) {
      throw new AssertionError(method + " " + uri + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(method + " " + uri + ": interrupted", e);
    }
  }

  CompletableFuture<Reply> sendAsync(WebServer server, String method, String path) {
    return CLIENT.sendAsync(request(method, server.uri(path)), HttpResponse.BodyHandlers.ofString()).thenApply(this::remember);
  }

  private HttpRequest request(String method, URI uri) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(uri)
        .timeout(Duration.ofSeconds(20))
        .method(method, HttpRequest.BodyPublishers.noBody());
    String current = cookie;
    if (current != null) {
      builder.header("Cookie", cookieName + "=" + current);
    }
    return builder.build();
  }

  private Reply remember(HttpResponse<String> response) {
    List<String> setCookies = response.headers().allValues("Set-Cookie");
    for (String header : setCookies) {
      if (header.startsWith(cookieName + "=")) {
        String value = header.substring(cookieName.length() + 1, header.indexOf(';'));
        cookie = header.contains("Max-Age=0") ? null : value;
      }
    }
    return new Reply(response.statusCode(), response.body(), setCookies);
  }
}
