package io.scalestack.engines;

import io.scalestack.engines.internal.Directories;
import io.scalestack.engines.internal.EngineCache;
import io.scalestack.engines.internal.FreePorts;
import io.scalestack.engines.internal.LogTail;
import io.scalestack.engines.internal.Processes;
import io.scalestack.engines.internal.Resp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Redis server run as a child process of this JVM: by default the {@code redis-server}
 * binary shipped inside the {@code embedded-redis} jar (extracted once into an engine cache), or a
 * host binary, or — in {@linkplain Builder#external(boolean) external} mode — a server that someone
 * else runs, which {@link #start()} only checks.
 *
 * <p>Data is durable: {@code appendonly yes} with {@code appendfsync everysec}, the AOF and the RDB
 * dump in {@link Builder#dataDirectory(Path)}, so a {@link #close()} and a new {@link #start()}
 * over the same directory keeps every key. The engine's output is appended to its log file, never to
 * this JVM's stdout. The child dies with the JVM (see {@link ChildProcesses}).
 *
 * <pre>{@code
 * try (RedisServer redis = RedisServer.builder().port(0).dataDirectory(dir).build().start()) {
 *   connect(redis.uri());
 * }
 * }</pre>
 *
 * <p>A server built with {@link Builder#replicaOf(InetSocketAddress)} starts as a replica of that
 * primary ({@code --replicaof host port}): it copies the primary's data asynchronously and answers
 * reads, and Sentinel (see {@link RedisSentinel}) may promote it when the primary fails.
 *
 * <p>Thread-safe: {@link #start()}, {@link #close()} and {@link #kill()} are serialized; the
 * accessors may be called from any thread. The server may be started again after it was closed or
 * killed; with port 0 it then tries to keep its previous port.
 */
public final class RedisServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RedisServer.class);
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(30);
  private static final Duration POLL_INTERVAL = Duration.ofMillis(50);
  private static final int FREE_PORT_ATTEMPTS = 3;

  private final String bindAddress;
  private final int port;
  private final Path dataDirectory;
  private final Path binary;
  private final Path engineCache;
  private final Path logFile;
  private final Duration startupTimeout;
  private final boolean external;
  private final InetSocketAddress replicaOf;
  /** Non-null when this process runs as a Sentinel (see {@link RedisSentinel}) with that config file. */
  private final Path sentinelConfig;
  private final String role;

  private final ReentrantLock lock = new ReentrantLock();
  private volatile Process process;
  private volatile InetSocketAddress address;
  private volatile boolean externalStarted;

  private RedisServer(Builder builder) {
    this.bindAddress = builder.bindAddress;
    this.port = builder.port;
    this.external = builder.external;
    this.dataDirectory = builder.dataDirectory == null ? null : builder.dataDirectory.toAbsolutePath().normalize();
    this.binary = builder.binary;
    this.engineCache = builder.engineCache != null
        ? builder.engineCache.toAbsolutePath().normalize()
        : dataDirectory == null ? null : defaultEngineCache(dataDirectory);
    this.logFile = builder.logFile != null
        ? builder.logFile.toAbsolutePath().normalize()
        : dataDirectory == null ? null : dataDirectory.resolve("redis.log");
    this.startupTimeout = builder.startupTimeout;
    this.replicaOf = builder.replicaOf;
    this.sentinelConfig = builder.sentinelConfig;
    this.role = sentinelConfig != null ? "Redis Sentinel" : replicaOf != null ? "Redis replica" : "Redis";
  }

  /** A builder with the defaults: {@code 127.0.0.1:16379}, bundled binary, 30 s startup timeout. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts the server and blocks until it answers PING (after replaying its AOF). In external mode
   * only checks that the configured server answers.
   *
   * @return this
   * @throws EngineException if it cannot be started or does not answer within the startup timeout;
   *     the message ends with the tail of the engine's log
   * @throws IllegalStateException if it is already running
   */
  public RedisServer start() {
    lock.lock();
    try {
      if (isRunning()) {
        throw new IllegalStateException("redis: already running at " + address);
      }
      if (external) {
        InetSocketAddress target = new InetSocketAddress(bindAddress, port);
        try {
          awaitReady(null, target, -1, 0);
        } catch (AddressInUse e) {
          throw e.exception; // only a process we start can fail to bind
        }
        address = target;
        externalStarted = true;
        log.info("using external Redis at {}", target);
        return this;
      }
      Path executable = binary != null ? binary : EngineCache.redisServer(engineCache);
      if (!Files.isExecutable(executable)) {
        throw new EngineException("binary: " + executable + " (expected: an executable redis-server)");
      }
      try {
        // Sessions and cached data: readable by this user only.
        Directories.createPrivate(dataDirectory);
        Directories.createPrivateFile(logFile);
      } catch (IOException e) {
        throw new EngineException("cannot create " + dataDirectory + " or the directory of " + logFile + ": " + e, e);
      }
      int attempts = port == 0 ? FREE_PORT_ATTEMPTS : 1;
      for (int attempt = 1; ; attempt++) {
        int chosen = port != 0 ? port
            : attempt == 1 && address != null ? address.getPort()
            : FreePorts.pick(bindAddress);
        try {
          launch(executable, chosen);
          return this;
        } catch (AddressInUse e) {
          if (attempt >= attempts) {
            throw e.exception;
          }
          log.info("port {} was taken before Redis could bind it; trying another", chosen);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  private void launch(Path executable, int chosenPort) throws AddressInUse {
    long logOffset = LogTail.size(logFile);
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    if (sentinelConfig != null) {
      // The same binary runs as Sentinel; the config file comes first and must be writable.
      command.addAll(List.of(sentinelConfig.toString(), "--sentinel"));
    }
    command.addAll(List.of(
        "--bind", bindAddress,
        "--port", Integer.toString(chosenPort),
        "--dir", dataDirectory.toString(),
        "--daemonize", "no"));
    if (sentinelConfig == null) {
      // A Sentinel keeps no data set; an AOF option would only leave an empty file behind.
      command.addAll(List.of("--appendonly", "yes", "--appendfsync", "everysec"));
    }
    if (replicaOf != null) {
      command.addAll(List.of("--replicaof", replicaOf.getHostString(), Integer.toString(replicaOf.getPort())));
    }
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(dataDirectory.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    Process started = ChildProcesses.start(builder, ParentDeathSignal.TERM);
    closeStdin(started);
    InetSocketAddress target = new InetSocketAddress(bindAddress, chosenPort);
    try {
      awaitReady(started, target, started.pid(), logOffset);
    } catch (RuntimeException | AddressInUse e) {
      Processes.kill(started);
      throw e;
    }
    process = started;
    address = target;
    if (replicaOf != null) {
      log.info("{} started: pid {}, {}, replica of {}, data {}, log {}", role, started.pid(), uri(),
          replicaOf, dataDirectory, logFile);
    } else {
      log.info("{} started: pid {}, {}, data {}, log {}", role, started.pid(), uri(), dataDirectory, logFile);
    }
  }

  private void awaitReady(Process started, InetSocketAddress target, long pid, long logOffset) throws AddressInUse {
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    String last = "no answer yet";
    while (true) {
      if (started != null && !started.isAlive()) {
        String tail = LogTail.tail(logFile, logOffset, 25);
        EngineException failure = new EngineException("redis-server exited with code " + exitCode(started)
            + " while starting on " + target + LogTail.forMessage(logFile, logOffset));
        if (tail.contains("Address already in use")) {
          throw new AddressInUse(failure);
        }
        throw failure;
      }
      try {
        // A short timeout: a ready Redis answers at once, and a silent stranger on the port must
        // not delay noticing that our process exited.
        String answer = Resp.readiness(target, pid, Duration.ofMillis(250));
        if (answer == null) {
          return;
        }
        last = answer;
      } catch (IOException e) {
        last = e.toString();
      }
      if (System.nanoTime() - deadline > 0) {
        throw new EngineException("Redis at " + target + " did not answer PING within " + startupTimeout
            + " (last: " + last + ")" + (started == null ? "" : LogTail.forMessage(logFile, logOffset)));
      }
      try {
        Thread.sleep(POLL_INTERVAL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new EngineException("interrupted while waiting for Redis at " + target, e);
      }
    }
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

  /** The server's URI, for example {@code redis://127.0.0.1:16379}. */
  public String uri() {
    return "redis://" + hostForUri(bindAddress) + ":" + address().getPort();
  }

  /**
   * The process id of the running (or last run) server.
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

  /** Whether the server process is alive (external mode: started and not closed). */
  public boolean isRunning() {
    if (external) {
      return externalStarted;
    }
    Process current = process;
    return current != null && current.isAlive();
  }

  /**
   * Stops the server gracefully: SIGTERM (Redis flushes its AOF and exits), up to 30 s, then
   * SIGKILL. Never returns while the process is alive. Idempotent; external mode only forgets it.
   */
  @Override
  public void close() {
    lock.lock();
    try {
      externalStarted = false;
      Process current = process;
      if (current != null && current.isAlive()) {
        Processes.stop(current, "TERM", SHUTDOWN_GRACE, "redis-server");
        log.info("{} stopped: pid {}, exit code {}", role, current.pid(), exitCode(current));
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Kills the server with SIGKILL now, as a crash would, and waits until it has exited. Writes from
   * the last second may be lost (appendfsync everysec).
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
        log.info("{} killed: pid {}", role, current.pid());
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    return "RedisServer{" + (external ? "external " : "") + bindAddress + ":"
        + (address != null ? address.getPort() : port) + ", running=" + isRunning() + "}";
  }

  static Path defaultEngineCache(Path dataDirectory) {
    Path parent = dataDirectory.getParent();
    return (parent != null ? parent : dataDirectory).resolve("engines");
  }

  static String hostForUri(String host) {
    return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
  }

  static String exitCode(Process process) {
    try {
      return process.waitFor(1, TimeUnit.SECONDS) ? Integer.toString(process.exitValue()) : "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  static void closeStdin(Process process) {
    try {
      process.getOutputStream().close(); // engines never read stdin; EOF rather than an open pipe
    } catch (IOException e) {
      log.debug("cannot close the stdin of pid {}", process.pid(), e);
    }
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
   * Configures a {@link RedisServer}. Each setter validates its value at once; {@link #build()}
   * checks what is required. Not thread-safe; the built server is immutable in its configuration.
   */
  public static final class Builder {

    private String bindAddress = "127.0.0.1";
    private int port = 16379;
    private Path dataDirectory;
    private Path binary;
    private Path engineCache;
    private Path logFile;
    private Duration startupTimeout = Duration.ofSeconds(30);
    private boolean external;
    private InetSocketAddress replicaOf;
    private Path sentinelConfig;

    private Builder() {}

    /**
     * Starts the server as a replica of {@code primary} ({@code --replicaof host port}); not set
     * by default (a primary). The host must be an address the replica can reach and that Sentinel
     * and clients can use too, such as {@code 127.0.0.1}.
     */
    public Builder replicaOf(InetSocketAddress primary) {
      Objects.requireNonNull(primary, "replicaOf");
      Validation.host("replicaOf", primary.getHostString());
      if (primary.getPort() == 0) {
        throw new IllegalArgumentException("replicaOf: " + primary + " (expected: a port in 1..65535)");
      }
      this.replicaOf = primary;
      return this;
    }

    /** Runs the binary as a Sentinel with this (writable, absolute) config file; for {@link RedisSentinel}. */
    Builder sentinelConfig(Path config) {
      this.sentinelConfig = Objects.requireNonNull(config, "sentinelConfig").toAbsolutePath().normalize();
      return this;
    }

    /** The address to listen on (default {@code 127.0.0.1}); in external mode, the server's host. */
    public Builder bindAddress(String host) {
      this.bindAddress = Validation.host("bindAddress", host);
      return this;
    }

    /** The TCP port (default 16379); 0 picks a free port when the server starts. */
    public Builder port(int port) {
      this.port = Validation.port(port);
      return this;
    }

    /** Where the AOF and the RDB dump live; required unless external. Survives restarts. */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = Objects.requireNonNull(dataDirectory, "dataDirectory");
      return this;
    }

    /** A host {@code redis-server} to run instead of the bundled one. */
    public Builder binary(Path binary) {
      this.binary = Objects.requireNonNull(binary, "binary").toAbsolutePath().normalize();
      return this;
    }

    /**
     * Where the bundled binary is extracted (default: {@code engines} next to the data directory).
     * Shared safely by concurrent JVMs.
     */
    public Builder engineCache(Path engineCache) {
      this.engineCache = Objects.requireNonNull(engineCache, "engineCache");
      return this;
    }

    /** The file the engine's stdout and stderr are appended to (default: {@code redis.log} in the data directory). */
    public Builder logFile(Path logFile) {
      this.logFile = Objects.requireNonNull(logFile, "logFile");
      return this;
    }

    /** How long {@link #start()} waits for PING to succeed (default 30 s). */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Validation.positive("startupTimeout", startupTimeout);
      return this;
    }

    /**
     * Whether the server is already running elsewhere (default false): {@link RedisServer#start()}
     * then only checks that {@code bindAddress:port} answers PING, and never starts or stops a
     * process.
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
    public RedisServer build() {
      if (external) {
        if (replicaOf != null) {
          throw new IllegalStateException("replicaOf: " + replicaOf + " (expected: not set for an external server)");
        }
        if (port == 0) {
          throw new IllegalStateException("port: 0 (expected: 1..65535 for an external server)");
        }
      } else if (dataDirectory == null) {
        throw new IllegalStateException("dataDirectory: not set (expected: a directory for the AOF and dump)");
      }
      return new RedisServer(this);
    }
  }
}
