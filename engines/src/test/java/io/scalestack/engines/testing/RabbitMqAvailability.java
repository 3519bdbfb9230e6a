package io.scalestack.engines.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The RabbitMQ the tests use (the project cannot start one itself): a test calls {@link
 * #assumeRunning()} first, which skips it when nothing listens at {@value #HOST}:{@value #PORT},
 * or fails it when services are required ({@code -Dscalestack.requireServices=true} or {@code
 * SCALESTACK_REQUIRE_SERVICES=true}, as in CI). Stateless, thread-safe.
 */
public final class RabbitMqAvailability {

  public static final String HOST = "127.0.0.1";
  public static final int PORT = 5672;
  public static final String URI = "amqp://guest:guest@" + HOST + ":" + PORT;

  private RabbitMqAvailability() {}

  public static void assumeRunning() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, PORT), 2_000);
    } catch (IOException e) {
      String message = "RabbitMQ is not reachable at " + HOST + ":" + PORT + " (" + e.getMessage() + "); start it with"
          + " 'rabbitmq-server -detached' or 'service rabbitmq-server start' (user guest/guest; .ci/run starts it"
          + " when it is installed)";
      if (required()) {
        Assertions.fail(message + ". Failing: services are required (scalestack.requireServices=true or"
            + " SCALESTACK_REQUIRE_SERVICES=true)");
      }
      Assumptions.abort(message + ". Skipped; set -Dscalestack.requireServices=true to fail instead");
    }
  }

  private static boolean required() {
    return Boolean.parseBoolean(System.getProperty("scalestack.requireServices"))
        || Boolean.parseBoolean(System.getenv("SCALESTACK_REQUIRE_SERVICES"));
  }
}
