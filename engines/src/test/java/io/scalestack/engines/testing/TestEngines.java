package io.scalestack.engines.testing;

import io.scalestack.engines.ChildProcesses;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One shared Redis and one shared PostgreSQL per test JVM, started lazily on first use, on free
 * ports (port 0), with their data under {@code target/test-engines/<random>} and stopped by a JVM
 * shutdown hook (their data is then deleted; the logs stay next to it). Other modules' tests use
 * these through the {@code scalestack-engines} test-jar.
 *
 * <p>Tests sharing an engine must not assume it is empty: use unique keys, tables or schemas.
 * Do not close the returned servers. If an engine fails to start, every call rethrows that failure.
 *
 * <p>Thread-safe.
 */
public final class TestEngines {

  private static final Object LOCK = new Object();
  private static Path jvmDirectory;
  private static RedisServer redis;
  private static RuntimeException redisFailure;
  private static PostgresServer postgres;
  private static RuntimeException postgresFailure;
  private static final java.util.List<Path> ownDirectories = new java.util.ArrayList<>();

  private TestEngines() {}

  /** The shared, started Redis of this JVM. */
  public static RedisServer redis() {
    synchronized (LOCK) {
      if (redisFailure != null) {
        throw redisFailure;
      }
      if (redis == null) {
        Path directory = jvmDirectory();
        try {
          redis = RedisServer.builder()
              .port(0)
              .dataDirectory(directory.resolve("redis"))
              .logFile(directory.resolve("redis.log"))
              .engineCache(directory.getParent().resolve("engines"))
              .build()
              .start();
        } catch (RuntimeException e) {
          redisFailure = e;
          throw e;
        }
      }
      return redis;
    }
  }

  /** The shared, started PostgreSQL of this JVM: database, user and password {@code scalestack}. */
  public static PostgresServer postgres() {
    synchronized (LOCK) {
      if (postgresFailure != null) {
        throw postgresFailure;
      }
      if (postgres == null) {
        Path directory = jvmDirectory();
        try {
          postgres = PostgresServer.builder()
              .port(0)
              .dataDirectory(directory.resolve("postgres"))
              .logFile(directory.resolve("postgres.log"))
              .engineCache(directory.getParent().resolve("engines"))
              .build()
              .start();
        } catch (RuntimeException e) {
          postgresFailure = e;
          throw e;
        }
      }
      return postgres;
    }
  }

  /**
   * A builder for a PostgreSQL server of the calling test's own (a replication primary or replica,
   * say): port 0, its data in a fresh directory {@code <name>-<random>} of this JVM's directory
   * (deleted at JVM exit), the shared engine cache. The caller starts and closes the server.
   */
  public static PostgresServer.Builder postgresBuilder(String name) {
    synchronized (LOCK) {
      Path directory = jvmDirectory();
      try {
        Path own = Files.createTempDirectory(directory, name + "-");
        Files.setPosixFilePermissions(own, PosixFilePermissions.fromString("rwxr-xr-x"));
        ownDirectories.add(own);
        return PostgresServer.builder()
            .port(0)
            .dataDirectory(own)
            .engineCache(directory.getParent().resolve("engines"));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a directory in " + directory, e);
      }
    }
  }

  /** Creates {@code target/test-engines/<random>} (0755 all the way, so {@code nobody} can reach it) once. */
  private static Path jvmDirectory() {
    if (jvmDirectory != null) {
      return jvmDirectory;
    }
    try {
      Path root = Path.of("target", "test-engines").toAbsolutePath();
      if (ChildProcesses.isRoot() && !traversableByOthers(root.getParent())) {
        // PostgreSQL runs as nobody when we are root; a private home directory would hide the data.
        root = Path.of(System.getProperty("java.io.tmpdir"), "scalestack-test-engines");
      }
      Files.createDirectories(root);
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
      sweepAbandoned(root);
      Path directory = Files.createTempDirectory(root, "jvm-");
      Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
      jvmDirectory = directory;
      Thread hook = new Thread(TestEngines::stopAll, "test-engines-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      return directory;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create target/test-engines", e);
    }
  }

  /**
   * Deletes the data of JVMs that were killed before their shutdown hook ran. A day-old directory
   * cannot belong to a test JVM that is still running.
   */
  private static void sweepAbandoned(Path root) throws IOException {
    Instant cutoff = Instant.now().minus(Duration.ofDays(1));
    try (Stream<Path> entries = Files.list(root)) {
      for (Path entry : (Iterable<Path>) entries::iterator) {
        if (entry.getFileName().toString().startsWith("jvm-")
            && Files.getLastModifiedTime(entry).toInstant().isBefore(cutoff)) {
          deleteQuietly(entry);
        }
      }
    }
  }

  private static boolean traversableByOthers(Path existing) throws IOException {
    for (Path dir = existing; dir != null; dir = dir.getParent()) {
      if (Files.isDirectory(dir)
          && !Files.getPosixFilePermissions(dir).contains(PosixFilePermission.OTHERS_EXECUTE)) {
        return false;
      }
    }
    return true;
  }

  private static void stopAll() {
    synchronized (LOCK) {
      if (redis != null) {
        redis.close();
        deleteQuietly(jvmDirectory.resolve("redis"));
      }
      if (postgres != null) {
        postgres.close();
        deleteQuietly(jvmDirectory.resolve("postgres"));
      }
      // servers built by postgresBuilder die with this JVM (parent-death signal); their files may go
      ownDirectories.forEach(TestEngines::deleteQuietly);
    }
  }

  private static void deleteQuietly(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // Only test data under target/; leaving it behind is harmless, and a shutdown hook has no one to tell.
      System.err.println("TestEngines: cannot delete " + root + ": " + e);
    }
  }
}
