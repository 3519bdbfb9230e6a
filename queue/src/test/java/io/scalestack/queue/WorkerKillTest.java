package io.scalestack.queue;

import io.scalestack.engines.testing.RabbitMqAvailability;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.testing.TestEngines;
import java.sql.DriverManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Three worker processes on a stream of 1,000 jobs; the one running the slow job (3 s) is killed
 * with -9 in the middle of it. Every job completes, each with its one result, and the slow job is
 * done again within the lease timeout plus its own run time.
 */
class WorkerKillTest {

  private static final long LEASE_MILLIS = 2_000;
  private static final long JOB_MILLIS = 20;

  private static Process worker(String backend, String target, String queue, String name, String redisUri)
      throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName(), backend,
        target, queue, name, Long.toString(LEASE_MILLIS), Long.toString(JOB_MILLIS), redisUri)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"redis", "postgres", "rabbitmq"})
  void killingAWorkerMidStreamLosesNoJobAndItsJobIsDoneWithinTheLeaseTimeout(String backend) throws Exception {
    if (backend.equals("rabbitmq")) {
      RabbitMqAvailability.assumeRunning();
    }
    String name = "kill" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    String redisUri = TestEngines.redis().uri();
    PostgresServer postgres = TestEngines.postgres();
    String target = switch (backend) {
      case "redis" -> redisUri;
      case "rabbitmq" -> RabbitMqAvailability.URI;
      default -> postgres.jdbcUrl();
    };
    Duration lease = Duration.ofMillis(LEASE_MILLIS);
    List<Process> workers = new ArrayList<>();
    RedisClient client = RedisClient.create(redisUri);
    try (JobQueue queue = switch (backend) {
          case "redis" -> RedisStreamsJobQueue.builder().uri(redisUri).name(name).leaseTimeout(lease).build();
          case "rabbitmq" -> RabbitMqJobQueue.builder().uri(target).redis(redisUri).name(name).leaseTimeout(lease).build();
          default -> PostgresJobQueue.builder().database(postgres.jdbcUrl(), postgres.user(), postgres.password())
              .name(name).leaseTimeout(lease).build();
        };
        StatefulRedisConnection<String, String> redis = client.connect()) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        ids.add(queue.enqueue("test", i == 500 ? "slow" : "#" + i)); // job 500 runs 3 s
      }
      String slow = ids.get(500);
      for (int w = 1; w <= 3; w++) {
        workers.add(worker(backend, target, name, "worker-" + w, redisUri));
      }
      // kill -9 the worker that runs the slow job, in the middle of it
      Map<String, String> holder = new ConcurrentHashMap<>();
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        // RabbitMQ's job state is on Redis, in the same hash as Redis Streams'
        String worker = backend.equals("postgres") ? holderOnPostgres(postgres, name, slow) : holderOnRedis(redis, name, slow);
        if (worker != null) {
          holder.put("worker", worker);
        }
        return worker != null;
      });
      int victim = Integer.parseInt(holder.get("worker").substring("worker-".length())) - 1;
      workers.get(victim).destroyForcibly().waitFor();
      long killed = System.nanoTime();
      String orphan = slow;

      await().atMost(Duration.ofSeconds(15)).until(() -> "done".equals(queue.status(orphan).orElseThrow().state()));
      long orphanMillis = (System.nanoTime() - killed) / 1_000_000;
      await().atMost(Duration.ofSeconds(120)).until(() -> done(queue, ids) == ids.size());

      int retried = 0;
      for (int i = 0; i < ids.size(); i++) {
        JobStatus status = queue.status(ids.get(i)).orElseThrow();
        assertThat(status.result()).isEqualTo("result of " + (i == 500 ? "slow" : "#" + i));
        retried += status.attempts() > 1 ? 1 : 0;
      }
      System.out.printf("worker kill (%s): 1000 jobs done, the killed worker's job done %d ms after the kill"
          + " (lease %d ms, its run 3000 ms), %d jobs delivered more than once%n", backend, orphanMillis, LEASE_MILLIS,
          retried);
      assertThat(orphanMillis).isLessThan(10_000 + 3_000);
      assertThat(queue.status(orphan).orElseThrow().attempts()).isEqualTo(2);
    } finally {
      workers.forEach(Process::destroyForcibly);
      for (Process worker : workers) {
        worker.waitFor(); // gone before its queues are deleted
      }
      client.shutdown();
      if (backend.equals("rabbitmq")) {
        RabbitMqJobQueueTest.deleteQueues(name);
      }
    }
  }

  /** The worker running job {@code id} on Redis (the Redis Streams and the RabbitMQ backends), or null. */
  private static String holderOnRedis(StatefulRedisConnection<String, String> redis, String name, String id) {
    Map<String, String> job = redis.sync().hgetall("q:{" + name + "}:job:" + id);
    return "running".equals(job.get("state")) ? job.get("worker") : null;
  }

  /** The worker running job {@code id} on PostgreSQL, or null. */
  private static String holderOnPostgres(PostgresServer postgres, String name, String id) throws Exception {
    try (var connection = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password());
        var select = connection.prepareStatement("SELECT lease_owner FROM scalestack_jobs WHERE queue = ? AND id = ?::uuid"
            + " AND state = 'running'")) {
      select.setString(1, name);
      select.setString(2, id);
      try (var rows = select.executeQuery()) {
        return rows.next() ? rows.getString(1) : null;
      }
    }
  }

  private static long done(JobQueue queue, List<String> ids) {
    return ids.stream().filter(id -> "done".equals(queue.status(id).map(JobStatus::state).orElse(""))).count();
  }
}
