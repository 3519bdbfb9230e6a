package io.scalestack.queue;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker loop: takes one job at a time from a {@link JobQueue}, runs the handler on its own
 * virtual thread, renews the lease every {@code heartbeat} while the handler runs (so a long job
 * is never taken away), and completes the job with the handler's result or fails it with the
 * handler's exception. {@link #stop()} lets the current job finish first.
 *
 * <p>Thread-safe.
 */
public final class Worker implements AutoCloseable {

  /** What a worker does with a job: returns the result, or throws to fail the attempt. */
  @FunctionalInterface
  public interface Handler {
    String handle(Job job) throws Exception;
  }

  private static final Logger log = LoggerFactory.getLogger(Worker.class);

  private final JobQueue queue;
  private final String consumer;
  private final Handler handler;
  private final Duration heartbeat;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final ScheduledExecutorService heartbeats;
  private final Thread loop;

  /**
   * Starts a worker named {@code consumer} (unique among the queue's workers) that renews its
   * lease every {@code heartbeat} (a third of the lease timeout, say).
   */
  public Worker(JobQueue queue, String consumer, Handler handler, Duration heartbeat) {
    this.queue = Objects.requireNonNull(queue, "queue");
    this.consumer = Objects.requireNonNull(consumer, "consumer");
    this.handler = Objects.requireNonNull(handler, "handler");
    this.heartbeat = Objects.requireNonNull(heartbeat, "heartbeat");
    this.heartbeats = Executors.newSingleThreadScheduledExecutor(
        Thread.ofPlatform().daemon().name(consumer + "-heartbeat").factory());
    this.loop = Thread.ofVirtual().name(consumer).start(this::run);
  }

  private void run() {
    try {
      while (running.get()) {
        try {
          queue.take(consumer, Duration.ofMillis(500)).ifPresent(this::work);
        } catch (RuntimeException e) {
          if (running.get()) {
            log.warn("{}: taking a job failed: {}", consumer, e.toString());
            sleep(Duration.ofMillis(200));
          }
        }
      }
    } finally {
      stopped.countDown();
    }
  }

  private void work(Lease lease) {
    ScheduledFuture<?> renewal = heartbeats.scheduleWithFixedDelay(() -> {
      try {
        if (!queue.renew(lease)) {
          log.warn("{}: lost the lease of job {}; another worker may run it too", consumer, lease.job().id());
        }
      } catch (RuntimeException e) {
        log.warn("{}: renewing the lease of job {} failed: {}", consumer, lease.job().id(), e.toString());
      }
    }, heartbeat.toMillis(), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
    try {
      String result = handler.handle(lease.job());
      renewal.cancel(false);
      queue.complete(lease, result);
    } catch (Exception e) {
      renewal.cancel(false);
      queue.fail(lease, e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /** Takes no new job, lets the current one finish, and returns once the loop has ended (up to {@code timeout}). */
  public boolean stop(Duration timeout) throws InterruptedException {
    running.set(false);
    boolean done = stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    heartbeats.shutdownNow();
    return done;
  }

  @Override
  public void close() {
    try {
      stop(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
