package io.scalestack.app;

import io.scalestack.engines.testing.RabbitMqAvailability;

/**
 * The photo service's tests with the edits on RabbitMQ (the machine's, which the project cannot
 * start: skipped where it is absent, failed instead when services are required, as in CI).
 */
class WebServerPhotosRabbitMqTest extends WebServerPhotosTest {

  @Override
  String broker() {
    RabbitMqAvailability.assumeRunning();
    return RabbitMqAvailability.URI;
  }
}
