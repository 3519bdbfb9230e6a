package io.scalestack.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.scalestack.engines.testing.TestEngines;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * Three worker processes on a stream of 1,000 jobs; one is killed with -9 in the middle. Every job
 * completes, each with its one result, and the job the dead worker held is done within the lease
 * timeout plus its own run time.
 */
class WorkerKillTest {

  private static final long LEASE_MILLIS = 2_000;
  private static final long JOB_MILLIS = 20;

  private static Process worker(String uri, String queue, String name) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), WorkerMain.class.getName(), uri, queue,
        name, Long.toString(LEASE_MILLIS), Long.toString(JOB_MILLIS))
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  @Test
  void killingAWorkerMidStreamLosesNoJobAndItsJobIsDoneWithinTheLeaseTimeout() throws Exception {
    String uri = TestEngines.redis().uri();
    String name = "kill" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    List<Process> workers = new ArrayList<>();
    RedisClient client = RedisClient.create(uri);
    try (RedisStreamsJobQueue queue = RedisStreamsJobQueue.builder().uri(uri).name(name)
            .leaseTimeout(Duration.ofMillis(LEASE_MILLIS)).build();
        StatefulRedisConnection<String, String> redis = client.connect()) {
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        ids.add(queue.enqueue("test", "#" + i));
      }
      for (int w = 1; w <= 3; w++) {
        workers.add(worker(uri, name, "worker-" + w));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> done(queue, ids) >= 200);

      // the victim's job in flight, then kill -9
      Map<String, String> held = new ConcurrentHashMap<>();
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        for (String id : ids) {
          Map<String, String> job = redis.sync().hgetall("q:{" + name + "}:job:" + id);
          if ("running".equals(job.get("state")) && "worker-2".equals(job.get("worker"))) {
            held.put(id, "held");
            return true;
          }
        }
        return false;
      });
      workers.get(1).destroyForcibly().waitFor();
      long killed = System.nanoTime();
      String orphan = held.keySet().iterator().next();

      await().atMost(Duration.ofSeconds(15)).until(() -> "done".equals(queue.status(orphan).orElseThrow().state()));
      long orphanMillis = (System.nanoTime() - killed) / 1_000_000;
      await().atMost(Duration.ofSeconds(120)).until(() -> done(queue, ids) == ids.size());

      int retried = 0;
      for (int i = 0; i < ids.size(); i++) {
        JobStatus status = queue.status(ids.get(i)).orElseThrow();
        assertThat(status.result()).isEqualTo("result of #" + i);
        retried += status.attempts() > 1 ? 1 : 0;
      }
      System.out.printf("worker kill: 1000 jobs done, the killed worker's job %s done %d ms after the kill"
          + " (lease %d ms, job %d ms), %d jobs delivered more than once%n", orphan, orphanMillis, LEASE_MILLIS,
          JOB_MILLIS, retried);
      assertThat(orphanMillis).isLessThan(10_000 + JOB_MILLIS);
      assertThat(queue.status(orphan).orElseThrow().attempts()).isEqualTo(2);
    } finally {
      workers.forEach(Process::destroyForcibly);
      client.shutdown();
    }
  }

  private static long done(JobQueue queue, List<String> ids) {
    return ids.stream().filter(id -> "done".equals(queue.status(id).map(JobStatus::state).orElse(""))).count();
  }
}
