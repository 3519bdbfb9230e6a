package io.scalestack.cache;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.scalestack.cache.internal.Envelope;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.testing.TestEngines;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Shared pieces of the cache tests: a table on the test PostgreSQL, a clock the test moves, a peek into Redis. */
final class CacheTestSupport {

  private CacheTestSupport() {}

  static String unique(String prefix) {
    return prefix + "-" + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
  }

  /** A cache builder on the shared test Redis, with a unique name. */
  static TieredCache.Builder<String> cache(String prefix) {
    return TieredCache.builder(CacheCodec.utf8()).name(unique(prefix)).redis(TestEngines.redis().uri());
  }

  /** A clock that moves only when told. */
  static final class TestClock extends Clock {
    private final AtomicLong millis = new AtomicLong(1_800_000_000_000L);

    void advance(long by) {
      millis.addAndGet(by);
    }

    @Override
    public long millis() {
      return millis.get();
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      throw new UnsupportedOperationException();
    }
  }

  /** A table of its own on the test PostgreSQL: {@code key text primary key, value text}; counts the loads. */
  static final class Table implements AutoCloseable {
    final String name = unique("items").replace('-', '_');
    final AtomicInteger loads = new AtomicInteger();
    private final HikariDataSource pool;

    Table(int poolSize) throws SQLException {
      PostgresServer postgres = TestEngines.postgres();
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(postgres.jdbcUrl());
      config.setUsername(postgres.user());
      config.setPassword(postgres.password());
      config.setMaximumPoolSize(poolSize);
      pool = new HikariDataSource(config);
      try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
        s.execute("CREATE TABLE " + name + " (key text PRIMARY KEY, value text NOT NULL)");
      }
    }

    void put(String key, String value) throws SQLException {
      try (Connection c = pool.getConnection(); PreparedStatement s = c.prepareStatement(
          "INSERT INTO " + name + " (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
        s.setString(1, key);
        s.setString(2, value);
        s.executeUpdate();
      }
    }

    /** The loader: a real SELECT, counted; {@code sleepSeconds} > 0 adds pg_sleep to it. */
    String load(String key, double sleepSeconds) throws SQLException {
      loads.incrementAndGet();
      String sql = sleepSeconds > 0
          ? "SELECT value FROM " + name + ", pg_sleep(" + sleepSeconds + ") WHERE key = ?"
          : "SELECT value FROM " + name + " WHERE key = ?";
      try (Connection c = pool.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
        s.setString(1, key);
        try (ResultSet r = s.executeQuery()) {
          return r.next() ? r.getString(1) : null;
        }
      }
    }

    @Override
    public void close() throws SQLException {
      try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
        s.execute("DROP TABLE " + name);
      } finally {
        pool.close();
      }
    }
  }

  /** Direct reads of the test Redis. */
  static final class RedisPeek implements AutoCloseable {
    private final RedisClient client = RedisClient.create(TestEngines.redis().uri());
    private final StatefulRedisConnection<String, byte[]> connection =
        client.connect(RedisCodec.of(StringCodec.UTF8, ByteArrayCodec.INSTANCE));
    final RedisCommands<String, byte[]> redis = connection.sync();

    /** The value stored for {@code key} by {@code cache}, or null. */
    String value(TieredCache<String> cache, String key) {
      Envelope envelope = Envelope.decode(redis.get(cache.redisValueKey(key)));
      return envelope == null ? null : new String(envelope.payload(), StandardCharsets.UTF_8);
    }

    Envelope envelope(TieredCache<String> cache, String key) {
      return Envelope.decode(redis.get(cache.redisValueKey(key)));
    }

    @Override
    public void close() {
      connection.close();
      client.shutdown();
    }
  }
}
