package io.scalestack.blob;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryBlobStoreTest extends BlobStoreContract {

  @TempDir
  Path root;

  private Path directory;

  @Override
  protected BlobStore newEmptyStore() {
    directory = root.resolve("blobs");
    return DirectoryBlobStore.builder().directory(directory).build();
  }

  @Test
  void buildCreatesTheDirectory() {
    assertThat(directory).isDirectory();
    assertThat(((DirectoryBlobStore) store).directory()).isEqualTo(directory.toAbsolutePath().normalize());
  }

  @Test
  void aKeyIsTheFileAtThatRelativePath() throws IOException {
    store.put("photos/42/original.jpg", bytes(5, 64));

    assertThat(Files.readAllBytes(directory.resolve("photos/42/original.jpg"))).isEqualTo(bytes(5, 64));
  }

  @Test
  void putsLeaveNoTemporaryFiles() throws IOException {
    store.put("a/b.jpg", bytes(1, 10_000));
    store.put("a/b.jpg", bytes(2, 10_000));
    store.put("a/c.jpg", bytes(3, 10));

    assertThat(allFiles()).containsExactlyInAnyOrder(directory.resolve("a/b.jpg"), directory.resolve("a/c.jpg"));
  }

  @Test
  void aTemporaryFileLeftByACrashIsNoObject() throws IOException {
    Files.createDirectories(directory.resolve("a"));
    Files.write(directory.resolve("a").resolve(DirectoryBlobStore.TEMP_PREFIX + "0123456789abcdef"), bytes(1, 5));

    // '~' is outside the key alphabet: no key can name it
    assertThatThrownBy(() -> store.get("a/" + DirectoryBlobStore.TEMP_PREFIX + "0123456789abcdef"))
        .isInstanceOf(IllegalArgumentException.class);
    store.put("a/b", bytes(2, 5));
    assertThat(store.get("a/b")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(2, 5)));
  }

  @Test
  void anotherStoreOnTheSameDirectorySeesTheObjects() {
    store.put("shared/1.jpg", bytes(9, 100));

    try (DirectoryBlobStore other = DirectoryBlobStore.builder().directory(directory).build()) {
      assertThat(other.get("shared/1.jpg")).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(9, 100)));
      other.delete("shared/1.jpg");
    }
    assertThat(store.exists("shared/1.jpg")).isFalse();
  }

  @Test
  void aKeyThatIsADirectoryOfOtherKeysHoldsNoObjectAndCannotBePut() {
    store.put("a/b", bytes(1, 5));

    assertThat(store.exists("a")).isFalse();
    assertThat(store.get("a")).isEmpty();
    store.delete("a");
    assertThat(store.exists("a/b")).isTrue();
    assertThatThrownBy(() -> store.put("a", bytes(2, 5)))
        .isInstanceOf(BlobStoreException.class)
        .hasMessageStartingWith("directory store " + directory.toAbsolutePath().normalize() + ": put 'a' failed: ");
  }

  @Test
  void aFailedPutNamesTheStoreTheKeyAndTheCauseAndLeavesNoTemporaryFile() throws IOException {
    store.put("a", bytes(1, 5));

    // 'a' is a file, so 'a/b' cannot be a file under the directory 'a'
    assertThatThrownBy(() -> store.put("a/b", bytes(2, 5)))
        .isInstanceOf(BlobStoreException.class)
        .hasMessageStartingWith("directory store " + directory.toAbsolutePath().normalize() + ": put 'a/b' failed: ")
        .hasCauseInstanceOf(IOException.class);
    assertThat(allFiles()).containsExactly(directory.resolve("a"));
  }

  @Test
  void aClosedStoreRefusesCalls() {
    store.close();

    assertThatThrownBy(() -> store.get("a")).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
  }

  @Test
  void theBuilderNeedsADirectory() {
    assertThatThrownBy(() -> DirectoryBlobStore.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("directory: not set (expected: ");
    assertThatThrownBy(() -> DirectoryBlobStore.builder().directory(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("directory: null (expected: a path)");
  }

  @Test
  void buildFailsWhenTheDirectoryIsAFile() throws IOException {
    Path file = Files.write(root.resolve("file"), bytes(1, 1));

    assertThatThrownBy(() -> DirectoryBlobStore.builder().directory(file).build())
        .isInstanceOf(BlobStoreException.class)
        .hasMessageStartingWith("directory store " + file.toAbsolutePath().normalize() + ": cannot create the directory");
  }

  private List<Path> allFiles() throws IOException {
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(Files::isRegularFile).toList();
    }
  }
}
