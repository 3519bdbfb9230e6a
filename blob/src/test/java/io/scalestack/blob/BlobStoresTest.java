package io.scalestack.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One URL names the store: a directory or an S3 bucket; a bad URL names its fault. */
class BlobStoresTest {

  @TempDir Path directory;

  @Test
  void aFileUrlOrAnAbsolutePathOpensADirectoryStore() throws Exception {
    try (BlobStore byUrl = BlobStores.open(directory.toUri().toString());
        BlobStore byPath = BlobStores.open(directory.toString())) {
      byUrl.put("photos/1", new byte[] {7});
      assertThat(byPath.get("photos/1")).hasValue(new byte[] {7});
      assertThat(Files.readAllBytes(directory.resolve("photos/1"))).containsExactly(7);
    }
  }

  @Test
  void badUrlsAreRefusedNamingTheirFault() {
    assertThatThrownBy(() -> BlobStores.open("ftp://host/x"))
        .hasMessageStartingWith("blob store URL: 'ftp://host/x': scheme 'ftp' (expected: file:///absolute/path");
    assertThatThrownBy(() -> BlobStores.open("s3://photos"))
        .hasMessageStartingWith("blob store URL: 's3://photos': region missing");
    assertThatThrownBy(() -> BlobStores.open("s3://photos?region=eu-west-1&secretKey=x"))
        .hasMessage("blob store URL: 's3://photos?region=eu-west-1&secretKey=x': parameter 'secretKey'"
            + " (expected: one of endpoint, pathStyle, region)");
    assertThatThrownBy(() -> BlobStores.open("s3://photos/sub?region=eu-west-1"))
        .hasMessageContaining("the bucket must be the host, with no path");
    assertThatThrownBy(() -> BlobStores.open("s3://photos?region=eu-west-1&pathStyle=yes"))
        .hasMessageEndingWith("pathStyle=yes (expected: true or false)");
    assertThatThrownBy(() -> BlobStores.open("relative/dir")).hasMessageStartingWith("blob store URL: 'relative/dir'");
    assertThatThrownBy(() -> BlobStores.open(" ")).hasMessageStartingWith("blob store URL: ' '");
  }
}
