package io.scalestack.app.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers whether Redis is reachable, with {@code PING}, for {@code /health}. It keeps its own
 * small connection (one I/O thread) so the check measures Redis, not the session layer's queue.
 * The connection is opened on first use and re-opened after a failure; while Redis is away
 * commands are rejected at once instead of queued.
 *
 * <p>Thread-safe; {@link #isReachable()} blocks the caller (a virtual thread) for at most the
 * timeout.
 */
public final class RedisProbe implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RedisProbe.class);

  private final ClientResources resources;
  private final RedisClient client;
  private final ReentrantLock lock = new ReentrantLock();
  private StatefulRedisConnection<String, String> connection; // guarded by lock

  /** @param redisUri a {@code redis://} URI; @param timeout bound of one connect or {@code PING} */
  public RedisProbe(String redisUri, Duration timeout) {
    RedisURI uri = RedisURI.create(redisUri);
    uri.setTimeout(timeout);
    this.resources = ClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1).build();
    this.client = RedisClient.create(resources, uri);
    client.setOptions(
        ClientOptions.builder()
            .socketOptions(SocketOptions.builder().connectTimeout(timeout).build())
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .build());
  }

  /** Whether Redis answered {@code PONG}; never throws. */
  public boolean isReachable() {
    try {
      return "PONG".equals(connection().sync().ping());
    } catch (RedisException e) {
      log.debug("Redis health check failed", e);
      return false;
    }
  }

  private StatefulRedisConnection<String, String> connection() {
    lock.lock();
    try {
      if (connection == null || !connection.isOpen()) {
        connection = client.connect();
      }
      return connection;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (connection != null) {
        connection.close();
      }
    } finally {
      lock.unlock();
    }
    client.shutdown(0, 2, TimeUnit.SECONDS);
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }
}
