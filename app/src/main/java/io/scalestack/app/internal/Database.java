package io.scalestack.app.internal;

import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.data.ConsistencyToken;
import io.scalestack.data.DataNode;
import io.scalestack.data.ReplicationGroup;
import io.scalestack.data.Topology;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's PostgreSQL: the replication group every request uses (one HikariCP pool per node:
 * writes on the primary, reads on replicas that have the caller's last write), the Flyway migration
 * of its schema, and the reachability check behind {@code /health}.
 *
 * <p>Stateless; the group it opens is thread-safe.
 */
public final class Database {

  /** How long a request waits for a pooled connection before the service answers 503. */
  static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);

  /** How long {@code /health} waits for the database to answer once connected. */
  static final Duration VALIDATION_TIMEOUT = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(Database.class);

  private Database() {}

  /**
   * The topology of a primary and its replicas, named as the supervisor names its members
   * ({@code pg-primary}, {@code pg-replica-N}).
   */
  public static Topology topology(String primaryJdbcUrl, List<String> replicaJdbcUrls) {
    List<DataNode> replicas = new ArrayList<>();
    for (int i = 0; i < replicaJdbcUrls.size(); i++) {
      replicas.add(DataNode.of("pg-replica-" + (i + 1), replicaJdbcUrls.get(i)));
    }
    return Topology.of(DataNode.of("pg-primary", primaryJdbcUrl), replicas);
  }

  /**
   * Opens the group, at most {@code poolSize} connections per node, replicas out of rotation beyond
   * {@code maxLag}, named {@code <member>}, whose
   * meters ({@code hikaricp_*}, {@code scalestack_data_*}) go to {@code registry}.
   */
  public static ReplicationGroup open(String member, Topology topology, String user, String password, int poolSize,
      Duration maxLag, MeterRegistry registry) {
    return ReplicationGroup.builder()
        .name(member)
        .topology(topology)
        .user(user)
        .password(password)
        .poolSize(poolSize)
        .connectionTimeoutMillis(CONNECTION_TIMEOUT.toMillis())
        .maxLagMillis(maxLag.toMillis())
        .meterRegistry(registry)
        .build();
  }

  /**
   * Connects to the primary once and closes the connection: a start-up check, so that an
   * unreachable database is reported as such (the group's pools keep trying in the background,
   * as a failover needs).
   *
   * @throws SQLException if it cannot
   */
  public static void checkConnects(String primaryJdbcUrl, String user, String password) throws SQLException {
    primary(primaryJdbcUrl, user, password).getConnection().close();
  }

  /**
   * Applies the migrations under {@code classpath:db/migration} on the primary, over a connection
   * of its own. Several members may call this at once against one database: Flyway serialises them
   * with a PostgreSQL advisory lock, and the later ones find nothing left to do.
   */
  public static void migrate(String primaryJdbcUrl, String user, String password) {
    Flyway.configure(Database.class.getClassLoader())
        .dataSource(primary(primaryJdbcUrl, user, password))
        .locations("classpath:db/migration")
        .load()
        .migrate();
  }

  private static PGSimpleDataSource primary(String jdbcUrl, String user, String password) {
    PGSimpleDataSource primary = new PGSimpleDataSource();
    primary.setURL(jdbcUrl);
    primary.setUser(user);
    primary.setPassword(password);
    primary.setLoginTimeout((int) CONNECTION_TIMEOUT.toSeconds());
    return primary;
  }

  /**
   * Whether the database answers a read within the validation timeout (a replica in rotation, else
   * the primary); never throws.
   */
  static boolean isReachable(ReplicationGroup database) {
    try {
      return database.read(ConsistencyToken.create(),
          connection -> connection.isValid((int) VALIDATION_TIMEOUT.toSeconds()));
    } catch (SQLException | RuntimeException e) {
      log.debug("database health check failed", e);
      return false;
    }
  }
}
