package io.scalestack.controlplane;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The whole topology {@code scalestack up} boots, as read from {@code scalestack.yaml} by {@link
 * ConfigLoader}: where every member listens, how many web servers run, which engines back them.
 *
 * <p>Immutable and validated at construction by the loader; thread-safe.
 *
 * @param home directory for engine data, logs and run files ({@code .scalestack})
 * @param controlPlane where the control plane's API and dashboard listen
 */
public record TopologyConfig(
    Path home,
    InetSocketAddress controlPlane,
    Balancer balancer,
    WebPool web,
    WorkerPool workers,
    Edge edge,
    Session session,
    Redis redis,
    Postgres postgres,
    Supervisor supervisor) {

  /** The load balancer member. */
  public record Balancer(
      InetSocketAddress listen,
      InetSocketAddress admin,
      String algorithm,
      int retries,
      boolean retryIdempotent,
      String healthCheckPath,
      Duration healthCheckInterval,
      Duration healthCheckTimeout,
      int rise,
      int fall) {}

  /** The pool of stateless web servers: {@code size} members on consecutive addresses. */
  public record WebPool(int size, int maxSize, String firstAddress, int port, int heapMegabytes, int bcryptCost) {

    /** The address of the {@code index}-th web server (1-based): 127.0.1.11, 127.0.1.12, … */
    public InetSocketAddress address(int index) {
      String[] octets = firstAddress.split("\\.");
      int last = Integer.parseInt(octets[3]) + index - 1;
      return InetSocketAddress.createUnresolved(
          octets[0] + "." + octets[1] + "." + octets[2] + "." + last, port);
    }

    /** The addresses of web-1 … web-{@code maxSize}, the pool's whole range. */
    public List<InetSocketAddress> addresses() {
      List<InetSocketAddress> all = new ArrayList<>();
      for (int i = 1; i <= maxSize; i++) {
        all.add(address(i));
      }
      return all;
    }
  }

  /**
   * The CDN edge ({@code edge}): a caching reverse proxy whose origin is the balancer, for the
   * page's fingerprinted assets and the photos' public URLs, which the web servers name at {@code
   * listen} when it is {@code enabled}. {@code maxMemoryMegabytes} bounds its memory tier; a disk
   * tier of {@code diskMegabytes} under {@code <home>/edge} when that is above 0.
   */
  public record Edge(boolean enabled, InetSocketAddress listen, InetSocketAddress admin, int maxMemoryMegabytes,
      int diskMegabytes) {}

  /**
   * The pool of photo workers ({@code worker-1…}, on consecutive addresses from {@code
   * firstAddress}, serving {@code /health} and {@code /metrics} on {@code port}): they take photo
   * edits from the queue {@code queue} on the session store's Redis; a job whose worker stops
   * renewing its lease for {@code leaseTimeout} is taken by another; a stopped worker may finish
   * its job for {@code stopTimeout}. Photos' bytes are in {@code blobs}, shared with the web
   * servers: a directory or {@code s3://bucket?region=…} URL, or empty for {@code <home>/blobs}.
   * The queue is Redis Streams on the session store's Redis, or RabbitMQ at {@code broker} (an
   * {@code amqp://} URI, a broker scalestack does not run) when that is not empty.
   */
  public record WorkerPool(int size, int maxSize, String firstAddress, int port, int heapMegabytes, String queue,
      Duration leaseTimeout, Duration stopTimeout, String blobs, String broker) {

    /** The address of the {@code index}-th worker (1-based): 127.0.1.51, 127.0.1.52, … */
    public InetSocketAddress address(int index) {
      String[] octets = firstAddress.split("\\.");
      int last = Integer.parseInt(octets[3]) + index - 1;
      return InetSocketAddress.createUnresolved(
          octets[0] + "." + octets[1] + "." + octets[2] + "." + last, port);
    }
  }

  /**
   * How web servers keep sessions: {@code store} (Redis, shared), {@code local} (each server's
   * memory), {@code sticky} (local, and the balancer pins each user to one server) or {@code
   * clustered} (the web servers replicate sessions to each other; {@code replication} {@code
   * backup}: two copies of each, {@code all}: every server holds all). With {@code ha}, the store's
   * Redis gets two replicas and three Sentinels (the primary's port + 1, + 2 and + 3..5), and
   * {@code durability} {@code replica-ack} makes every session write wait for a replica.
   */
  public record Session(String strategy, String replication, Duration maxInactive, boolean ha, String durability) {}

  /**
   * The Redis engine. {@code mode} is {@code embedded} (the binary shipped in a Maven Central
   * artifact), {@code host} (a redis-server binary on this machine) or {@code external} (already
   * running at {@code listen}).
   */
  public record Redis(String mode, InetSocketAddress listen, Path binary, Duration sentinelDownAfter) {}

  /**
   * The PostgreSQL engine; {@code mode} as for {@link Redis}. {@code runAsUser} is the account
   * PostgreSQL runs as when scalestack runs as root (PostgreSQL refuses root). {@code replicas}
   * streaming replicas ({@code pg-replica-N}, on the primary's port + N) take the web tier's reads.
   * With replicas, {@code synchronous} makes a commit wait until one of them has flushed it ({@code
   * ANY 1}), so a failover loses no acknowledged commit; the failover orchestrator probes every
   * member each {@code failoverProbeInterval} and declares the primary dead after two failed probes
   * that the replicas confirm (see {@code PostgresFailover}). Users are spread over {@code shards}
   * databases of the cluster by {@code shardFunction} ({@code modulo} or {@code consistent}) when
   * the catalog has no shard map yet.
   */
  public record Postgres(
      String mode,
      InetSocketAddress listen,
      Path binaries,
      String database,
      String user,
      String password,
      String runAsUser,
      int replicas,
      boolean synchronous,
      Duration failoverProbeInterval,
      int shards,
      String shardFunction) {}

  /** How the supervisor treats members that die. */
  public record Supervisor(boolean restart, Duration restartDelay, Duration startupTimeout) {}
}
