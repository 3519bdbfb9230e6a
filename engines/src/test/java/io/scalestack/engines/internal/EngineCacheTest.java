package io.scalestack.engines.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineCacheTest {

  /** The cache shared with the other tests of this module, so PostgreSQL is extracted once. */
  private static final Path SHARED_CACHE = Path.of("target", "test-engines", "engines").toAbsolutePath();

  @Test
  void racingExtractionsEndWithOneCompleteCopyAndNoLeftovers(@TempDir Path cache) throws Exception {
    int callers = 4;
    CyclicBarrier barrier = new CyclicBarrier(callers);
    List<Future<Path>> results = new ArrayList<>();
    ExecutorService executor = Executors.newFixedThreadPool(callers);
    try {
      for (int i = 0; i < callers; i++) {
        Callable<Path> extract = () -> {
          barrier.await();
          return EngineCache.redisServer(cache);
        };
        results.add(executor.submit(extract));
      }
      Path first = results.get(0).get();
      for (Future<Path> result : results) {
        assertThat(result.get()).isEqualTo(first);
      }
      assertThat(first).isExecutable();
      assertThat(first.resolveSibling(".complete")).isRegularFile();
      try (Stream<Path> entries = Files.list(cache)) {
        assertThat(entries).containsExactly(first.getParent());
      }
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void keepsExecutableBitsAndSymbolicLinksOfThePostgresArchive() throws Exception {
    Path install = EngineCache.postgres(SHARED_CACHE);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(install.resolve("bin/postgres"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(install.resolve("share/postgresql/postgresql.conf.sample"))))
        .isEqualTo("rw-r--r--");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(install.resolve("lib"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(install.resolve("lib/libpq.so.5")).isSymbolicLink();
    assertThat(Files.readSymbolicLink(install.resolve("lib/libpq.so.5"))).isEqualTo(Path.of("libpq.so.5.16"));
    assertThat(EngineCache.postgres(SHARED_CACHE)).isEqualTo(install);
  }

  @Test
  void refusesArchiveEntriesThatEscapeTheTarget(@TempDir Path target) throws Exception {
    byte[] escaping = tarXz(entry("../escaped.txt", "boom"));

    assertThatThrownBy(() -> EngineCache.untarXz(new ByteArrayInputStream(escaping), target))
        .isInstanceOf(IOException.class)
        .hasMessage("tar entry ../escaped.txt points outside the extraction directory");
    assertThat(target.resolveSibling("escaped.txt")).doesNotExist();
  }

  @Test
  void refusesSymbolicLinksToAbsolutePaths(@TempDir Path target) throws Exception {
    TarArchiveEntry link = new TarArchiveEntry("lib/passwd", TarArchiveEntry.LF_SYMLINK);
    link.setLinkName("/etc/passwd");
    byte[] archive = tarXz(new Object[] {link, null});

    assertThatThrownBy(() -> EngineCache.untarXz(new ByteArrayInputStream(archive), target))
        .isInstanceOf(IOException.class)
        .hasMessage("tar entry lib/passwd links to absolute path /etc/passwd");
  }

  private static Object[] entry(String name, String content) {
    TarArchiveEntry entry = new TarArchiveEntry(name);
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    entry.setSize(bytes.length);
    return new Object[] {entry, bytes};
  }

  private static byte[] tarXz(Object[]... entries) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new XZCompressorOutputStream(bytes))) {
      for (Object[] entry : entries) {
        tar.putArchiveEntry((TarArchiveEntry) entry[0]);
        if (entry[1] != null) {
          tar.write((byte[]) entry[1]);
        }
        tar.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }
}
