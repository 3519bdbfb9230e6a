package io.scalestack.queue;

/** The queue's backend failed (unreachable, refused a statement); names the queue and the cause. */
public final class QueueException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public QueueException(String message, Throwable cause) {
    super(message, cause);
  }
}
