package io.scalestack.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link JobQueue} backend promises, on its real engine: delivery, leases, retries,
 * dead letters, idempotent completion. Each backend's test class supplies the queue.
 */
abstract class JobQueueContract {

  final List<AutoCloseable> closing = new ArrayList<>();

  /** A fresh queue of the backend (its own name), closed after the test. */
  abstract JobQueue newQueue(String name, Duration leaseTimeout, int maxAttempts);

  private JobQueue queue(Duration leaseTimeout, int maxAttempts) {
    JobQueue queue = newQueue("t" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36), leaseTimeout,
        maxAttempts);
    closing.add(queue);
    return queue;
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  @Test
  void everyJobIsCompletedAndItsResultWrittenOnce() {
    JobQueue queue = queue(Duration.ofSeconds(5), 3);
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    for (int w = 0; w < 3; w++) {
      closing.add(new Worker(queue, "worker-" + w, job -> {
        runs.computeIfAbsent(job.id(), k -> new AtomicInteger()).incrementAndGet();
        return "done " + job.payload();
      }, Duration.ofSeconds(1)));
    }
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      ids.add(queue.enqueue("test", "#" + i));
    }

    await().atMost(Duration.ofSeconds(30)).until(() -> ids.stream()
        .allMatch(id -> queue.status(id).map(s -> s.state().equals("done")).orElse(false)));
    for (int i = 0; i < ids.size(); i++) {
      JobStatus status = queue.status(ids.get(i)).orElseThrow();
      assertThat(status.result()).isEqualTo("done #" + i);
      assertThat(status.attempts()).isEqualTo(1);
    }
    assertThat(runs.values()).allMatch(count -> count.get() == 1);
  }

  @Test
  void aJobWhoseWorkerStopsRenewingIsTakenByAnotherAfterTheLeaseTimeout() {
    JobQueue queue = queue(Duration.ofMillis(500), 3);
    String id = queue.enqueue("test", "orphan");
    Lease dying = queue.take("worker-dead", Duration.ofSeconds(1)).orElseThrow(); // and never heard of again

    long started = System.nanoTime();
    Optional<Lease> taken = Optional.empty();
    while (taken.isEmpty()) {
      taken = queue.take("worker-alive", Duration.ofMillis(100));
    }
    long afterMillis = (System.nanoTime() - started) / 1_000_000;
    queue.complete(taken.get(), "recovered");

    assertThat(taken.get().job().id()).isEqualTo(id);
    assertThat(taken.get().job().attempt()).isEqualTo(2);
    assertThat(afterMillis).isBetween(300L, 5_000L);
    assertThat(queue.renew(dying)).as("the dead worker's lease is gone").isFalse();
    queue.complete(dying, "late"); // a worker that comes back late: written once, the first result stays
    assertThat(queue.status(id).orElseThrow().result()).isEqualTo("recovered");
  }

  @Test
  void aLongJobWithHeartbeatsIsNeverTakenAway() throws Exception {
    JobQueue queue = queue(Duration.ofMillis(600), 3); // six heartbeats per lease: a busy CI machine misses none
    String id = queue.enqueue("test", "slow");
    AtomicInteger runs = new AtomicInteger();
    Worker slow = new Worker(queue, "worker-slow", job -> {
      runs.incrementAndGet();
      Thread.sleep(2_000); // more than three lease timeouts
      return "finally";
    }, Duration.ofMillis(100));
    closing.add(slow);
    await().atMost(Duration.ofSeconds(5)).until(() -> runs.get() == 1);

    for (int i = 0; i < 15; i++) {
      assertThat(queue.take("worker-thief", Duration.ofMillis(100))).isEmpty();
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> "done".equals(queue.status(id).orElseThrow().state()));
    assertThat(queue.status(id).orElseThrow().result()).isEqualTo("finally");
    assertThat(runs).hasValue(1);
  }

  @Test
  void aPoisonJobLandsInTheDeadLettersWithItsErrorAndTheOthersAreDone() {
    JobQueue queue = queue(Duration.ofSeconds(5), 3);
    AtomicInteger poisonRuns = new AtomicInteger();
    closing.add(new Worker(queue, "worker-1", job -> {
      if (job.payload().equals("poison")) {
        poisonRuns.incrementAndGet();
        throw new IllegalArgumentException("cannot decode image (attempt " + job.attempt() + ")");
      }
      return "ok";
    }, Duration.ofSeconds(1)));
    String poison = queue.enqueue("test", "poison");
    List<String> others = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      others.add(queue.enqueue("test", "fine"));
    }

    await().atMost(Duration.ofSeconds(20)).until(() -> "dead".equals(queue.status(poison).orElseThrow().state()));
    await().atMost(Duration.ofSeconds(20)).until(() -> others.stream()
        .allMatch(id -> "done".equals(queue.status(id).orElseThrow().state())));
    JobStatus dead = queue.status(poison).orElseThrow();
    assertThat(dead.attempts()).isEqualTo(3);
    assertThat(dead.error()).isEqualTo("IllegalArgumentException: cannot decode image (attempt 3)");
    assertThat(poisonRuns).hasValue(3);
    assertThat(queue.deadLetters(10)).extracting(JobStatus::id).containsExactly(poison);
  }

  @Test
  void aJobThatKillsEveryWorkerGoesToTheDeadLettersToo() {
    JobQueue queue = queue(Duration.ofMillis(200), 2);
    String id = queue.enqueue("test", "kills its worker");
    Set<String> takers = ConcurrentHashMap.newKeySet();
    // each taker takes it and "dies" (never renews, never answers)
    for (int i = 0; i < 10 && !"dead".equals(queue.status(id).orElseThrow().state()); i++) {
      queue.take("worker-" + i, Duration.ofMillis(300)).ifPresent(lease -> takers.add(lease.consumer()));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      queue.take("worker-last", Duration.ofMillis(300)).ifPresent(lease -> takers.add(lease.consumer()));
      return "dead".equals(queue.status(id).orElseThrow().state());
    });
    assertThat(takers).hasSize(2);
    assertThat(queue.status(id).orElseThrow().error()).startsWith("delivered 3 times without an answer");
  }
}
