package io.scalestack.queue;

import java.time.Duration;

/**
 * A worker process for the kill -9 test: {@code WorkerMain redis|postgres|rabbitmq TARGET QUEUE
 * CONSUMER LEASE_MILLIS JOB_MILLIS REDIS_URI}, TARGET a Redis URI, a JDBC URL (user and password
 * {@code scalestack}) or an AMQP URI (RabbitMQ, its jobs' state on REDIS_URI). Runs until killed.
 */
public final class WorkerMain {

  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    Duration lease = Duration.ofMillis(Long.parseLong(args[4]));
    long jobMillis = Long.parseLong(args[5]);
    JobQueue queue = switch (args[0]) {
      case "redis" -> RedisStreamsJobQueue.builder().uri(args[1]).name(args[2]).leaseTimeout(lease).build();
      case "rabbitmq" -> RabbitMqJobQueue.builder().uri(args[1]).redis(args[6]).name(args[2]).leaseTimeout(lease).build();
      default -> PostgresJobQueue.builder().database(args[1], "scalestack", "scalestack").name(args[2])
          .leaseTimeout(lease).build();
    };
    Worker worker = new Worker(queue, args[3], job -> {
      Thread.sleep(job.payload().equals("slow") ? 3_000 : jobMillis); // the job the test kills its worker on
      return "result of " + job.payload();
    }, lease.dividedBy(3));
    Runtime.getRuntime().addShutdownHook(new Thread(worker::close));
    Thread.currentThread().join(); // until killed
  }
}
