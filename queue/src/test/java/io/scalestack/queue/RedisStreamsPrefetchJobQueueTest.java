package io.scalestack.queue;

import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;

/** The contract on Redis Streams with a prefetch of 4: jobs delivered ahead of the takes. */
class RedisStreamsPrefetchJobQueueTest extends JobQueueContract {

  @Override
  JobQueue newQueue(String name, Duration leaseTimeout, int maxAttempts) {
    return RedisStreamsJobQueue.builder().uri(TestEngines.redis().uri()).name(name).leaseTimeout(leaseTimeout)
        .maxAttempts(maxAttempts).backoff(Duration.ofMillis(50), Duration.ofMillis(200)).prefetch(4).build();
  }
}
