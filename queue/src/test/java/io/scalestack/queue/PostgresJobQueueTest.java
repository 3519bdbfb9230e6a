package io.scalestack.queue;

import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;

/** The contract on PostgreSQL ({@code FOR UPDATE SKIP LOCKED}, the embedded PostgreSQL). */
class PostgresJobQueueTest extends JobQueueContract {

  @Override
  JobQueue newQueue(String name, Duration leaseTimeout, int maxAttempts) {
    PostgresServer postgres = TestEngines.postgres();
    return PostgresJobQueue.builder().database(postgres.jdbcUrl(), postgres.user(), postgres.password()).name(name)
        .leaseTimeout(leaseTimeout).maxAttempts(maxAttempts).backoff(Duration.ofMillis(50), Duration.ofMillis(200))
        .poolSize(8).build();
  }
}
