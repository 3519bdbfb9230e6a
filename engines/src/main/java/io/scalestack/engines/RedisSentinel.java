package io.scalestack.engines;

import io.scalestack.engines.internal.Directories;
import io.scalestack.engines.internal.Resp;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A real Redis Sentinel run as a child process of this JVM: the same {@code redis-server} binary
 * as {@link RedisServer} (bundled or a host one), started as {@code redis-server <config>
 * --sentinel}. A Sentinel watches one primary; when a quorum of Sentinels agree the primary is
 * down (no valid reply for {@linkplain Builder#downAfter down-after}), one of them promotes a
 * replica and reconfigures the others, and clients that ask a Sentinel for the primary (a
 * {@code redis-sentinel://} URI, see {@link #uri(Collection)}) follow it.
 *
 * <p>Sentinel rewrites its config file with what it learns (replicas, other Sentinels, the current
 * primary, the config epoch), so the file lives in {@link Builder#dataDirectory(Path)}: it is
 * written on the first start only, and a restart over the same directory resumes from what this
 * Sentinel knew. Run at least three, with quorum 2, so that one failing Sentinel neither blocks nor
 * decides a failover.
 *
 * <pre>{@code
 * RedisSentinel sentinel = RedisSentinel.builder().port(0).dataDirectory(dir)
 *     .monitor(primary.address()).downAfter(Duration.ofSeconds(5)).build().start();
 * }</pre>
 *
 * <p>Thread-safe: {@link #start()}, {@link #close()} and {@link #kill()} are serialized as in
 * {@link RedisServer}; the accessors may be called from any thread.
 */
public final class RedisSentinel implements AutoCloseable {

  /** A name Sentinel accepts in its config and commands without quoting. */
  private static final Pattern MASTER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
  private static final Duration QUERY_TIMEOUT = Duration.ofSeconds(2);

  private final RedisServer process;
  private final Path configFile;
  private final String masterName;
  private final InetSocketAddress primary;
  private final int quorum;
  private final Duration downAfter;
  private final Duration failoverTimeout;
  private final int parallelSyncs;

  private RedisSentinel(Builder builder) {
    this.masterName = builder.masterName;
    this.primary = builder.primary;
    this.quorum = builder.quorum;
    this.downAfter = builder.downAfter;
    this.failoverTimeout = builder.failoverTimeout;
    this.parallelSyncs = builder.parallelSyncs;
    Path data = builder.dataDirectory.toAbsolutePath().normalize();
    this.configFile = data.resolve("sentinel.conf");
    RedisServer.Builder server = RedisServer.builder()
        .bindAddress(builder.bindAddress)
        .port(builder.port)
        .dataDirectory(data)
        .logFile(builder.logFile != null ? builder.logFile : data.resolve("sentinel.log"))
        .startupTimeout(builder.startupTimeout)
        .sentinelConfig(configFile);
    if (builder.binary != null) {
      server.binary(builder.binary);
    }
    if (builder.engineCache != null) {
      server.engineCache(builder.engineCache);
    }
    this.process = server.build();
  }

  /**
   * A builder with the defaults: {@code 127.0.0.1:26379}, master name {@code scalestack}, quorum
   * 2, down-after 5 s, failover timeout 30 s, parallel syncs 1.
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The URI a client such as Lettuce uses to find the current primary through these Sentinels:
   * {@code redis-sentinel://host:port,host:port#masterName}.
   *
   * @throws IllegalArgumentException if {@code sentinels} is empty or they watch different names
   */
  public static String uri(Collection<RedisSentinel> sentinels) {
    if (sentinels.isEmpty()) {
      throw new IllegalArgumentException("sentinels: [] (expected: at least one)");
    }
    String name = sentinels.iterator().next().masterName;
    StringBuilder uri = new StringBuilder("redis-sentinel://");
    for (RedisSentinel sentinel : sentinels) {
      if (!sentinel.masterName.equals(name)) {
        throw new IllegalArgumentException("sentinels: watch '" + name + "' and '" + sentinel.masterName
            + "' (expected: one master name)");
      }
      if (uri.length() > "redis-sentinel://".length()) {
        uri.append(',');
      }
      uri.append(RedisServer.hostForUri(sentinel.address().getHostString())).append(':')
          .append(sentinel.address().getPort());
    }
    return uri.append('#').append(name).toString();
  }

  /**
   * Writes the config file unless it exists, starts the Sentinel and blocks until it answers PING.
   *
   * @return this
   * @throws EngineException if it cannot be started or does not answer within the startup timeout
   * @throws IllegalStateException if it is already running
   */
  public RedisSentinel start() {
    writeConfigUnlessPresent();
    process.start();
    return this;
  }

  private void writeConfigUnlessPresent() {
    String host = primary.getAddress() != null ? primary.getAddress().getHostAddress() : primary.getHostString();
    String config = String.join("\n",
        "# written by scalestack at first start; Sentinel rewrites this file with what it learns",
        "sentinel monitor " + masterName + " " + host + " " + primary.getPort() + " " + quorum,
        "sentinel down-after-milliseconds " + masterName + " " + downAfter.toMillis(),
        "sentinel failover-timeout " + masterName + " " + failoverTimeout.toMillis(),
        "sentinel parallel-syncs " + masterName + " " + parallelSyncs,
        "");
    try {
      Directories.createPrivate(configFile.getParent());
      Files.writeString(configFile, config, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE);
      Files.setPosixFilePermissions(configFile, PosixFilePermissions.fromString("rw-------"));
    } catch (FileAlreadyExistsException e) {
      // kept: it holds what this Sentinel learned (the current primary, its peers, the epoch)
    } catch (IOException e) {
      throw new EngineException("cannot write " + configFile + ": " + e, e);
    }
  }

  /**
   * Asks this Sentinel where the primary is now ({@code SENTINEL get-master-addr-by-name}).
   *
   * @return the primary's address, or empty if the Sentinel does not know the name
   * @throws EngineException if the Sentinel does not answer
   */
  public Optional<InetSocketAddress> primaryAddress() {
    Object reply;
    try {
      reply = Resp.command(address(), QUERY_TIMEOUT, "SENTINEL", "get-master-addr-by-name", masterName);
    } catch (IOException e) {
      throw new EngineException("Sentinel at " + address() + ": SENTINEL get-master-addr-by-name failed: " + e, e);
    }
    if (reply instanceof List<?> hostAndPort && hostAndPort.size() == 2) {
      return Optional.of(new InetSocketAddress((String) hostAndPort.get(0),
          Integer.parseInt((String) hostAndPort.get(1))));
    }
    if (reply == null) {
      return Optional.empty();
    }
    throw new EngineException("Sentinel at " + address() + ": SENTINEL get-master-addr-by-name answered " + reply);
  }

  /**
   * How many replicas of the primary this Sentinel knows ({@code SENTINEL replicas}); a failover
   * needs at least one.
   *
   * @throws EngineException if the Sentinel does not answer
   */
  public int knownReplicas() {
    return listSize("replicas");
  }

  /**
   * How many other Sentinels watching the same primary this one has discovered ({@code SENTINEL
   * sentinels}; they find each other through the primary within a few seconds). A failover needs
   * a majority of all Sentinels to vote, so wait for {@code n - 1} before relying on one.
   *
   * @throws EngineException if the Sentinel does not answer
   */
  public int knownSentinels() {
    return listSize("sentinels");
  }

  private int listSize(String what) {
    Object reply;
    try {
      reply = Resp.command(address(), QUERY_TIMEOUT, "SENTINEL", what, masterName);
    } catch (IOException e) {
      throw new EngineException("Sentinel at " + address() + ": SENTINEL " + what + " failed: " + e, e);
    }
    if (reply instanceof List<?> list) {
      return list.size();
    }
    throw new EngineException("Sentinel at " + address() + ": SENTINEL " + what + " answered " + reply);
  }

  /** The address the Sentinel listens on; with port 0, the port chosen when it started. */
  public InetSocketAddress address() {
    return process.address();
  }

  /** The name of the primary this Sentinel watches. */
  public String masterName() {
    return masterName;
  }

  /** The config file Sentinel owns (in the data directory). */
  public Path configFile() {
    return configFile;
  }

  /** The process id of the running (or last run) Sentinel. */
  public long pid() {
    return process.pid();
  }

  /** Whether the Sentinel process is alive. */
  public boolean isRunning() {
    return process.isRunning();
  }

  /** Stops the Sentinel gracefully (SIGTERM, then SIGKILL after 30 s). Idempotent. */
  @Override
  public void close() {
    process.close();
  }

  /** Kills the Sentinel with SIGKILL now and waits until it has exited. */
  public void kill() {
    process.kill();
  }

  @Override
  public String toString() {
    return "RedisSentinel{" + masterName + ", " + process + "}";
  }

  /**
   * Configures a {@link RedisSentinel}. Each setter validates its value at once; {@link #build()}
   * checks what is required. Not thread-safe; the built Sentinel is immutable in its configuration.
   */
  public static final class Builder {

    private String bindAddress = "127.0.0.1";
    private int port = 26379;
    private Path dataDirectory;
    private Path binary;
    private Path engineCache;
    private Path logFile;
    private Duration startupTimeout = Duration.ofSeconds(30);
    private String masterName = "scalestack";
    private InetSocketAddress primary;
    private int quorum = 2;
    private Duration downAfter = Duration.ofSeconds(5);
    private Duration failoverTimeout = Duration.ofSeconds(30);
    private int parallelSyncs = 1;

    private Builder() {}

    /** The address to listen on (default {@code 127.0.0.1}). */
    public Builder bindAddress(String host) {
      this.bindAddress = Validation.host("bindAddress", host);
      return this;
    }

    /** The TCP port (default 26379); 0 picks a free port when the Sentinel starts. */
    public Builder port(int port) {
      this.port = Validation.port(port);
      return this;
    }

    /** Where the config file Sentinel rewrites lives; required. Survives restarts. */
    public Builder dataDirectory(Path dataDirectory) {
      this.dataDirectory = Objects.requireNonNull(dataDirectory, "dataDirectory");
      return this;
    }

    /** A host {@code redis-server} to run (as Sentinel) instead of the bundled one. */
    public Builder binary(Path binary) {
      this.binary = Objects.requireNonNull(binary, "binary");
      return this;
    }

    /** Where the bundled binary is extracted (default: {@code engines} next to the data directory). */
    public Builder engineCache(Path engineCache) {
      this.engineCache = Objects.requireNonNull(engineCache, "engineCache");
      return this;
    }

    /** The file the Sentinel's output is appended to (default: {@code sentinel.log} in the data directory). */
    public Builder logFile(Path logFile) {
      this.logFile = Objects.requireNonNull(logFile, "logFile");
      return this;
    }

    /** How long {@link #start()} waits for PING to succeed (default 30 s). */
    public Builder startupTimeout(Duration startupTimeout) {
      this.startupTimeout = Validation.positive("startupTimeout", startupTimeout);
      return this;
    }

    /** The name clients ask for (the {@code #name} of a sentinel URI); {@code scalestack} unless set. */
    public Builder masterName(String masterName) {
      Objects.requireNonNull(masterName, "masterName");
      if (!MASTER_NAME.matcher(masterName).matches()) {
        throw new IllegalArgumentException("masterName: '" + masterName
            + "' (expected: 1 to 64 letters, digits, '.', '_' or '-')");
      }
      this.masterName = masterName;
      return this;
    }

    /**
     * The primary to watch, as an IP address and port (Sentinel does not resolve host names by
     * default). Required; it only matters at first start, afterwards the config file knows.
     */
    public Builder monitor(InetSocketAddress primary) {
      Objects.requireNonNull(primary, "monitor");
      if (primary.getPort() == 0) {
        throw new IllegalArgumentException("monitor: " + primary + " (expected: a port in 1..65535)");
      }
      this.primary = primary;
      return this;
    }

    /** How many Sentinels must agree the primary is down before a failover (default 2). */
    public Builder quorum(int quorum) {
      if (quorum < 1) {
        throw new IllegalArgumentException("quorum: " + quorum + " (expected: >= 1)");
      }
      this.quorum = quorum;
      return this;
    }

    /**
     * How long the primary may fail to answer before this Sentinel considers it down (default 5 s;
     * whole milliseconds). Shorter fails over sooner and risks failing over on a pause: with 500 ms
     * on an overloaded host (load 11 on 2 CPUs), the bundled Redis 6.2 Sentinel was seen to fail
     * over a second time right after the first, from a freshly promoted primary that was fine.
     */
    public Builder downAfter(Duration downAfter) {
      this.downAfter = millis("downAfter", downAfter);
      return this;
    }

    /**
     * Sentinel's {@code failover-timeout} (default 30 s): how long a failover may take, and twice
     * that is the wait before the same primary is failed over again.
     */
    public Builder failoverTimeout(Duration failoverTimeout) {
      this.failoverTimeout = millis("failoverTimeout", failoverTimeout);
      return this;
    }

    /** How many replicas resync with a new primary at once after a failover (default 1). */
    public Builder parallelSyncs(int parallelSyncs) {
      if (parallelSyncs < 1) {
        throw new IllegalArgumentException("parallelSyncs: " + parallelSyncs + " (expected: >= 1)");
      }
      this.parallelSyncs = parallelSyncs;
      return this;
    }

    private static Duration millis(String name, Duration duration) {
      Validation.positive(name, duration);
      if (duration.toMillis() == 0) {
        throw new IllegalArgumentException(name + ": " + duration + " (expected: >= 1 ms)");
      }
      return duration;
    }

    /**
     * Builds a Sentinel that is not started yet.
     *
     * @throws IllegalStateException if the data directory or the primary is not set
     */
    public RedisSentinel build() {
      if (dataDirectory == null) {
        throw new IllegalStateException("dataDirectory: not set (expected: a directory for sentinel.conf)");
      }
      if (primary == null) {
        throw new IllegalStateException("monitor: not set (expected: the primary's address)");
      }
      return new RedisSentinel(this);
    }
  }
}
