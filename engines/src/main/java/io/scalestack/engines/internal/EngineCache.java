package io.scalestack.engines.internal;

import io.scalestack.engines.EngineException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracts engine binaries shipped as class-path resources (inside Maven Central jars) into a cache
 * directory, once per distinct content.
 *
 * <p>Layout: {@code <cache>/<name>-<first 12 hex digits of the resource's SHA-256>/}, with a
 * {@code .complete} marker written last. Extraction goes to a fresh temporary sibling directory
 * that is renamed into place atomically, so two JVMs extracting at once both end up using one
 * complete copy, and a crash mid-extraction leaves only a temporary directory behind. Files are
 * made {@code 0755} (executables) or {@code 0644}, directories {@code 0755}, so an engine running
 * as another user (PostgreSQL, when the JVM is root) can use them.
 *
 * <p>Thread-safe.
 */
public final class EngineCache {

  private static final Logger log = LoggerFactory.getLogger(EngineCache.class);
  private static final String MARKER = ".complete";
  private static final Map<String, String> hashes = new ConcurrentHashMap<>();

  private EngineCache() {}

  /** The bundled {@code redis-server} for this platform, extracted into {@code cache}. */
  public static Path redisServer(Path cache) {
    String resource = switch (Platform.os() + "-" + Platform.arch()) {
      case "linux-amd64" -> "redis-server-6.2.6-v5-linux-amd64";
      case "linux-arm64" -> "redis-server-6.2.7-linux-arm64";
      case "darwin-amd64" -> "redis-server-6.2.6-v5-darwin-amd64";
      case "darwin-arm64" -> "redis-server-6.2.6-v5-darwin-arm64";
      default -> throw new EngineException("no bundled Redis for " + Platform.os() + "/" + Platform.arch()
          + " (expected: configure a host redis-server with RedisServer.Builder.binary(Path))");
    };
    Path dir = extract(cache, resource, resource, (in, target) -> {
      Path file = target.resolve("redis-server");
      Files.copy(in, file);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    });
    return dir.resolve("redis-server");
  }

  /** The bundled PostgreSQL installation (with {@code bin/}, {@code lib/}, {@code share/}). */
  public static Path postgres(Path cache) {
    String arch = switch (Platform.arch()) {
      case "amd64" -> "x86_64";
      case "arm64" -> "arm_64";
      default -> Platform.arch();
    };
    String resource = "postgres-" + Platform.os() + "-" + arch + ".txz";
    return extract(cache, resource, "postgres-" + Platform.os() + "-" + arch, EngineCache::untarXz);
  }

  /** Writes a resource's content into an empty directory. */
  @FunctionalInterface
  interface Extractor {
    void extract(InputStream resource, Path target) throws IOException;
  }

  static Path extract(Path cache, String resource, String name, Extractor extractor) {
    URL url = EngineCache.class.getClassLoader().getResource(resource);
    if (url == null) {
      throw new EngineException("no bundled engine " + resource + " on the class path (expected: the"
          + " artifact that ships it for " + Platform.os() + "/" + Platform.arch()
          + ", or a host installation configured in the builder)");
    }
    Path target = cache.toAbsolutePath().normalize().resolve(name + "-" + hash(url));
    if (Files.isRegularFile(target.resolve(MARKER))) {
      return target;
    }
    Path temp = null;
    try {
      Directories.createTraversable(cache);
      if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        // No marker: not ours or damaged (atomic renames never leave it half done). Move it aside.
        Path stale = Files.createTempDirectory(cache, name + ".stale-");
        Files.move(target, stale.resolve("old"), StandardCopyOption.ATOMIC_MOVE);
        Directories.deleteRecursively(stale);
      }
      temp = Files.createTempDirectory(cache, name + ".tmp-");
      Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("rwxr-xr-x"));
      log.info("extracting {} into {}", resource, target);
      try (InputStream in = new BufferedInputStream(url.openStream())) {
        extractor.extract(in, temp);
      }
      makeDirectoriesTraversable(temp);
      Files.createFile(temp.resolve(MARKER));
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        temp = null;
      } catch (IOException e) {
        // rename(2) onto a non-empty directory fails (ENOTEMPTY, reported as a plain
        // FileSystemException): another JVM or thread finished first, and its copy is complete
        // because it carries the marker. Anything else is a real failure.
        if (!Files.isRegularFile(target.resolve(MARKER))) {
          throw e;
        }
      }
      return target;
    } catch (AtomicMoveNotSupportedException e) {
      throw new EngineException("engine cache " + cache + " does not support atomic renames (expected: a local"
          + " file system)", e);
    } catch (IOException e) {
      throw new EngineException("cannot extract " + resource + " into " + target + ": " + e, e);
    } finally {
      if (temp != null) {
        deleteQuietly(temp);
      }
    }
  }

  /** The content hash of a resource; the cache key, so a new engine version never reuses an old copy. */
  private static String hash(URL url) {
    return hashes.computeIfAbsent(url.toString(), key -> {
      try (InputStream in = new DigestInputStream(url.openStream(), MessageDigest.getInstance("SHA-256"))) {
        in.transferTo(OutputStream.nullOutputStream());
        return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest()).substring(0, 12);
      } catch (IOException | NoSuchAlgorithmException e) {
        throw new EngineException("cannot read " + url + ": " + e, e);
      }
    });
  }

  /** Unpacks an xz-compressed tar, keeping executable bits and symbolic links, refusing path escapes. */
  static void untarXz(InputStream in, Path target) throws IOException {
    Path root = target.toAbsolutePath().normalize();
    try (TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(in))) {
      TarArchiveEntry entry;
      while ((entry = tar.getNextEntry()) != null) {
        Path path = inside(root, root.resolve(entry.getName()), entry.getName());
        if (entry.isDirectory()) {
          Files.createDirectories(path);
        } else if (entry.isSymbolicLink()) {
          Path link = Path.of(entry.getLinkName());
          if (link.isAbsolute()) {
            throw new IOException("tar entry " + entry.getName() + " links to absolute path " + link);
          }
          inside(root, path.getParent().resolve(link), entry.getName() + " -> " + link);
          Files.createDirectories(path.getParent());
          Files.createSymbolicLink(path, link);
        } else if (entry.isLink()) {
          Path existing = inside(root, root.resolve(entry.getLinkName()), entry.getLinkName());
          Files.createDirectories(path.getParent());
          Files.createLink(path, existing);
        } else if (entry.isFile()) {
          Files.createDirectories(path.getParent());
          Files.copy(tar, path);
          boolean executable = (entry.getMode() & 0111) != 0;
          Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(executable ? "rwxr-xr-x" : "rw-r--r--"));
        } else {
          log.debug("skipping tar entry {} of an unsupported type", entry.getName());
        }
      }
    }
  }

  private static Path inside(Path root, Path path, String what) throws IOException {
    Path normalized = path.normalize();
    if (!normalized.startsWith(root)) {
      throw new IOException("tar entry " + what + " points outside the extraction directory");
    }
    return normalized;
  }

  private static void makeDirectoriesTraversable(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : (Iterable<Path>) paths::iterator) {
        if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
          Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
      }
    }
  }

  private static void deleteQuietly(Path root) {
    try {
      Directories.deleteRecursively(root);
    } catch (IOException e) {
      log.warn("cannot delete temporary directory {}", root, e);
    }
  }
}
