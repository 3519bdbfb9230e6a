package io.scalestack.cli;

import io.scalestack.app.WebServer;
import io.scalestack.observability.Telemetry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** A web server member of the photo service; started by the control plane. */
@Command(name = "web", hidden = true, mixinStandardHelpOptions = true,
    description = "Run one stateless web server of the photo service (the control plane starts these).")
final class WebCommand implements Callable<Integer> {

  @Option(names = "--name", required = true, description = "Member name, e.g. web-1.")
  String name;

  @Option(names = "--listen", required = true, description = "host:port to serve on.")
  String listen;

  @Option(names = "--jdbc-url", required = true, description = "PostgreSQL JDBC URL.")
  String jdbcUrl;

  @Option(names = "--replica-jdbc-url",
      description = "A streaming replica of the primary (repeatable): profile reads go to one that has the user's last write.")
  List<String> replicaJdbcUrls = new ArrayList<>();

  @Option(names = "--db-user", defaultValue = "scalestack", description = "Database user.")
  String dbUser;

  @Option(names = "--redis", required = true, description = "Session store, e.g. redis://127.0.0.1:16379.")
  String redis;

  @Option(names = "--bcrypt-cost", defaultValue = "10", description = "bcrypt cost (log2 rounds).")
  int bcryptCost;

  @Option(names = "--session-strategy", defaultValue = "store",
      description = "Where sessions live: store (Redis, shared by every web server), local (this server's memory) or sticky (local, with the balancer pinning each user to one server) (default: ${DEFAULT-VALUE}).")
  String sessionStrategy;

  @Option(names = "--session-replication", defaultValue = "backup",
      description = "clustered only: backup (two copies of each session) or all (every server holds all) (default: ${DEFAULT-VALUE}).")
  String sessionReplication;

  @Option(names = "--session-cluster-dir",
      description = "clustered only: directory where the web servers of one machine find each other.")
  Path sessionClusterDir;

  @Option(names = "--session-durability", defaultValue = "async",
      description = "store only: async (a write is done once Redis's primary has it) or replica-ack (WAIT for a replica) (default: ${DEFAULT-VALUE}).")
  String sessionDurability;

  @Option(names = "--session-max-inactive-seconds", defaultValue = "1800")
  long sessionMaxInactiveSeconds;

  @Option(names = "--shards", defaultValue = "1",
      description = "Shards (databases of the cluster) for the first shard map, if the catalog has none (1..64).")
  int shards;

  @Option(names = "--shard-function", defaultValue = "consistent", description = "modulo or consistent, for the first shard map.")
  String shardFunction;

  @Option(names = "--worker-id", defaultValue = "-1",
      description = "Snowflake worker id, 0..1023, unique among running web servers (default: from --name).")
  int workerId;

  @Option(names = "--blobs",
      description = "The photos' bytes, shared with the workers: a directory (absolute path or file:///…) or s3://bucket?region=R[&endpoint=URL][&pathStyle=true] (default: a temporary directory).")
  String blobs;

  @Option(names = "--photo-queue", defaultValue = io.scalestack.app.PhotoWorker.DEFAULT_QUEUE,
      description = "Queue photo edits go on (default: ${DEFAULT-VALUE}).")
  String photoQueue;

  @Option(names = "--asset-base", defaultValue = "",
      description = "Origin of the CDN edge (http://host:port) that the page names its script and the photos by (default: this server's origin).")
  String assetBase;

  @Option(names = "--log-file", description = "JSON-lines log file.")
  Path logFile;

  @Option(names = "--parent-pid", defaultValue = "0", description = "Exit when this process dies.")
  long parentPid;

  @Override
  public Integer call() throws Exception {
    MemberRuntime.logTo(name, logFile);
    // The password comes through the environment so that it does not show in `ps`.
    String password = System.getenv().getOrDefault("SCALESTACK_DB_PASSWORD", "scalestack");
    Telemetry telemetry = Telemetry.forMember(name);
    WebServer.Builder builder;
    try {
      builder = WebServer.builder()
          .memberName(name)
          .listen(Addresses.parse("--listen", listen))
          .jdbcUrl(jdbcUrl)
          .replicaJdbcUrls(replicaJdbcUrls)
          .dbUser(dbUser)
          .dbPassword(password)
          .redisUri(redis)
          .sessionStrategy(sessionStrategy)
          .sessionCluster(sessionReplication, sessionClusterDir)
          .sessionDurability(sessionDurability)
          .bcryptCost(bcryptCost)
          .sessionMaxInactive(Duration.ofSeconds(sessionMaxInactiveSeconds))
          .telemetry(telemetry)
          .shards(shards, io.scalestack.data.ShardFunction.named(shardFunction))
          .photoQueue(photoQueue)
          .assetBase(assetBase);
      if (blobs != null) {
        builder.blobStore(blobs);
      }
      if (workerId >= 0) {
        builder.workerId(workerId);
      }
    } catch (IllegalArgumentException e) { // a flag out of range, named with what it expects
      throw new BadInputException(e.getMessage(), e);
    }
    // RabbitMQ for photo edits, when configured: through the environment, as its URI holds a password
    String broker = System.getenv("SCALESTACK_QUEUE_BROKER");
    if (broker != null && !broker.isEmpty()) {
      builder.photoQueueBroker(broker);
    }
    String adminToken = System.getenv("SCALESTACK_ADMIN_TOKEN"); // from the control plane, for failovers
    if (adminToken != null && !adminToken.isEmpty()) {
      builder.adminToken(adminToken);
    }
    WebServer server = builder.build().start();
    MemberRuntime.runUntilStopped(name, parentPid, server);
    return 0;
  }
}
