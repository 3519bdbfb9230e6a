package io.scalestack.queue;

import java.time.Duration;

/**
 * A worker process for the kill -9 test: {@code WorkerMain REDIS_URI QUEUE CONSUMER LEASE_MILLIS
 * JOB_MILLIS}. Runs until killed.
 */
public final class WorkerMain {

  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    long jobMillis = Long.parseLong(args[4]);
    RedisStreamsJobQueue queue = RedisStreamsJobQueue.builder().uri(args[0]).name(args[1])
        .leaseTimeout(Duration.ofMillis(Long.parseLong(args[3]))).build();
    Worker worker = new Worker(queue, args[2], job -> {
      Thread.sleep(jobMillis);
      return "result of " + job.payload();
    }, Duration.ofMillis(Long.parseLong(args[3]) / 3));
    Runtime.getRuntime().addShutdownHook(new Thread(worker::close));
    Thread.currentThread().join(); // until killed
  }
}
