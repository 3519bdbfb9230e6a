package io.scalestack.app.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The control plane's calls into a web server, authenticated with a bearer token the control
 * plane made for its members ({@code Authorization: Bearer …}, RFC 6750 section 2.1):
 * {@code PUT /internal/database-topology} with {@code {"primary": URL, "replicas": [URL, …]}} points
 * the server at a new primary after a failover; {@code GET /internal/hot-keys} lists the users this
 * server finds hot ({@code [{"userId","share","estimate"}]}), for {@code scalestack status}.
 *
 * <p>Thread-safe.
 */
final class AdminApi {

  private static final int MAX_BODY_BYTES = 16 * 1024;
  private static final int MAX_REPLICAS = 16;
  private static final String URL_PREFIX = "jdbc:postgresql://";

  private final byte[] token;
  private final BiConsumer<String, List<String>> topologyUpdate;
  private final java.util.function.Supplier<List<io.scalestack.data.HotKeys.Entry>> hotKeys;

  AdminApi(String token, BiConsumer<String, List<String>> topologyUpdate,
      java.util.function.Supplier<List<io.scalestack.data.HotKeys.Entry>> hotKeys) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
    this.topologyUpdate = topologyUpdate;
    this.hotKeys = hotKeys;
  }

  void hotKeys(HttpServletRequest request, HttpServletResponse response) throws IOException {
    authorize(request);
    List<Map<String, Object>> users = new ArrayList<>();
    for (io.scalestack.data.HotKeys.Entry entry : hotKeys.get()) {
      users.add(Map.of("userId", entry.key(), "share", entry.share(), "estimate", entry.estimate()));
    }
    Json.write(response, HttpServletResponse.SC_OK, users);
  }

  void updateDatabaseTopology(HttpServletRequest request, HttpServletResponse response) throws IOException {
    authorize(request);
    JsonNode body = read(request);
    String primary = url(body.get("primary"), "primary");
    JsonNode replicasNode = body.get("replicas");
    if (replicasNode == null || !replicasNode.isArray() || replicasNode.size() > MAX_REPLICAS) {
      throw ApiException.badRequest("replicas", "replicas: " + (replicasNode == null ? "missing" : replicasNode)
          + " (expected: an array of at most " + MAX_REPLICAS + " " + URL_PREFIX + " URLs)");
    }
    List<String> replicas = new ArrayList<>();
    for (JsonNode replica : replicasNode) {
      replicas.add(url(replica, "replicas"));
    }
    topologyUpdate.accept(primary, List.copyOf(replicas));
    Json.write(response, HttpServletResponse.SC_OK, Map.of("primary", primary, "replicas", replicas));
  }

  private void authorize(HttpServletRequest request) {
    String header = request.getHeader("Authorization");
    byte[] given = header != null && header.startsWith("Bearer ")
        ? header.substring("Bearer ".length()).getBytes(StandardCharsets.UTF_8) : new byte[0];
    // constant time: the comparison does not tell how much of a guess was right
    if (!MessageDigest.isEqual(given, token)) {
      throw ApiException.unauthorized("Authorization: missing or wrong (expected: Bearer and the control plane's token)");
    }
  }

  private static JsonNode read(HttpServletRequest request) throws IOException {
    if (request.getContentLengthLong() > MAX_BODY_BYTES) {
      throw new ApiException(HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
          "The request body is larger than " + MAX_BODY_BYTES + " bytes.", null);
    }
    byte[] body;
    try (InputStream in = request.getInputStream()) {
      body = in.readNBytes(MAX_BODY_BYTES + 1);
    }
    if (body.length > MAX_BODY_BYTES) {
      throw new ApiException(HttpServletResponse.SC_REQUEST_ENTITY_TOO_LARGE,
          "The request body is larger than " + MAX_BODY_BYTES + " bytes.", null);
    }
    try {
      JsonNode node = Json.MAPPER.readTree(body);
      if (node == null || !node.isObject()) {
        throw ApiException.badRequest(null, "The request body is not a JSON object.");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest(null, "The request body is not valid JSON: " + e.getOriginalMessage() + ".");
    }
  }

  private static String url(JsonNode node, String field) {
    if (node == null || !node.isTextual() || !node.asText().startsWith(URL_PREFIX) || node.asText().length() > 512) {
      throw ApiException.badRequest(field, field + ": " + (node == null ? "missing" : node)
          + " (expected: a " + URL_PREFIX + " URL of at most 512 characters)");
    }
    return node.asText();
  }
}
