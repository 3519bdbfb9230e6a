package io.scalestack.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A worker that is stopped finishes the job it runs, completes it, and takes no other: what a
 * scale-in or a rolling restart of the worker pool relies on.
 */
class WorkerStopTest {

  @Test
  void aStoppedWorkerFinishesItsCurrentJobAndTakesNoOther() throws Exception {
    String name = "stop" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36);
    try (JobQueue queue = RedisStreamsJobQueue.builder().uri(TestEngines.redis().uri()).name(name)
        .leaseTimeout(Duration.ofSeconds(2)).build()) {
      String first = queue.enqueue("test", "slow");
      String second = queue.enqueue("test", "next");
      CountDownLatch running = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      AtomicInteger runs = new AtomicInteger();
      Worker worker = new Worker(queue, "worker-1", job -> {
        runs.incrementAndGet();
        running.countDown();
        // longer than a heartbeat and than the lease: the stop must wait for it, and renewals keep it ours
        assertThat(release.await(10, TimeUnit.SECONDS)).isTrue();
        return "done " + job.payload();
      }, Duration.ofMillis(300));
      assertThat(running.await(10, TimeUnit.SECONDS)).isTrue();

      Thread stopping = Thread.ofVirtual().start(() -> {
        try {
          worker.stop(Duration.ofSeconds(20));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      // the stop waits for the job: it has not returned while the job runs past the lease timeout
      assertThat(stopping.join(Duration.ofMillis(2_500))).isFalse();
      release.countDown();
      assertThat(stopping.join(Duration.ofSeconds(10))).isTrue();

      assertThat(queue.status(first).orElseThrow().state()).isEqualTo("done");
      assertThat(queue.status(first).orElseThrow().result()).isEqualTo("done slow");
      assertThat(queue.status(first).orElseThrow().attempts()).isEqualTo(1);
      assertThat(runs).hasValue(1);
      // the other job was never taken: another worker gets it
      assertThat(queue.status(second).orElseThrow().state()).isEqualTo("queued");
      List<String> taken = new java.util.ArrayList<>();
      try (Worker next = new Worker(queue, "worker-2", job -> {
        taken.add(job.payload());
        return "ok";
      }, Duration.ofMillis(300))) {
        await().atMost(Duration.ofSeconds(10)).until(() -> queue.status(second).orElseThrow().state().equals("done"));
      }
      assertThat(taken).containsExactly("next");
    }
  }
}
