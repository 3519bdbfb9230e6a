package io.scalestack.engines;

import static io.scalestack.engines.EngineTestSupport.engineCache;
import static io.scalestack.engines.EngineTestSupport.isDead;
import static io.scalestack.engines.EngineTestSupport.newDirectory;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.scalestack.engines.internal.EngineCache;
import io.scalestack.engines.testing.TestEngines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PostgresServerTest {

  private static PostgresServer.Builder builder(Path data) {
    return PostgresServer.builder().port(0).dataDirectory(data).engineCache(engineCache());
  }

  private static Connection connect(PostgresServer server) throws SQLException {
    return DriverManager.getConnection(server.jdbcUrl(), server.user(), server.password());
  }

  private static List<String> names(PostgresServer server) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection connection = connect(server);
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT name FROM photo_owner ORDER BY id")) {
      while (rows.next()) {
        names.add(rows.getString(1));
      }
    }
    return names;
  }

  @Test
  @SuppressWarnings("try") // closing inside try-with-resources is what is tested
  void keepsCommittedDataAcrossCloseStartAndKill() throws Exception {
    Path data = newDirectory("pg-restart");
    try (PostgresServer postgres = builder(data).database("photos").build().start()) {
      assertThat(postgres.jdbcUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:" + postgres.address().getPort() + "/photos");
      if (ChildProcesses.isRoot()) {
        assertThat(ProcessHandle.of(postgres.pid()).flatMap(h -> h.info().user())).contains("nobody");
      }
      try (Connection connection = connect(postgres); Statement statement = connection.createStatement()) {
        statement.execute("CREATE TABLE photo_owner (id int PRIMARY KEY, name text NOT NULL)");
        statement.execute("INSERT INTO photo_owner VALUES (1, 'ada')");
      }
      long firstPid = postgres.pid();

      postgres.close();
      assertThat(postgres.isRunning()).isFalse();
      assertThat(isDead(firstPid)).isTrue();
      postgres.close(); // idempotent

      postgres.start();
      assertThat(names(postgres)).containsExactly("ada");
      try (Connection connection = connect(postgres); Statement statement = connection.createStatement()) {
        statement.execute("INSERT INTO photo_owner VALUES (2, 'grace')");
      }
      long killedPid = postgres.pid();

      postgres.kill();
      assertThat(isDead(killedPid)).isTrue();

      postgres.start(); // crash recovery over the same cluster
      assertThat(names(postgres)).containsExactly("ada", "grace");
    }
  }

  @Test
  @SuppressWarnings("try") // closing inside try-with-resources is what is tested
  void usesATemporarySocketDirectoryWhenTheDataDirectoryPathIsTooLongForASocket() throws Exception {
    Path data = newDirectory("pg-long").resolve("a-directory-name-that-makes-the-unix-socket-path-longer-than-sun-path-allows");
    try (PostgresServer postgres = builder(data).build().start()) {
      assertThat(data.resolve("run")).doesNotExist();
      try (Connection connection = connect(postgres); Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SHOW unix_socket_directories")) {
        assertThat(rows.next()).isTrue();
        Path socketDirectory = Path.of(rows.getString(1));
        assertThat(socketDirectory).isDirectory().startsWith(Path.of(System.getProperty("java.io.tmpdir")));
        postgres.close();
        assertThat(socketDirectory).doesNotExist();
      }
    }
  }

  @Test
  void rejectsAWrongPassword() {
    PostgresServer postgres = TestEngines.postgres();

    assertThatThrownBy(() -> DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), "not-the-password").close())
        .isInstanceOf(SQLException.class)
        .extracting(e -> ((SQLException) e).getSQLState())
        .isEqualTo("28P01"); // invalid_password
  }

  @Test
  void startingAnExistingClusterWithAnotherPasswordFailsClearlyAndStopsTheEngine() {
    Path data = newDirectory("pg-password");
    builder(data).password("first").build().start().close();
    PostgresServer wrong = builder(data).password("second").build();

    assertThatThrownBy(wrong::start)
        .isInstanceOf(EngineException.class)
        .hasMessageContaining("rejected user scalestack")
        .hasMessageContaining("the cluster in " + data.resolve("data") + " was created with");
    assertThat(wrong.isRunning()).isFalse();
  }

  @Test
  void namesTheDirectoryTheRunAsUserCannotReach() throws Exception {
    assumeTrue(ChildProcesses.isRoot(), "PostgreSQL runs as another user only when the JVM is root");
    Path hidden = newDirectory("pg-hidden");
    Files.setPosixFilePermissions(hidden, PosixFilePermissions.fromString("rwx------"));
    PostgresServer postgres = builder(hidden.resolve("cluster")).engineCache(engineCache()).build();

    assertThatThrownBy(postgres::start)
        .isInstanceOf(EngineException.class)
        .hasMessageStartingWith("data directory " + hidden.resolve("cluster") + " is not reachable by user nobody")
        .hasMessageContaining("directory " + hidden + " has mode rwx------")
        .hasMessageContaining("chmod o+x " + hidden);
    assertThat(hidden.resolve("cluster/data")).doesNotExist();
  }

  @Test
  void namesARunAsUserThatDoesNotExist() {
    assumeTrue(ChildProcesses.isRoot(), "PostgreSQL runs as another user only when the JVM is root");
    PostgresServer postgres = builder(newDirectory("pg-no-user")).runAsUser("no-such-user-here").build();

    assertThatThrownBy(postgres::start)
        .isInstanceOf(EngineException.class)
        .hasMessageStartingWith("runAsUser: no-such-user-here (expected: an existing user; id says: ");
  }

  @Test
  void rejectsABinariesDirectoryWithoutPostgres() {
    Path data = newDirectory("pg-no-binaries");
    PostgresServer postgres = builder(data).binariesDirectory(data).build();

    assertThatThrownBy(postgres::start)
        .isInstanceOf(EngineException.class)
        .hasMessage("binariesDirectory: " + data
            + " (expected: a PostgreSQL installation with bin/initdb and bin/postgres)");
  }

  private static Path hostInstallation() throws Exception {
    Path debian = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(debian)) {
      try (var versions = Files.list(debian)) {
        Path found = versions.filter(dir -> Files.isExecutable(dir.resolve("bin/initdb"))).findFirst().orElse(null);
        if (found != null) {
          return found.toRealPath();
        }
      }
    }
    return EngineCache.postgres(engineCache());
  }

  @Test
  void runsAHostInstallation() throws Exception {
    // The host's own PostgreSQL when it has one (Debian layout), else the extracted copy standing in for it.
    Path host = hostInstallation();
    Path data = newDirectory("pg-host");

    try (PostgresServer postgres = builder(data).binariesDirectory(host).build().start()) {
      assertThat(ProcessHandle.of(postgres.pid()).flatMap(h -> h.info().command()))
          .hasValueSatisfying(command -> assertThat(Path.of(command)).startsWith(host));
      try (Connection connection = connect(postgres); Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT 6 * 7")) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getInt(1)).isEqualTo(42);
      }
    }
  }

  @Test
  void externalModeConnectsAndCreatesTheDatabaseButNeverStopsTheServer() throws Exception {
    PostgresServer owned = TestEngines.postgres();
    PostgresServer external = PostgresServer.builder()
        .external(true)
        .port(owned.address().getPort())
        .database("external_check")
        .build();

    external.start();
    assertThat(external.isRunning()).isTrue();
    try (Connection connection = connect(external)) {
      assertThat(connection.getCatalog()).isEqualTo("external_check");
    }
    external.close();

    assertThat(owned.isRunning()).isTrue();
  }
}
