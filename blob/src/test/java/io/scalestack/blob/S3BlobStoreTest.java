package io.scalestack.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.concurrent.atomic.AtomicInteger;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The contract against a real S3 server over a socket: S3Proxy on its in-memory backend, started in this JVM on
 * 127.0.0.1 with a free port; each test gets a new bucket.
 */
class S3BlobStoreTest extends BlobStoreContract {

  private static final String ACCESS_KEY = "scalestack-test";
  private static final String SECRET_KEY = "scalestack-test-secret";
  private static final AtomicInteger buckets = new AtomicInteger();

  private static S3Proxy server;
  private static URI endpoint;
  /** Creates the buckets: the store itself only reads and writes objects. */
  private static S3Client admin;

  private String bucket;

  @BeforeAll
  static void startServer() throws Exception {
    server = S3Proxy.builder()
        .blobStore(new TransientNio2BlobStore())
        .endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
        .build();
    server.start();
    endpoint = URI.create("http://127.0.0.1:" + server.getPort());
    admin = S3Client.builder()
        .endpointOverride(endpoint)
        .region(Region.US_EAST_1)
        .forcePathStyle(true)
        .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
        .httpClientBuilder(UrlConnectionHttpClient.builder())
        .build();
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (admin != null) {
      admin.close();
    }
    if (server != null) {
      server.stop();
    }
  }

  @Override
  protected BlobStore newEmptyStore() {
    bucket = "test-" + buckets.incrementAndGet();
    admin.createBucket(r -> r.bucket(bucket));
    return storeFor(bucket, SECRET_KEY);
  }

  private static S3BlobStore storeFor(String bucket, String secretKey) {
    return S3BlobStore.builder()
        .endpoint(endpoint)
        .region("us-east-1")
        .bucket(bucket)
        .credentials(ACCESS_KEY, secretKey)
        .pathStyle(true)
        .build();
  }

  @Test
  void theObjectIsStoredInTheBucketUnderItsKey() {
    store.put("photos/42/original.jpg", bytes(4, 1234));

    byte[] read = admin.getObjectAsBytes(r -> r.bucket(bucket).key("photos/42/original.jpg")).asByteArray();
    assertThat(read).isEqualTo(bytes(4, 1234));
  }

  @Test
  void aMissingBucketIsAFailureNamingTheStoreAndTheKeyNotAnAbsentObject() {
    try (S3BlobStore missing = storeFor("no-such-bucket", SECRET_KEY)) {
      assertThatThrownBy(() -> missing.get("a.jpg"))
          .isInstanceOf(BlobStoreException.class)
          .hasMessageStartingWith("s3 store s3://no-such-bucket at " + endpoint + ": get 'a.jpg' failed: ")
          .hasMessageContaining("NoSuchBucket");
      assertThatThrownBy(() -> missing.put("a.jpg", bytes(1, 3)))
          .isInstanceOf(BlobStoreException.class)
          .hasMessageStartingWith("s3 store s3://no-such-bucket at " + endpoint + ": put 'a.jpg' failed: ");
      // a HEAD answer has no body to name the missing bucket: exists cannot tell it from a missing object
      assertThat(missing.exists("a.jpg")).isFalse();
    }
  }

  @Test
  void wrongCredentialsAreAFailure() {
    try (S3BlobStore denied = storeFor(bucket, "not-the-secret")) {
      assertThatThrownBy(() -> denied.put("a.jpg", bytes(1, 3)))
          .isInstanceOf(BlobStoreException.class)
          .hasMessageContaining("put 'a.jpg' failed: ")
          .hasMessageContaining("403");
    }
  }

  @Test
  void anUnreachableServerIsAFailure() {
    // the server's own port once it is stopped would race with other tests; port 1 on loopback refuses at once
    try (S3BlobStore unreachable = S3BlobStore.builder().endpoint(URI.create("http://127.0.0.1:1")).region("us-east-1")
        .bucket("b-1").credentials(ACCESS_KEY, SECRET_KEY).pathStyle(true).build()) {
      assertThatThrownBy(() -> unreachable.exists("a.jpg"))
          .isInstanceOf(BlobStoreException.class)
          .hasMessageStartingWith("s3 store s3://b-1 at http://127.0.0.1:1: exists 'a.jpg' failed: ");
    }
  }

  @Test
  void aClosedStoreRefusesCalls() {
    store.close();

    assertThatThrownBy(() -> store.put("a", bytes(1, 1))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void aStoreOpenedFromAnS3UrlUsesTheBucketOnTheEndpointWithTheDefaultCredentials() {
    String bucketName = "url-" + buckets.incrementAndGet();
    admin.createBucket(r -> r.bucket(bucketName));
    // the SDK's default chain reads these system properties (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
    System.setProperty("aws.accessKeyId", ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", SECRET_KEY);
    try (BlobStore store = BlobStores.open("s3://" + bucketName + "?region=us-east-1&endpoint=" + endpoint + "&pathStyle=true")) {
      store.put("photos/1", new byte[] {1, 2, 3});
      assertThat(admin.getObjectAsBytes(r -> r.bucket(bucketName).key("photos/1")).asByteArray())
          .containsExactly(1, 2, 3);
    } finally {
      System.clearProperty("aws.accessKeyId");
      System.clearProperty("aws.secretAccessKey");
    }
  }
}
