package io.scalestack.blob;

import io.scalestack.blob.internal.Keys;
import java.net.URI;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * A {@link BlobStore} in an S3 bucket: Amazon S3 or any S3-compatible server (MinIO, Ceph, S3Proxy, ...), through the
 * AWS SDK for Java v2 with the JDK's HTTP client. The key is the object key. S3 stores each PUT whole, so a reader
 * sees the whole old or the whole new object. Thread-safe: one SDK client serves every thread.
 *
 * <p>Failures (unreachable server, denied access, missing bucket, ...) throw {@link BlobStoreException} after the
 * SDK's own retries; a missing object is not a failure ({@link #get} is empty, {@link #exists} false). A missing
 * bucket fails {@link #get}, {@link #put} and {@link #delete}, but {@link #exists} answers false: S3 answers its HEAD
 * request with a bare 404 that does not say whether the bucket or the object is missing.
 */
public final class S3BlobStore implements BlobStore {

  private static final Logger log = LoggerFactory.getLogger(S3BlobStore.class);

  private final S3Client s3;
  /** Closed with the store when the store made it (the SDK leaves a provider passed in to its owner). */
  private final AwsCredentialsProvider credentials;
  private final String bucket;
  private final String name;
  private final AtomicBoolean closed = new AtomicBoolean();

  private S3BlobStore(S3Client s3, AwsCredentialsProvider credentials, String bucket, String name) {
    this.s3 = s3;
    this.credentials = credentials;
    this.bucket = bucket;
    this.name = name;
  }

  /** A builder; {@link Builder#region} and {@link Builder#bucket} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The bucket that holds the objects. */
  public String bucket() {
    return bucket;
  }

  @Override
  public void put(String key, byte[] bytes) {
    Keys.check(key);
    if (bytes == null) {
      throw new IllegalArgumentException("bytes: null (expected: an array, possibly empty)");
    }
    checkOpen();
    // fromBytes copies: the caller may reuse its array as soon as put returns, and a retry resends the same bytes
    call("put", key, () -> s3.putObject(r -> r.bucket(bucket).key(key), RequestBody.fromBytes(bytes)));
  }

  @Override
  public Optional<byte[]> get(String key) {
    Keys.check(key);
    checkOpen();
    try {
      return Optional.of(s3.getObjectAsBytes(r -> r.bucket(bucket).key(key)).asByteArrayUnsafe());
    } catch (S3Exception e) {
      if (missingKey(e)) {
        return Optional.empty();
      }
      throw BlobStoreException.of(name, "get", key, e);
    } catch (SdkException e) {
      throw BlobStoreException.of(name, "get", key, e);
    }
  }

  @Override
  public boolean exists(String key) {
    Keys.check(key);
    checkOpen();
    try {
      s3.headObject(r -> r.bucket(bucket).key(key));
      return true;
    } catch (S3Exception e) {
      if (missingKey(e)) {
        return false;
      }
      throw BlobStoreException.of(name, "exists", key, e);
    } catch (SdkException e) {
      throw BlobStoreException.of(name, "exists", key, e);
    }
  }

  @Override
  public void delete(String key) {
    Keys.check(key);
    checkOpen();
    // S3 answers a delete of a missing key with success: nothing to special-case
    call("delete", key, () -> s3.deleteObject(r -> r.bucket(bucket).key(key)));
  }

  /** Closes the SDK client and its connections; later calls throw {@link IllegalStateException}. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    s3.close();
    if (credentials instanceof SdkAutoCloseable closeable) {
      closeable.close();
    }
    log.debug("{}: closed", name);
  }

  @Override
  public String toString() {
    return name;
  }

  private void call(String operation, String key, Supplier<?> request) {
    try {
      request.get();
    } catch (SdkException e) {
      throw BlobStoreException.of(name, operation, key, e);
    }
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException(name + ": closed (expected: an open store)");
    }
  }

  /**
   * A 404 that means "no such object". HEAD responses have no body, so the SDK reports any 404 of headObject as
   * NoSuchKey; a GET names a missing bucket (NoSuchBucket), which must stay a failure, not an absent object.
   */
  private static boolean missingKey(S3Exception e) {
    if (e instanceof NoSuchKeyException) {
      return true;
    }
    String code = e.awsErrorDetails() == null ? null : e.awsErrorDetails().errorCode();
    return e.statusCode() == 404 && !"NoSuchBucket".equals(code);
  }

  /** Builds an {@link S3BlobStore}; validates each value as it is set. Not thread-safe. */
  public static final class Builder {

    private static final Pattern REGION = Pattern.compile("[a-z0-9-]{1,64}");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final String REGION_RULE = "(expected: 1..64 characters of [a-z0-9-], e.g. us-east-1)";
    private static final String BUCKET_RULE =
        "(expected: 3..63 characters of [a-z0-9.-], starting and ending with a letter or digit)";
    private static final String ENDPOINT_RULE = "(expected: an http or https URI with a host, e.g. http://127.0.0.1:9000)";

    private URI endpoint;
    private String region;
    private String bucket;
    private String accessKey;
    private String secretKey;
    private boolean pathStyle;

    private Builder() {
    }

    /** The server, for S3-compatible servers; optional: by default the SDK picks Amazon S3's endpoint for the region. */
    public Builder endpoint(URI endpoint) {
      if (endpoint == null) {
        throw new IllegalArgumentException("endpoint: null " + ENDPOINT_RULE);
      }
      String scheme = endpoint.getScheme();
      if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme)) || endpoint.getHost() == null
          || endpoint.getRawQuery() != null || endpoint.getRawFragment() != null || endpoint.getRawUserInfo() != null) {
        throw new IllegalArgumentException("endpoint: '" + endpoint + "' " + ENDPOINT_RULE);
      }
      this.endpoint = endpoint;
      return this;
    }

    /** The region, e.g. {@code us-east-1}; required (S3-compatible servers usually accept any, often us-east-1). */
    public Builder region(String region) {
      if (region == null || !REGION.matcher(region).matches()) {
        throw new IllegalArgumentException("region: " + quoted(region) + " " + REGION_RULE);
      }
      this.region = region;
      return this;
    }

    /** The bucket, which must exist; required. */
    public Builder bucket(String bucket) {
      if (bucket == null || !BUCKET.matcher(bucket).matches()) {
        throw new IllegalArgumentException("bucket: " + quoted(bucket) + " " + BUCKET_RULE);
      }
      this.bucket = bucket;
      return this;
    }

    /**
     * Fixed credentials; optional: by default the SDK's default chain (environment, system properties, profile files,
     * container and instance roles).
     */
    public Builder credentials(String accessKey, String secretKey) {
      if (accessKey == null || accessKey.isBlank()) {
        throw new IllegalArgumentException("accessKey: " + quoted(accessKey) + " (expected: not blank)");
      }
      if (secretKey == null || secretKey.isBlank()) {
        // never echo a secret, not even a wrong one
        throw new IllegalArgumentException(
            "secretKey: " + (secretKey == null ? "null" : "blank") + " (expected: not blank)");
      }
      this.accessKey = accessKey;
      this.secretKey = secretKey;
      return this;
    }

    /**
     * Whether to address the bucket in the path ({@code http://host/bucket/key}) rather than the host name
     * ({@code http://bucket.host/key}); most S3-compatible servers need true. Default false.
     */
    public Builder pathStyle(boolean pathStyle) {
      this.pathStyle = pathStyle;
      return this;
    }

    /**
     * The store. Does not contact the server: a wrong endpoint, bucket or credentials show as {@link
     * BlobStoreException} on the first call.
     *
     * @throws IllegalStateException if region or bucket was not set
     */
    public S3BlobStore build() {
      if (region == null) {
        throw new IllegalStateException("region: not set " + REGION_RULE);
      }
      if (bucket == null) {
        throw new IllegalStateException("bucket: not set " + BUCKET_RULE);
      }
      AwsCredentialsProvider provider = accessKey != null
          ? StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey))
          : DefaultCredentialsProvider.builder().build();
      S3ClientBuilder client = S3Client.builder()
          .region(Region.of(region))
          .credentialsProvider(provider)
          .forcePathStyle(pathStyle)
          // the SDK owns (and closes) a client it builds itself; one passed in would be ours to close
          .httpClientBuilder(UrlConnectionHttpClient.builder());
      if (endpoint != null) {
        // S3-compatible servers often lack the flexible checksums (aws-chunked trailers) the SDK sends by default
        // since 2.30; TLS (https) or the signed payload hash (plain http) still protects the upload
        client.endpointOverride(endpoint)
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
      }
      String name = "s3 store s3://" + bucket + (endpoint != null ? " at " + endpoint : " in " + region);
      S3BlobStore store = new S3BlobStore(client.build(), accessKey != null ? null : provider, bucket, name);
      log.debug("{}: built (path style {}, {} credentials)", name, pathStyle, accessKey != null ? "fixed" : "default");
      return store;
    }

    private static String quoted(String value) {
      return value == null ? "null" : "'" + value + "'";
    }
  }
}
