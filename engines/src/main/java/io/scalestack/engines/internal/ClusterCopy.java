package io.scalestack.engines.internal;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Copies the files of a running PostgreSQL cluster for a physical base backup taken with the
 * low-level API ({@code pg_backup_start} ... {@code pg_backup_stop}), leaving out what the
 * PostgreSQL manual (section 26.3.3, "Making a Base Backup Using the Low Level API") and
 * {@code pg_basebackup} leave out: the contents of {@code pg_wal}, {@code pg_replslot},
 * {@code pg_dynshmem}, {@code pg_notify}, {@code pg_serial}, {@code pg_snapshots},
 * {@code pg_stat_tmp} and {@code pg_subtrans} (the directories themselves are kept, empty),
 * {@code postmaster.pid}, {@code postmaster.opts}, {@code pg_internal.init} files, temporary files
 * and directories ({@code pgsql_tmp*}) and recovery signal files.
 *
 * <p>Files may change, shrink or vanish while they are copied: a torn page is repaired from the
 * full-page images in WAL when the copy recovers, a vanished file is skipped. Not thread-safe;
 * stateless, so concurrent calls on different targets are fine.
 */
public final class ClusterCopy {

  private static final Set<String> EXCLUDED_CONTENT = Set.of(
      "pg_wal", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");
  private static final Set<String> EXCLUDED_FILES = Set.of(
      "postmaster.pid", "postmaster.opts", "pg_internal.init", "backup_label", "tablespace_map",
      "standby.signal", "recovery.signal", "postgresql.auto.conf.tmp", "current_logfiles", "current_logfiles.tmp");

  private ClusterCopy() {}

  /**
   * Copies the cluster in {@code source} into the existing, empty directory {@code target}.
   *
   * @throws IOException if a file that exists cannot be read or written, or the cluster uses
   *     tablespaces (not supported: their links would point at the primary's directories)
   */
  public static void copy(Path source, Path target) throws IOException {
    Files.walkFileTree(source, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) throws IOException {
        Path relative = source.relativize(dir);
        if (relative.toString().isEmpty()) {
          return FileVisitResult.CONTINUE;
        }
        String name = dir.getFileName().toString();
        if (name.startsWith("pgsql_tmp")) {
          return FileVisitResult.SKIP_SUBTREE;
        }
        Path copy = target.resolve(relative.toString());
        Files.createDirectory(copy, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        if (relative.getNameCount() == 1 && EXCLUDED_CONTENT.contains(name)) {
          if (name.equals("pg_wal")) {
            Files.createDirectory(copy.resolve("archive_status"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
          }
          return FileVisitResult.SKIP_SUBTREE;
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
        Path relative = source.relativize(file);
        if (attributes.isSymbolicLink()) {
          throw new IOException("the cluster has a tablespace or link at " + file
              + " (expected: none; base backups of clusters with tablespaces are not supported)");
        }
        if (EXCLUDED_FILES.contains(file.getFileName().toString())) {
          return FileVisitResult.CONTINUE;
        }
        try {
          Files.copy(file, target.resolve(relative.toString()), StandardCopyOption.COPY_ATTRIBUTES);
        } catch (NoSuchFileException e) {
          // dropped while we copied; WAL replay knows it is gone
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE;
        }
        throw e;
      }
    });
  }
}
