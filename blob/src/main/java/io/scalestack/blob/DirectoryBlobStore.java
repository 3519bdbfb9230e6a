package io.scalestack.blob;

import io.scalestack.blob.internal.Keys;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link BlobStore} in a directory: the key {@code a/b/c.jpg} is the file {@code <directory>/a/b/c.jpg}
 * (subdirectories are created on demand and stay when emptied). For several servers the directory must be shared
 * storage (e.g. NFS) that renames atomically. Thread-safe, and safe to use from several processes on one directory.
 *
 * <p>{@link #put} writes a temporary file beside the target, named {@code ~tmp~<random>} ({@code ~} cannot occur in a
 * key, so no key ever names a temporary file), forces it to the disk and renames it over the target atomically:
 * a reader or a crash sees the whole old or the whole new object, never a part, and concurrent puts of one key leave
 * one of the written objects whole. A crash during a put can leave its temporary file behind; such files are never
 * read, and any older than a few minutes can be deleted, e.g. {@code find <directory> -name '~tmp~*' -mmin +10
 * -delete} (the store does not scan for them itself: a photo directory can hold millions of files).
 *
 * <p>A key that is a directory of another key ({@code a} and {@code a/b}) cannot hold an object while the other one
 * exists: such a put fails with {@link BlobStoreException}. Each segment of a key must also fit the file system's limit
 * on a file name (255 bytes on most).
 */
public final class DirectoryBlobStore implements BlobStore {

  private static final Logger log = LoggerFactory.getLogger(DirectoryBlobStore.class);

  /** Starts temporary file names: outside the key alphabet, so no key maps to a temporary file. */
  static final String TEMP_PREFIX = "~tmp~";

  private static final SecureRandom random = new SecureRandom();

  private final Path directory;
  private final String name;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Forcing a directory is a Linux/macOS habit that some file systems refuse; warn once, not on every put. */
  private final AtomicBoolean directorySyncWarned = new AtomicBoolean();

  private DirectoryBlobStore(Path directory) {
    this.directory = directory;
    this.name = "directory store " + directory;
  }

  /** A builder; {@link Builder#directory} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** The directory that holds the objects (absolute, normalized). */
  public Path directory() {
    return directory;
  }

  @Override
  public void put(String key, byte[] bytes) {
    Path target = resolve(key);
    if (bytes == null) {
      throw new IllegalArgumentException("bytes: null (expected: an array, possibly empty)");
    }
    checkOpen();
    Path parent = target.getParent();
    // named apart from the target so that a key segment of any length the file system allows leaves room for it
    Path temp = parent.resolve(TEMP_PREFIX + HexFormat.of().toHexDigits(random.nextLong()));
    boolean tempCreated = false;
    boolean moved = false;
    try {
      Files.createDirectories(parent);
      if (Files.isDirectory(target)) {
        throw new IOException("a directory holds other keys under this key");
      }
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        tempCreated = true;
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
          channel.write(buffer);
        }
        // data on the disk before the rename publishes it: otherwise a crash can leave the key naming a short file
        channel.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      moved = true;
    } catch (AtomicMoveNotSupportedException e) {
      throw BlobStoreException.of(name, "put", key,
          new IOException("the file system cannot rename atomically, which this store needs", e));
    } catch (IOException e) {
      throw BlobStoreException.of(name, "put", key, e);
    } finally {
      if (tempCreated && !moved) {
        deleteQuietly(temp);
      }
    }
    syncDirectory(parent);
  }

  @Override
  public Optional<byte[]> get(String key) {
    Path path = resolve(key);
    checkOpen();
    try {
      // one open: a put renaming a new file over this one does not change what an open file reads
      return Optional.of(Files.readAllBytes(path));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      if (Files.isDirectory(path)) {
        // a directory of other keys ('a' while 'a/b' exists): no object under this key
        return Optional.empty();
      }
      throw BlobStoreException.of(name, "get", key, e);
    }
  }

  @Override
  public boolean exists(String key) {
    Path path = resolve(key);
    checkOpen();
    return Files.isRegularFile(path);
  }

  @Override
  public void delete(String key) {
    Path path = resolve(key);
    checkOpen();
    if (!Files.isRegularFile(path)) {
      // nothing, or a directory of other keys, which must stay
      return;
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      throw BlobStoreException.of(name, "delete", key, e);
    }
  }

  /** Nothing to release: the store holds no open files between calls. Later calls throw {@link IllegalStateException}. */
  @Override
  public void close() {
    closed.set(true);
  }

  @Override
  public String toString() {
    return name;
  }

  private Path resolve(String key) {
    // Keys.check leaves no '..', '.', empty or absolute segment, so the result stays inside the directory
    return directory.resolve(Keys.check(key));
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException(name + ": closed (expected: an open store)");
    }
  }

  /** Makes the rename itself durable (the new directory entry), so an acknowledged put survives a crash. */
  private void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException e) {
      // the object is stored and readable; only its durability across a power loss depends on the file system here
      if (directorySyncWarned.compareAndSet(false, true)) {
        log.warn("{}: cannot force directory {} to the disk ({}); renames are not made durable explicitly", name, dir,
            e.toString());
      }
    }
  }

  private static void deleteQuietly(Path temp) {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      // the put already fails with its own cause; a left temporary file is harmless (see the class comment)
      log.warn("cannot delete temporary file {}: {}", temp, e.toString());
    }
  }

  /** Builds a {@link DirectoryBlobStore}; validates each value as it is set. Not thread-safe. */
  public static final class Builder {

    private Path directory;

    private Builder() {
    }

    /** The directory that holds the objects; created by {@link #build()} if missing. Required. */
    public Builder directory(Path directory) {
      if (directory == null) {
        throw new IllegalArgumentException("directory: null (expected: a path)");
      }
      this.directory = directory.toAbsolutePath().normalize();
      return this;
    }

    /**
     * The store, after creating the directory if needed.
     *
     * @throws IllegalStateException if no directory was set
     * @throws BlobStoreException if the directory cannot be created or is not a writable directory
     */
    public DirectoryBlobStore build() {
      if (directory == null) {
        throw new IllegalStateException("directory: not set (expected: a path, set with directory(Path))");
      }
      try {
        Files.createDirectories(directory);
      } catch (IOException e) {
        throw new BlobStoreException("directory store " + directory + ": cannot create the directory: " + e, e);
      }
      if (!Files.isWritable(directory)) {
        throw new BlobStoreException("directory store " + directory + ": the directory is not writable", null);
      }
      return new DirectoryBlobStore(directory);
    }
  }
}
