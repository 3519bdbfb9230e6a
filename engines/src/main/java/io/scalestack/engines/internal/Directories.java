package io.scalestack.engines.internal;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.stream.Stream;

/** Directory helpers shared by the engines. */
public final class Directories {

  private Directories() {}

  /** Creates {@code dir} and missing parents, each {@code 0755} when we create it. */
  public static void createTraversable(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    if (Files.isDirectory(absolute)) {
      return;
    }
    Path parent = absolute.getParent();
    if (parent != null) {
      createTraversable(parent);
    }
    try {
      Files.createDirectory(absolute);
      Files.setPosixFilePermissions(absolute, PosixFilePermissions.fromString("rwxr-xr-x"));
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(absolute)) {
        throw e;
      }
    }
  }

  /**
   * Creates {@code dir} with mode {@code 0700} (parents as {@link #createTraversable}); an existing
   * directory is left as it is.
   */
  public static void createPrivate(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    if (Files.isDirectory(absolute)) {
      return;
    }
    if (absolute.getParent() != null) {
      createTraversable(absolute.getParent());
    }
    try {
      Files.createDirectory(absolute);
      Files.setPosixFilePermissions(absolute, PosixFilePermissions.fromString("rwx------"));
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(absolute)) {
        throw e;
      }
    }
  }

  /** Creates {@code file} (and its directory) readable by its owner only, unless it exists. */
  public static void createPrivateFile(Path file) throws IOException {
    Path absolute = file.toAbsolutePath().normalize();
    if (absolute.getParent() != null) {
      createTraversable(absolute.getParent());
    }
    try {
      Files.createFile(absolute, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (FileAlreadyExistsException e) {
      // kept: engine logs are appended to across restarts
    }
  }

  /** Deletes {@code root} and everything below it, not following symbolic links; absent is fine. */
  public static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(path);
      }
    }
  }

}
