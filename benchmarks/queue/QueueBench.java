// benchmarks/queue/QueueBench.java: end-to-end jobs/s of scalestack's job queue backends, run by
// benchmarks/queue/run.sh with the project's class path (java -cp "cli/target/scalestack.jar:cli/target/lib/*").
// Starts its own Redis and PostgreSQL (the engines scalestack embeds) in a temporary directory;
// RabbitMQ (which scalestack cannot start) must be running at --rabbitmq, its jobs' state on its own
// embedded Redis, its queues (bench-<random>) deleted after the run. For each backend, P producers enqueue N trivial jobs as fast as they can while W workers take,
// "run" (return at once) and complete them; the clock runs from the first enqueue to the last
// completion. Prints one RESULT line per backend.
//
//   java -cp ... QueueBench.java --jobs 50000 --workers 8 --producers 2 [--backends "redis postgres rabbitmq"]
//       [--rabbitmq amqp://guest:guest@127.0.0.1:5672] --dir /tmp/x

import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import io.scalestack.queue.JobQueue;
import io.scalestack.queue.PostgresJobQueue;
import io.scalestack.queue.RabbitMqJobQueue;
import io.scalestack.queue.RedisStreamsJobQueue;
import io.scalestack.queue.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

public class QueueBench {

  public static void main(String[] args) throws Exception {
    int jobs = 50_000;
    int workers = 8;
    int producers = 2;
    int prefetch = 1;
    List<String> backends = List.of("redis", "postgres");
    String rabbitmq = "amqp://guest:guest@127.0.0.1:5672";
    Path dir = null;
    for (int i = 0; i < args.length; i += 2) {
      String value = args[i + 1];
      switch (args[i]) {
        case "--jobs" -> jobs = Integer.parseInt(value);
        case "--workers" -> workers = Integer.parseInt(value);
        case "--producers" -> producers = Integer.parseInt(value);
        case "--prefetch" -> prefetch = Integer.parseInt(value);
        case "--backends" -> backends = Arrays.asList(value.trim().split("\\s+"));
        case "--rabbitmq" -> rabbitmq = value;
        case "--dir" -> dir = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag: " + args[i]);
      }
    }
    if (dir == null) {
      dir = Files.createTempDirectory("queue-bench-");
    }
    for (String backend : backends) {
      switch (backend) {
        case "redis" -> {
          try (RedisServer redis = RedisServer.builder().port(0).dataDirectory(dir.resolve("redis"))
              .engineCache(dir.resolve("engines")).build().start()) {
            run(backend, RedisStreamsJobQueue.builder().uri(redis.uri()).name("bench").prefetch(prefetch).build(), jobs,
                workers, producers);
          }
        }
        case "postgres" -> {
          try (PostgresServer postgres = PostgresServer.builder().port(0).dataDirectory(dir.resolve("postgres"))
              .engineCache(dir.resolve("engines")).build().start()) {
            run(backend, PostgresJobQueue.builder().database(postgres.jdbcUrl(), postgres.user(), postgres.password())
                .name("bench").poolSize(workers + producers + 2).build(), jobs, workers, producers);
          }
        }
        case "rabbitmq" -> {
          String name = "bench-" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
          try (RedisServer redis = RedisServer.builder().port(0).dataDirectory(dir.resolve("redis-state"))
              .engineCache(dir.resolve("engines")).build().start()) {
            run(backend, RabbitMqJobQueue.builder().uri(rabbitmq).redis(redis.uri()).name(name).prefetch(prefetch)
                .build(), jobs, workers, producers);
          } finally {
            deleteQueues(rabbitmq, name);
          }
        }
        default -> throw new IllegalArgumentException("backend: " + backend + " (expected: redis, postgres or rabbitmq)");
      }
    }
  }

  /** The benchmark's queues on RabbitMQ, which outlive the run otherwise. */
  static void deleteQueues(String uri, String name) throws Exception {
    com.rabbitmq.client.ConnectionFactory factory = new com.rabbitmq.client.ConnectionFactory();
    factory.setUri(uri);
    try (com.rabbitmq.client.Connection connection = factory.newConnection("queue-bench-cleanup");
        com.rabbitmq.client.Channel channel = connection.createChannel()) {
      channel.queueDelete("scalestack.q." + name);
      channel.queueDelete("scalestack.q." + name + ".again");
    }
  }

  static void run(String backend, JobQueue queue, int jobs, int workerCount, int producers) throws Exception {
    // warm-up: the JIT and the connections, not measured
    CountDownLatch warm = new CountDownLatch(2_000);
    List<Worker> workers = new ArrayList<>();
    AtomicLong latencyTotal = new AtomicLong();
    long[] latencies = new long[jobs];
    AtomicLong index = new AtomicLong();
    CountDownLatch done = new CountDownLatch(jobs);
    for (int w = 0; w < workerCount; w++) {
      workers.add(new Worker(queue, "bench-" + w, job -> {
        if (job.type().equals("warm")) {
          warm.countDown();
        } else {
          long latency = System.nanoTime() - Long.parseLong(job.payload());
          latencies[(int) index.getAndIncrement()] = latency;
          latencyTotal.addAndGet(latency);
          done.countDown();
        }
        return "ok";
      }, Duration.ofSeconds(2)));
    }
    for (int i = 0; i < 2_000; i++) {
      queue.enqueue("warm", "0");
    }
    warm.await();
    long started = System.nanoTime();
    List<Thread> threads = new ArrayList<>();
    int perProducer = jobs / producers;
    for (int p = 0; p < producers; p++) {
      int count = p == producers - 1 ? jobs - perProducer * (producers - 1) : perProducer;
      threads.add(Thread.ofVirtual().start(() -> {
        for (int i = 0; i < count; i++) {
          queue.enqueue("bench", Long.toString(System.nanoTime()));
        }
      }));
    }
    for (Thread thread : threads) {
      thread.join();
    }
    long enqueued = System.nanoTime();
    done.await();
    long finished = System.nanoTime();
    for (Worker worker : workers) {
      worker.stop(Duration.ofSeconds(10));
    }
    queue.close();
    Arrays.sort(latencies);
    double seconds = (finished - started) / 1e9;
    System.out.printf("RESULT backend=%s jobs=%d workers=%d producers=%d seconds=%.2f jobsPerSecond=%.0f"
        + " enqueuePerSecond=%.0f latencyP50Millis=%.1f latencyP99Millis=%.1f%n", backend, jobs, workerCount, producers,
        seconds, jobs / seconds, jobs / ((enqueued - started) / 1e9), latencies[jobs / 2] / 1e6,
        latencies[(int) (jobs * 0.99)] / 1e6);
  }
}
