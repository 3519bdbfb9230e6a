package io.scalestack.blob;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Opens a {@link BlobStore} named by one URL, so that a command line or a config file chooses the
 * store with one value:
 *
 * <ul>
 *   <li>{@code file:///var/lib/scalestack/blobs} (or a plain absolute path): a {@link DirectoryBlobStore};
 *   <li>{@code s3://bucket?region=eu-west-1}: an {@link S3BlobStore} on AWS, with the AWS SDK's
 *       default credentials (environment, profile, instance role);
 *   <li>{@code s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:9000&pathStyle=true}: an
 *       S3-compatible server (MinIO, Ceph, S3Proxy).
 * </ul>
 *
 * <p>Credentials are never part of the URL, which shows in process lists and logs. Stateless and
 * thread-safe.
 */
public final class BlobStores {

  private static final Set<String> S3_PARAMETERS = Set.of("region", "endpoint", "pathStyle");
  private static final String EXPECTED =
      "file:///absolute/path, an absolute path, or s3://bucket?region=R[&endpoint=URL][&pathStyle=true]";

  private BlobStores() {}

  /**
   * The store {@code url} names; the caller closes it.
   *
   * @throws IllegalArgumentException naming the URL, the part at fault and what was expected
   */
  public static BlobStore open(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("blob store URL: '" + url + "' (expected: " + EXPECTED + ")");
    }
    if (url.startsWith("/")) {
      return DirectoryBlobStore.builder().directory(Path.of(url)).build();
    }
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("blob store URL: '" + url + "': " + e.getReason() + " (expected: " + EXPECTED + ")", e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    switch (scheme) {
      case "file" -> {
        if (uri.getPath() == null || !uri.getPath().startsWith("/") || uri.getQuery() != null) {
          throw new IllegalArgumentException("blob store URL: '" + url + "' (expected: " + EXPECTED + ")");
        }
        return DirectoryBlobStore.builder().directory(Path.of(uri.getPath())).build();
      }
      case "s3" -> {
        Map<String, String> parameters = parameters(url, uri.getRawQuery());
        S3BlobStore.Builder builder = S3BlobStore.builder();
        if (uri.getHost() == null || (uri.getPath() != null && !uri.getPath().isEmpty())) {
          throw new IllegalArgumentException("blob store URL: '" + url + "': the bucket must be the host, with no path"
              + " (expected: " + EXPECTED + ")");
        }
        builder.bucket(uri.getHost());
        if (!parameters.containsKey("region")) {
          throw new IllegalArgumentException("blob store URL: '" + url + "': region missing (expected: " + EXPECTED + ")");
        }
        builder.region(parameters.get("region"));
        if (parameters.containsKey("endpoint")) {
          builder.endpoint(URI.create(parameters.get("endpoint")));
        }
        String pathStyle = parameters.getOrDefault("pathStyle", "false");
        if (!pathStyle.equals("true") && !pathStyle.equals("false")) {
          throw new IllegalArgumentException("blob store URL: '" + url + "': pathStyle=" + pathStyle
              + " (expected: true or false)");
        }
        builder.pathStyle(Boolean.parseBoolean(pathStyle));
        return builder.build();
      }
      default -> throw new IllegalArgumentException("blob store URL: '" + url + "': scheme '" + scheme
          + "' (expected: " + EXPECTED + ")");
    }
  }

  private static Map<String, String> parameters(String url, String query) {
    Map<String, String> parameters = new LinkedHashMap<>();
    if (query == null || query.isEmpty()) {
      return parameters;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq);
      String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      if (!S3_PARAMETERS.contains(name)) {
        throw new IllegalArgumentException("blob store URL: '" + url + "': parameter '" + name
            + "' (expected: one of endpoint, pathStyle, region)");
      }
      if (parameters.put(name, value) != null) {
        throw new IllegalArgumentException("blob store URL: '" + url + "': parameter '" + name + "' given twice");
      }
    }
    return parameters;
  }
}
