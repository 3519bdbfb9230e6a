package io.scalestack.data.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.scalestack.data.DataNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One node of a replication group: its HikariCP pool, the lag monitor's own connection to it, and
 * (for a replica) what the monitor and the read path know of its health.
 *
 * <p>Thread-safe: health fields are volatile and written under this object's lock; the probe
 * connection is used by one probe at a time ({@link #probing}).
 */
public final class NodePool implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NodePool.class);

  private final DataNode node;
  private final boolean replica;
  private final HikariDataSource pool;
  private final Properties probeProperties;
  private final int probeTimeoutMillis;
  /** Set while a probe of this node runs, so a hung node never piles up probes. */
  public final AtomicBoolean probing = new AtomicBoolean();
  private Connection probeConnection;

  private volatile boolean inRotation;
  private static final String NOT_PROBED = "not probed yet";
  private volatile String reason = NOT_PROBED;
  private volatile long replayLsn;
  private volatile long lagMillis = -1;
  private volatile long lastAnswerMillis;
  private volatile long failedAtMillis = Long.MIN_VALUE;

  /** Creates the pool; it connects in the background and never fails here (initializationFailTimeout -1). */
  public NodePool(String group, DataNode node, boolean replica, String user, String password, int poolSize,
      long connectionTimeoutMillis, int probeTimeoutMillis, MeterRegistry registry) {
    this.node = node;
    this.replica = replica;
    this.probeTimeoutMillis = probeTimeoutMillis;
    HikariConfig config = new HikariConfig();
    config.setPoolName("data-" + group + "-" + node.name());
    config.setJdbcUrl(node.jdbcUrl());
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(poolSize);
    config.setMinimumIdle(Math.min(2, poolSize));
    config.setConnectionTimeout(connectionTimeoutMillis);
    config.setValidationTimeout(Math.min(connectionTimeoutMillis, 1000));
    config.setInitializationFailTimeout(-1);
    config.setReadOnly(replica);
    config.addDataSourceProperty("ApplicationName", "scalestack-data");
    config.addDataSourceProperty("connectTimeout", "2");
    config.addDataSourceProperty("tcpKeepAlive", "true");
    if (registry != null) {
      config.setMetricRegistry(registry);
    }
    this.pool = new HikariDataSource(config);
    this.probeProperties = new Properties();
    probeProperties.setProperty("user", user);
    probeProperties.setProperty("password", password);
    probeProperties.setProperty("connectTimeout", "2");
    probeProperties.setProperty("loginTimeout", "2");
    probeProperties.setProperty("ApplicationName", "scalestack-data-monitor");
  }

  public DataNode node() {
    return node;
  }

  public boolean isReplica() {
    return replica;
  }

  /** A pooled connection; waits at most the connection timeout. */
  public Connection connection() throws SQLException {
    return pool.getConnection();
  }

  /**
   * Runs a one-row, one-column query returning a WAL byte offset on the monitor's connection,
   * opening it first if needed; -1 for SQL NULL. On failure the connection is dropped.
   */
  public long probe(String sql, Executor executor) throws SQLException {
    try {
      if (probeConnection == null || probeConnection.isClosed()) {
        Connection connection = new org.postgresql.Driver().connect(node.jdbcUrl(), probeProperties);
        if (connection == null) {
          throw new SQLException("the PostgreSQL driver does not accept " + node.jdbcUrl());
        }
        connection.setNetworkTimeout(executor, probeTimeoutMillis);
        probeConnection = connection;
      }
      try (Statement statement = probeConnection.createStatement(); ResultSet rows = statement.executeQuery(sql)) {
        rows.next();
        long value = rows.getLong(1);
        return rows.wasNull() ? -1 : value;
      }
    } catch (SQLException | RuntimeException e) {
      closeProbeConnection();
      throw e;
    }
  }

  private void closeProbeConnection() {
    Connection connection = probeConnection;
    probeConnection = null;
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        log.debug("closing the probe connection to {}", node, e);
      }
    }
  }

  public boolean inRotation() {
    return inRotation;
  }

  public String reason() {
    return reason;
  }

  public long replayLsn() {
    return replayLsn;
  }

  public long lagMillis() {
    return lagMillis;
  }

  /** Raises the known replayed position (replay only moves forward). */
  public void observeReplay(long lsn) {
    if (Long.compareUnsigned(lsn, replayLsn) > 0) {
      replayLsn = lsn;
    }
  }

  /**
   * The read path saw this node fail: out of rotation until a probe that starts later succeeds.
   * The known replay position is forgotten: a standby that restarts after a crash replays again
   * from its last restartpoint, so it may be behind what it reported before.
   */
  public synchronized void markFailed(long nowMillis, SQLException e) {
    failedAtMillis = nowMillis;
    replayLsn = 0;
    setRotation(false, "failed a read: " + e.getMessage());
  }

  /**
   * A probe sent at {@code sentMillis} answered: replayed position ({@code -1} for NULL), whether
   * the node is in recovery, and the lag the history gives for it.
   */
  public synchronized void applyProbe(long sentMillis, long answeredMillis, long replay, boolean inRecovery,
      long lag, long maxLagMillis) {
    lastAnswerMillis = answeredMillis;
    // the server's own answer, even if lower than what we knew (see markFailed)
    replayLsn = replay == -1 ? 0 : replay;
    lagMillis = replay == -1 ? -1 : lag;
    if (sentMillis <= failedAtMillis) {
      return; // this answer may predate the failure the read path saw
    }
    if (replay == -1) {
      setRotation(false, "replay position is NULL (not streaming WAL)");
    } else if (!inRecovery) {
      setRotation(false, "not in recovery (promoted?)");
    } else if (lag > maxLagMillis) {
      setRotation(false, "lag " + lag + " ms > maxLagMillis " + maxLagMillis);
    } else if (inRotation || !reason.startsWith("lag ") || lag <= maxLagMillis / 2) {
      setRotation(true, "");
    }
  }

  /** A probe failed or timed out. */
  public synchronized void applyProbeFailure(Exception e) {
    replayLsn = 0;
    setRotation(false, "probe failed: " + e.getMessage());
  }

  /** Takes the node out if its last answer is older than {@code staleMillis}. */
  public synchronized void checkStale(long nowMillis, long staleMillis) {
    if (inRotation && nowMillis - lastAnswerMillis > staleMillis) {
      setRotation(false, "no answer for " + (nowMillis - lastAnswerMillis) + " ms");
    }
  }

  private void setRotation(boolean in, String why) {
    if (in != inRotation) {
      if (in) {
        log.info("replica {} {} rotation (lag {} ms)", node, reason.equals(NOT_PROBED) ? "in" : "back in", lagMillis);
      } else {
        log.warn("replica {} out of rotation: {}", node, why);
      }
    }
    inRotation = in;
    reason = why;
  }

  @Override
  public void close() {
    pool.close();
    synchronized (this) {
      inRotation = false;
      reason = "closed";
    }
    if (probing.compareAndSet(false, true)) {
      closeProbeConnection(); // else the running probe's connection dies with the server or times out
    }
  }

  @Override
  public String toString() {
    return (replica ? "replica " : "primary ") + node;
  }
}
