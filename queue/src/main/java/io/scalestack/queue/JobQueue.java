package io.scalestack.queue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A durable job queue with at-least-once delivery: producers {@link #enqueue} jobs; workers
 * {@link #take} one at a time under a {@link Lease}, {@link #renew} it while they work (a
 * heartbeat, so a long job is never taken away by a timer), and {@link #complete} or {@link #fail}
 * it. A lease not renewed within the lease timeout (a dead worker) lets another worker take the
 * job again. Completion is idempotent: the first result is kept whatever the number of deliveries.
 * A failed job is retried with exponential back-off; after the maximum number of attempts it goes
 * to the dead-letter queue with its last error.
 *
 * <p>Implementations are thread-safe; {@link #take} blocks (on a virtual thread).
 */
public interface JobQueue extends AutoCloseable {

  /** Adds a job; returns its id. */
  String enqueue(String type, String payload);

  /** The next job for {@code consumer}, waiting up to {@code wait}; empty if none came. */
  Optional<Lease> take(String consumer, Duration wait);

  /** Extends the lease; false if it was lost (another worker took the job after a timeout). */
  boolean renew(Lease lease);

  /** Records the job's result (once: a later completion of the same job changes nothing) and ends the lease. */
  void complete(Lease lease, String result);

  /** Ends the lease with {@code error}: the job is retried after a back-off, or goes to the dead letters. */
  void fail(Lease lease, String error);

  /** The job's state, or empty for an unknown id. */
  Optional<JobStatus> status(String jobId);

  /** The jobs in the dead-letter queue, oldest first, at most {@code limit}. */
  List<JobStatus> deadLetters(int limit);

  @Override
  void close();
}
