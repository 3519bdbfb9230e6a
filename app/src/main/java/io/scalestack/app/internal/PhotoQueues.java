package io.scalestack.app.internal;

import io.scalestack.queue.JobQueue;
import io.scalestack.queue.RabbitMqJobQueue;
import io.scalestack.queue.RedisStreamsJobQueue;
import java.time.Duration;

/**
 * Opens the photo-edit queue the web servers and the workers share: Redis Streams on the session
 * store's Redis (the default, nothing more to run), or RabbitMQ when a broker is given (its jobs'
 * state then lives in that same Redis). Web servers and workers must be given the same choice.
 * Stateless.
 */
public final class PhotoQueues {

  private PhotoQueues() {}

  /**
   * The queue {@code name}: on RabbitMQ at {@code brokerUri} when it is not null, else on Redis
   * Streams at {@code redisUri}; with the worker's lease timeout and retry policy.
   */
  public static JobQueue open(String redisUri, String brokerUri, String name, Duration leaseTimeout, int maxAttempts,
      Duration backoffBase) {
    Duration backoffMax = backoffBase.multipliedBy(32);
    if (brokerUri != null) {
      return RabbitMqJobQueue.builder().uri(brokerUri).redis(redisUri).name(name).leaseTimeout(leaseTimeout)
          .maxAttempts(maxAttempts).backoff(backoffBase, backoffMax).build();
    }
    return RedisStreamsJobQueue.builder().uri(redisUri).name(name).leaseTimeout(leaseTimeout).maxAttempts(maxAttempts)
        .backoff(backoffBase, backoffMax).build();
  }
}
