package io.scalestack.app.internal;

import io.scalestack.queue.JobQueue;
import io.scalestack.queue.JobStatus;
import io.scalestack.queue.Lease;
import io.scalestack.queue.QueueException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A {@link JobQueue} opened on first use, and again on the next use after opening failed: a web
 * server starts, and serves everything but edits, while the queue's Redis is still coming up (as
 * its sessions do). Thread-safe: one queue is opened at a time.
 */
public final class LazyJobQueue implements JobQueue {

  private final Supplier<JobQueue> opener;
  private final String name;
  // written under this, read without it: once open, a call costs no lock
  private volatile JobQueue queue;
  private boolean closed; // guarded by this

  public LazyJobQueue(String name, Supplier<JobQueue> opener) {
    this.name = name;
    this.opener = opener;
  }

  private JobQueue queue() {
    JobQueue open = queue;
    return open != null ? open : open();
  }

  private synchronized JobQueue open() {
    if (closed) {
      throw new IllegalStateException("queue " + name + ": closed");
    }
    if (queue == null) {
      try {
        queue = opener.get();
      } catch (RuntimeException e) {
        throw new QueueException("queue " + name + ": cannot be opened: " + e.getMessage(), e);
      }
    }
    return queue;
  }

  @Override
  public String enqueue(String type, String payload) {
    return queue().enqueue(type, payload);
  }

  @Override
  public Optional<Lease> take(String consumer, Duration wait) {
    return queue().take(consumer, wait);
  }

  @Override
  public boolean renew(Lease lease) {
    return queue().renew(lease);
  }

  @Override
  public void complete(Lease lease, String result) {
    queue().complete(lease, result);
  }

  @Override
  public void fail(Lease lease, String error) {
    queue().fail(lease, error);
  }

  @Override
  public Optional<JobStatus> status(String jobId) {
    return queue().status(jobId);
  }

  @Override
  public List<JobStatus> deadLetters(int limit) {
    return queue().deadLetters(limit);
  }

  @Override
  public synchronized void close() {
    closed = true;
    if (queue != null) {
      queue.close();
    }
  }
}
