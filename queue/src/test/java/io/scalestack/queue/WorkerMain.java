package io.scalestack.queue;

import java.time.Duration;

/**
 * A worker process for the kill -9 test: {@code WorkerMain redis|postgres TARGET QUEUE CONSUMER
 * LEASE_MILLIS JOB_MILLIS}, TARGET a Redis URI or a JDBC URL (user and password {@code scalestack}).
 * Runs until killed.
 */
public final class WorkerMain {

  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    Duration lease = Duration.ofMillis(Long.parseLong(args[4]));
    long jobMillis = Long.parseLong(args[5]);
    JobQueue queue = args[0].equals("redis")
        ? RedisStreamsJobQueue.builder().uri(args[1]).name(args[2]).leaseTimeout(lease).build()
        : PostgresJobQueue.builder().database(args[1], "scalestack", "scalestack").name(args[2]).leaseTimeout(lease).build();
    Worker worker = new Worker(queue, args[3], job -> {
      Thread.sleep(job.payload().equals("slow") ? 3_000 : jobMillis); // the job the test kills its worker on
      return "result of " + job.payload();
    }, lease.dividedBy(3));
    Runtime.getRuntime().addShutdownHook(new Thread(worker::close));
    Thread.currentThread().join(); // until killed
  }
}
