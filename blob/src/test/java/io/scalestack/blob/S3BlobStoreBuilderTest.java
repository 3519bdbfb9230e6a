package io.scalestack.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import org.junit.jupiter.api.Test;

/** The builder's checks; no server needed. */
class S3BlobStoreBuilderTest {

  @Test
  void aBadBucketIsRejectedNamingItAndTheRule() {
    String rule = " (expected: 3..63 characters of [a-z0-9.-], starting and ending with a letter or digit)";
    assertThatThrownBy(() -> S3BlobStore.builder().bucket("")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bucket: ''" + rule);
    assertThatThrownBy(() -> S3BlobStore.builder().bucket("Photos")).hasMessage("bucket: 'Photos'" + rule);
    assertThatThrownBy(() -> S3BlobStore.builder().bucket("-photos")).hasMessage("bucket: '-photos'" + rule);
    assertThatThrownBy(() -> S3BlobStore.builder().bucket("ab")).hasMessage("bucket: 'ab'" + rule);
    assertThatThrownBy(() -> S3BlobStore.builder().bucket("a".repeat(64))).hasMessageStartingWith("bucket: 'aaa");
    assertThatThrownBy(() -> S3BlobStore.builder().bucket(null)).hasMessage("bucket: null" + rule);
  }

  @Test
  void aBadRegionIsRejected() {
    assertThatThrownBy(() -> S3BlobStore.builder().region("")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("region: '' (expected: 1..64 characters of [a-z0-9-], e.g. us-east-1)");
    assertThatThrownBy(() -> S3BlobStore.builder().region("US East")).hasMessageStartingWith("region: 'US East' (");
  }

  @Test
  void aBadEndpointIsRejected() {
    String rule = " (expected: an http or https URI with a host, e.g. http://127.0.0.1:9000)";
    assertThatThrownBy(() -> S3BlobStore.builder().endpoint(URI.create("ftp://host"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("endpoint: 'ftp://host'" + rule);
    assertThatThrownBy(() -> S3BlobStore.builder().endpoint(URI.create("/relative"))).hasMessage("endpoint: '/relative'" + rule);
    assertThatThrownBy(() -> S3BlobStore.builder().endpoint(URI.create("http://host?x=1"))).hasMessageStartingWith("endpoint: ");
    assertThatThrownBy(() -> S3BlobStore.builder().endpoint(null)).hasMessage("endpoint: null" + rule);
  }

  @Test
  void blankCredentialsAreRejectedWithoutEchoingTheSecret() {
    assertThatThrownBy(() -> S3BlobStore.builder().credentials(" ", "s3cr3t")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("accessKey: ' ' (expected: not blank)");
    assertThatThrownBy(() -> S3BlobStore.builder().credentials("key", "  ")).hasMessage("secretKey: blank (expected: not blank)");
    assertThatThrownBy(() -> S3BlobStore.builder().credentials("key", null)).hasMessage("secretKey: null (expected: not blank)");
  }

  @Test
  void regionAndBucketAreRequired() {
    assertThatThrownBy(() -> S3BlobStore.builder().bucket("photos").build()).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("region: not set (expected: ");
    assertThatThrownBy(() -> S3BlobStore.builder().region("us-east-1").build()).isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("bucket: not set (expected: ");
  }

  @Test
  void buildingDoesNotContactTheServerAndNamesNoSecret() {
    try (S3BlobStore store = S3BlobStore.builder().endpoint(URI.create("http://127.0.0.1:1")).region("us-east-1")
        .bucket("photos").credentials("key", "s3cr3t").pathStyle(true).build()) {
      assertThat(store.bucket()).isEqualTo("photos");
      assertThat(store.toString()).isEqualTo("s3 store s3://photos at http://127.0.0.1:1").doesNotContain("s3cr3t");
    }
  }
}
