package io.scalestack.app.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's PostgreSQL: the HikariCP pool every request borrows from, the Flyway migration
 * of its schema, and the reachability check behind {@code /health}.
 *
 * <p>Stateless; the pool it opens is thread-safe.
 */
public final class Database {

  /** How long a request waits for a pooled connection before the service answers 503. */
  static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);

  /** How long {@code /health} waits for the database to answer once connected. */
  static final Duration VALIDATION_TIMEOUT = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private Database() {}

  /**
   * Opens a pool of at most {@code poolSize} connections named {@code <member>-db}, whose meters
   * ({@code hikaricp_*}) go to {@code registry}. Fails at once when the database cannot be reached.
   */
  public static HikariDataSource open(
      String member, String jdbcUrl, String user, String password, int poolSize, MeterRegistry registry) {
    HikariConfig config = new HikariConfig();
    config.setPoolName(member + "-db");
    config.setJdbcUrl(jdbcUrl);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setConnectionTimeout(CONNECTION_TIMEOUT.toMillis());
    config.setValidationTimeout(VALIDATION_TIMEOUT.toMillis());
    // Names the connections in pg_stat_activity, so an operator sees which member holds them.
    config.addDataSourceProperty("ApplicationName", member);
    config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
    return new HikariDataSource(config);
  }

  /**
   * Applies the migrations under {@code classpath:db/migration}. Several members may call this
   * at once against one database: Flyway serialises them with a PostgreSQL advisory lock, and
   * the later ones find nothing left to do.
   */
  public static void migrate(DataSource dataSource) {
    Flyway.configure(Database.class.getClassLoader())
        .dataSource(dataSource)
        .locations("classpath:db/migration")
        .load()
        .migrate();
  }

  /** Whether a pooled connection answers within the validation timeout; never throws. */
  static boolean isReachable(DataSource dataSource) {
    try (Connection connection = dataSource.getConnection()) {
      return connection.isValid((int) VALIDATION_TIMEOUT.toSeconds());
    } catch (SQLException | RuntimeException e) {
      log.debug("database health check failed", e);
      return false;
    }
  }
}
