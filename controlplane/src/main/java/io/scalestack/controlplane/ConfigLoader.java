package io.scalestack.controlplane;

import io.scalestack.controlplane.internal.YamlSection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.Node;

/**
 * Reads {@code scalestack.yaml} into a validated {@link TopologyConfig}. Every field has a default,
 * so an empty file (or none at all) is the built-in topology of SPEC.md: a balancer at
 * 127.0.1.1:8080, three web servers from 127.0.1.11, embedded Redis and PostgreSQL.
 *
 * <p>Any problem is one {@link ConfigException} naming file, line, field, value and what was
 * expected: unknown keys, wrong types, ports out of range, two members on one address.
 *
 * <p>Stateless and thread-safe.
 */
public final class ConfigLoader {

  /** The name {@code scalestack up} looks for in the working directory. */
  public static final String DEFAULT_FILE = "scalestack.yaml";

  private ConfigLoader() {}

  /** The built-in topology, as if {@code scalestack.yaml} were empty. */
  public static TopologyConfig defaults() {
    return parse("(built-in)", "");
  }

  /** Reads {@code file}; a missing file is an error. */
  public static TopologyConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ConfigException(file.toString(), 0, "", "no such file (expected: a readable YAML file)");
    } catch (IOException e) {
      throw new ConfigException(file.toString(), 0, "", "cannot be read: " + e.getMessage() + " (expected: a readable YAML file)");
    }
    return parse(file.toString(), text);
  }

  /** Parses YAML {@code text}; {@code source} names it in errors. */
  public static TopologyConfig parse(String source, String text) {
    Node root = compose(source, text);
    YamlSection top = YamlSection.root(source, root);

    Path home = top.path("home", Path.of(".scalestack"));

    YamlSection cp = top.section("controlPlane");
    InetSocketAddress controlPlane = cp.address("listen", "127.0.0.1:7070");
    cp.finish();

    YamlSection lb = top.section("balancer");
    YamlSection hc = lb.section("healthCheck");
    TopologyConfig.Balancer balancer =
        new TopologyConfig.Balancer(
            lb.address("listen", "127.0.1.1:8080"),
            lb.address("admin", "127.0.1.1:8404"),
            lb.oneOf("algorithm", "round-robin",
                "round-robin", "least-connections", "response-time", "random", "source-hash", "bandwidth"),
            lb.integer("retries", 3, 0, 10),
            lb.bool("retryIdempotent", true),
            healthPath(hc),
            hc.millis("intervalMillis", 1000, 50, 60_000),
            hc.millis("timeoutMillis", 1000, 10, 60_000),
            hc.integer("rise", 2, 1, 100),
            hc.integer("fall", 2, 1, 100));
    hc.finish();
    lb.finish();

    YamlSection web = top.section("web");
    PoolRange webRange = poolRange(web, "web", 3, 1, "127.0.1.11");
    TopologyConfig.WebPool pool =
        new TopologyConfig.WebPool(
            webRange.size(),
            webRange.maxSize(),
            webRange.firstAddress(),
            web.integer("port", 8080, 1, 65535),
            web.integer("heapMegabytes", 256, 64, 65_536),
            web.integer("bcryptCost", 10, 4, 16));
    web.finish();

    YamlSection workerSection = top.section("workers");
    PoolRange workerRange = poolRange(workerSection, "workers", 2, 0, "127.0.1.51");
    String queueName = workerSection.string("queue", "photo-edits");
    if (!queueName.matches("[A-Za-z0-9_-]{1,64}")) {
      throw workerSection.error("queue", queueName, "1..64 characters of [A-Za-z0-9_-]");
    }
    TopologyConfig.WorkerPool workers =
        new TopologyConfig.WorkerPool(
            workerRange.size(),
            workerRange.maxSize(),
            workerRange.firstAddress(),
            workerSection.integer("port", 8080, 1, 65535),
            workerSection.integer("heapMegabytes", 768, 128, 65_536),
            queueName,
            workerSection.millis("leaseTimeoutMillis", 6_000, 300, 3_600_000),
            workerSection.millis("stopTimeoutMillis", 30_000, 0, 3_600_000),
            blobsUrl(workerSection),
            broker(workerSection));
    workerSection.finish();

    YamlSection edgeSection = top.section("edge");
    TopologyConfig.Edge edge =
        new TopologyConfig.Edge(
            edgeSection.bool("enabled", true),
            edgeSection.address("listen", "127.0.1.2:8080"),
            edgeSection.address("admin", "127.0.1.2:8404"),
            edgeSection.integer("maxMemoryMegabytes", 256, 1, 65_536),
            edgeSection.integer("diskMegabytes", 0, 0, 1_048_576));
    edgeSection.finish();

    YamlSection session = top.section("session");
    TopologyConfig.Session sessions =
        new TopologyConfig.Session(
            // "shared-store", the name before issue 4, stays accepted as "store"
            session.oneOf("strategy", "store", "store", "shared-store", "local", "sticky", "clustered")
                .replace("shared-store", "store"),
            session.oneOf("replication", "backup", "backup", "all"),
            Duration.ofSeconds(session.integer("maxInactiveSeconds", 1800, 1, 30 * 24 * 3600)),
            session.bool("ha", false),
            session.oneOf("durability", "async", "async", "replica-ack"));
    session.finish();

    YamlSection redisSection = top.section("redis");
    TopologyConfig.Redis redis =
        new TopologyConfig.Redis(
            redisSection.oneOf("mode", "embedded", "embedded", "host", "external"),
            redisSection.address("listen", "127.0.0.1:16379"),
            redisSection.path("binary", null),
            redisSection.millis("sentinelDownAfterMillis", 1000, 100, 600_000));
    requireFor(redisSection, redis.mode(), "binary", redis.binary());
    redisSection.finish();

    YamlSection pg = top.section("postgres");
    String pgMode = pg.oneOf("mode", "embedded", "embedded", "host", "external");
    TopologyConfig.Postgres postgres =
        new TopologyConfig.Postgres(
            pgMode,
            pg.address("listen", "127.0.0.1:15432"),
            pg.path("binaries", null),
            identifier(pg, "database", "scalestack"),
            identifier(pg, "user", "scalestack"),
            pg.string("password", "scalestack"),
            pg.string("runAsUser", "nobody"),
            pg.integer("replicas", pgMode.equals("external") ? 0 : 2, 0, 8),
            pg.bool("synchronous", true),
            pg.millis("failoverProbeIntervalMillis", 200, 50, 60_000),
            pg.integer("shards", 1, 1, 64),
            pg.oneOf("shardFunction", "consistent", "modulo", "consistent"));
    requireFor(pg, postgres.mode(), "binaries", postgres.binaries());
    if (postgres.mode().equals("external") && postgres.replicas() > 0) {
      throw pg.error("replicas", String.valueOf(postgres.replicas()),
          "0 with mode external: scalestack runs no replicas of a server it does not run");
    }
    pg.finish();

    YamlSection sup = top.section("supervisor");
    TopologyConfig.Supervisor supervisor =
        new TopologyConfig.Supervisor(
            sup.bool("restart", true),
            sup.millis("restartDelayMillis", 500, 0, 600_000),
            sup.millis("startupTimeoutMillis", 60_000, 1_000, 600_000));
    sup.finish();

    top.finish();

    TopologyConfig config =
        new TopologyConfig(home, controlPlane, balancer, pool, workers, edge, sessions, redis, postgres, supervisor);
    checkDistinctAddresses(config, lb, web, workerSection, edgeSection, cp, redisSection, pg);
    return config;
  }

  private static Node compose(String source, String text) {
    try {
      Iterator<Node> documents =
          new Compose(LoadSettings.builder().setLabel(source).build()).composeAllFromString(text).iterator();
      if (!documents.hasNext()) {
        return null;
      }
      Node root = documents.next();
      if (documents.hasNext()) {
        throw new ConfigException(source, 0, "", "more than one YAML document (expected: one)");
      }
      return root;
    } catch (MarkedYamlEngineException e) {
      int line = e.getProblemMark().map(mark -> mark.getLine() + 1).orElse(0);
      throw new ConfigException(source, line, "", "not valid YAML: " + e.getProblem() + " (expected: YAML key: value lines)");
    } catch (YamlEngineException e) {
      throw new ConfigException(source, 0, "", "not valid YAML: " + e.getMessage() + " (expected: YAML key: value lines)");
    }
  }

  /** A pool's size, largest size and first of its consecutive addresses. */
  private record PoolRange(int size, int maxSize, String firstAddress) {}

  private static PoolRange poolRange(YamlSection section, String name, int defaultSize, int minSize,
      String defaultFirstAddress) {
    int size = section.integer("size", defaultSize, minSize, 64);
    int maxSize = section.integer("maxSize", Math.max(8, size), 1, 64);
    if (maxSize < size) {
      throw section.error("maxSize", String.valueOf(maxSize), ">= " + name + ".size (" + size + ")");
    }
    String firstAddress = section.ipv4("firstAddress", defaultFirstAddress);
    int lastOctet = Integer.parseInt(firstAddress.substring(firstAddress.lastIndexOf('.') + 1));
    if (lastOctet + maxSize - 1 > 254) {
      throw section.error("firstAddress", firstAddress,
          "room for " + name + ".maxSize (" + maxSize + ") consecutive addresses below .255");
    }
    return new PoolRange(size, maxSize, firstAddress);
  }

  private static String broker(YamlSection section) {
    String uri = section.string("broker", "");
    if (!uri.isEmpty() && !uri.startsWith("amqp://") && !uri.startsWith("amqps://")) {
      throw section.error("broker", uri.replaceAll("//[^@/]*@", "//***@"),
          "empty (Redis Streams on the session store's Redis) or amqp://user:password@host:port (RabbitMQ)");
    }
    return uri;
  }

  private static String blobsUrl(YamlSection section) {
    String url = section.string("blobs", "");
    if (!url.isEmpty() && !url.startsWith("/") && !url.startsWith("file:///") && !url.startsWith("s3://")) {
      throw section.error("blobs", url, "empty (<home>/blobs), an absolute path, file:///… or s3://bucket?region=…");
    }
    return url;
  }

  private static String healthPath(YamlSection hc) {
    String path = hc.string("path", "/health");
    if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= ' ' || c >= 127)) {
      throw hc.error("path", path, "an absolute URL path such as /health");
    }
    return path;
  }

  private static String identifier(YamlSection section, String key, String defaultValue) {
    String value = section.string(key, defaultValue);
    if (!value.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw section.error(key, value, "a lower-case SQL identifier of at most 63 characters");
    }
    return value;
  }

  private static void requireFor(YamlSection section, String mode, String key, Path value) {
    if (mode.equals("host") && value == null) {
      throw section.error(key, "(absent)", "a path, since mode is host");
    }
  }

  /** Two members on one address would fail at bind time, half-started: refuse before anything runs. */
  private static void checkDistinctAddresses(
      TopologyConfig config, YamlSection lb, YamlSection web, YamlSection workers, YamlSection edge, YamlSection cp,
      YamlSection redis, YamlSection pg) {
    Map<String, String> owners = new HashMap<>();
    claim(owners, config.controlPlane(), cp, "listen");
    claim(owners, config.balancer().listen(), lb, "listen");
    claim(owners, config.balancer().admin(), lb, "admin");
    if (config.edge().enabled()) {
      claim(owners, config.edge().listen(), edge, "listen");
      claim(owners, config.edge().admin(), edge, "admin");
    }
    if (!config.redis().mode().equals("external")) {
      claim(owners, config.redis().listen(), redis, "listen");
    }
    if (!config.postgres().mode().equals("external")) {
      claim(owners, config.postgres().listen(), pg, "listen");
      for (int n = 1; n <= config.postgres().replicas(); n++) {
        claim(owners, Supervisor.offset(config.postgres().listen(), n), pg, "replicas");
      }
    }
    for (InetSocketAddress address : config.web().addresses()) {
      claim(owners, address, web, "firstAddress");
    }
    for (int i = 1; i <= config.workers().maxSize(); i++) {
      claim(owners, config.workers().address(i), workers, "firstAddress");
    }
  }

  private static void claim(Map<String, String> owners, InetSocketAddress address, YamlSection section, String key) {
    String text = address.getHostString() + ":" + address.getPort();
    String previous = owners.putIfAbsent(text, section.field(key));
    if (previous != null) {
      throw section.error(key, text, "an address no other member uses; " + previous + " has it");
    }
  }
}
