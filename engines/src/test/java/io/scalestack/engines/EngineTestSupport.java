package io.scalestack.engines;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Directories and a tiny RESP client for the engine tests. */
final class EngineTestSupport {

  private static final Path ROOT = Path.of("target", "engine-tests").toAbsolutePath();

  static {
    sweepOldRuns();
  }

  private EngineTestSupport() {}

  /**
   * Deletes what earlier runs left (PostgreSQL clusters are ~40 MB each); entries younger than ten
   * minutes may belong to a JVM running right now and are kept.
   */
  private static void sweepOldRuns() {
    if (!Files.isDirectory(ROOT)) {
      return;
    }
    java.time.Instant cutoff = java.time.Instant.now().minus(java.time.Duration.ofMinutes(10));
    try (java.util.stream.Stream<Path> entries = Files.list(ROOT)) {
      for (Path entry : (Iterable<Path>) entries::iterator) {
        if (Files.getLastModifiedTime(entry).toInstant().isBefore(cutoff)) {
          io.scalestack.engines.internal.Directories.deleteRecursively(entry);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot clean " + ROOT, e);
    }
  }

  /**
   * A fresh directory under {@code target/engine-tests}, mode 0755 all the way, so PostgreSQL
   * running as {@code nobody} can reach it (JUnit's @TempDir is 0700).
   */
  static Path newDirectory(String prefix) {
    try {
      Path root = ROOT;
      Files.createDirectories(root);
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
      Path directory = Files.createTempDirectory(root, prefix + "-");
      Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
      return directory;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The engine cache shared by every test JVM of this module (and by TestEngines). */
  static Path engineCache() {
    return Path.of("target", "test-engines", "engines").toAbsolutePath();
  }

  /** Whether {@code pid} is gone: no /proc entry, or a zombie waiting to be reaped. */
  static boolean isDead(long pid) {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    try {
      String content = Files.readString(stat);
      // /proc/<pid>/stat: "pid (comm) state ..."; comm may contain spaces, so look after the last ')'.
      return content.substring(content.lastIndexOf(')') + 2).charAt(0) == 'Z';
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * Sends one RESP command and returns the reply: a simple string or error as its line
   * ("+OK", "-ERR ..."), a bulk string as its content, a null bulk string as null.
   */
  static String redis(InetSocketAddress address, String... command) throws IOException {
    try (Socket socket = new Socket(address.getAddress(), address.getPort())) {
      socket.setSoTimeout(5000);
      StringBuilder request = new StringBuilder("*").append(command.length).append("\r\n");
      for (String part : command) {
        request.append('$').append(part.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(part).append("\r\n");
      }
      OutputStream out = socket.getOutputStream();
      out.write(request.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      String line = readLine(in);
      if (line.startsWith("$")) {
        int length = Integer.parseInt(line.substring(1));
        if (length < 0) {
          return null;
        }
        String value = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        readLine(in);
        return value;
      }
      return line;
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    int b;
    while ((b = in.read()) != '\n') {
      if (b < 0) {
        throw new IOException("connection closed mid-line: " + line);
      }
      if (b != '\r') {
        line.append((char) b);
      }
    }
    return line.toString();
  }
}
