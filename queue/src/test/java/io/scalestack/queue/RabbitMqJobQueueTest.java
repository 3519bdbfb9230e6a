package io.scalestack.queue;

import io.scalestack.engines.testing.RabbitMqAvailability;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import io.scalestack.engines.testing.TestEngines;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;

/**
 * The contract on RabbitMQ (the one at {@value RabbitMqAvailability#HOST}, skipped when absent)
 * with the jobs' state on the embedded Redis. Each test's queues are deleted after it.
 */
class RabbitMqJobQueueTest extends JobQueueContract {

  @BeforeEach
  void rabbitMq() {
    RabbitMqAvailability.assumeRunning();
  }

  @Override
  JobQueue newQueue(String name, Duration leaseTimeout, int maxAttempts) {
    // closed in reverse order: the queue object first, then its broker queues are deleted
    closing.add(() -> deleteQueues(name));
    return RabbitMqJobQueue.builder().uri(RabbitMqAvailability.URI).redis(TestEngines.redis().uri()).name(name)
        .leaseTimeout(leaseTimeout).maxAttempts(maxAttempts).backoff(Duration.ofMillis(50), Duration.ofMillis(200))
        .build();
  }

  static void deleteQueues(String name) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setUri(RabbitMqAvailability.URI);
    try (Connection connection = factory.newConnection("scalestack-test-cleanup");
        Channel channel = connection.createChannel()) {
      channel.queueDelete("scalestack.q." + name);
      channel.queueDelete("scalestack.q." + name + ".again");
    }
  }
}
