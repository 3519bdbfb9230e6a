package io.scalestack.queue;

import io.scalestack.queue.internal.RetryPolicy;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link JobQueue} in a PostgreSQL table ({@code scalestack_jobs}), the database-only backend:
 * a worker takes the oldest due job with {@code SELECT … FOR UPDATE SKIP LOCKED} inside the
 * {@code UPDATE} that leases it (state {@code running}, {@code lease_until} = now + lease timeout),
 * so concurrent workers never wait for each other and never take the same job; a running job whose
 * lease has passed is due again (its worker died). {@link #renew} moves {@code lease_until} on, only
 * for the lease's owner. Completion writes the result only if the job is not done yet (the first
 * wins); a failure schedules the retry by moving {@code run_at} (exponential back-off with jitter)
 * or, after {@code maxAttempts}, marks the job {@code dead} with its error. Idle workers poll every
 * 50 ms, up to {@code wait}.
 *
 * <p>Thread-safe (a HikariCP pool).
 */
public final class PostgresJobQueue implements JobQueue {

  private static final Logger log = LoggerFactory.getLogger(PostgresJobQueue.class);
  private static final long POLL_MILLIS = 50;

  private final String name;
  private final HikariDataSource pool;
  private final RetryPolicy policy;
  private final Duration leaseTimeout;
  private final int maxAttempts;

  private PostgresJobQueue(Builder builder) {
    this.name = builder.name;
    this.policy = builder.policy;
    this.leaseTimeout = policy.leaseTimeout();
    this.maxAttempts = policy.maxAttempts();
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(builder.jdbcUrl);
    config.setUsername(builder.user);
    config.setPassword(builder.password);
    config.setMaximumPoolSize(builder.poolSize);
    config.setPoolName("queue-" + name);
    this.pool = new HikariDataSource(config);
    run(connection -> {
      try (Statement statement = connection.createStatement()) {
        statement.execute("SELECT pg_advisory_xact_lock(7305063)");
        statement.execute("CREATE TABLE IF NOT EXISTS scalestack_jobs (queue text NOT NULL, id uuid NOT NULL,"
            + " type text NOT NULL, payload text NOT NULL, state text NOT NULL, attempts int NOT NULL DEFAULT 0,"
            + " result text, error text, run_at timestamptz NOT NULL DEFAULT now(), lease_owner text,"
            + " lease_until timestamptz, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (queue, id))");
        statement.execute("CREATE INDEX IF NOT EXISTS scalestack_jobs_due ON scalestack_jobs (queue, run_at)"
            + " WHERE state IN ('queued', 'retrying', 'running')");
      }
      return null;
    });
  }

  /** A builder; the JDBC URL, user and password are required. */
  public static Builder builder() {
    return new Builder();
  }

  @FunctionalInterface
  private interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  /** Runs {@code work} in a transaction of its own. */
  private <T> T run(Work<T> work) {
    try (Connection connection = pool.getConnection()) {
      connection.setAutoCommit(false);
      try {
        T result = work.run(connection);
        connection.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new QueueException("queue " + name + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String enqueue(String type, String payload) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    UUID id = UUID.randomUUID();
    run(connection -> {
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO scalestack_jobs (queue, id, type, payload, state) VALUES (?, ?, ?, ?, 'queued')")) {
        insert.setString(1, name);
        insert.setObject(2, id);
        insert.setString(3, type);
        insert.setString(4, payload);
        return insert.executeUpdate();
      }
    });
    return id.toString();
  }

  @Override
  public Optional<Lease> take(String consumer, Duration wait) {
    Objects.requireNonNull(consumer, "consumer");
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      Optional<Lease> lease = run(connection -> leaseOne(connection, consumer));
      if (lease.isPresent()) {
        Lease taken = lease.get();
        if (taken.job().attempt() > maxAttempts) {
          // delivered again and again without an answer: a job that kills its workers
          fail(taken, "delivered " + taken.job().attempt() + " times without an answer (each worker died or lost the lease)");
          continue;
        }
        return lease;
      }
      if (System.nanoTime() - deadline >= 0) {
        return Optional.empty();
      }
      try {
        Thread.sleep(Math.min(POLL_MILLIS, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.empty();
      }
    }
  }

  private Optional<Lease> leaseOne(Connection connection, String consumer) throws SQLException {
    try (PreparedStatement lease = connection.prepareStatement("""
        UPDATE scalestack_jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?,
               lease_until = now() + ? * interval '1 millisecond', updated_at = now()
         WHERE queue = ? AND id = (
               SELECT id FROM scalestack_jobs
                WHERE queue = ? AND ((state IN ('queued', 'retrying') AND run_at <= now())
                                     OR (state = 'running' AND lease_until < now()))
                ORDER BY run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING id, type, payload, attempts""")) {
      lease.setString(1, consumer);
      lease.setLong(2, leaseTimeout.toMillis());
      lease.setString(3, name);
      lease.setString(4, name);
      try (ResultSet rows = lease.executeQuery()) {
        if (!rows.next()) {
          return Optional.empty();
        }
        String id = rows.getString(1);
        int attempt = rows.getInt(4);
        return Optional.of(new Lease(new Job(id, rows.getString(2), rows.getString(3), attempt), id + "#" + attempt,
            consumer));
      }
    }
  }

  @Override
  public boolean renew(Lease lease) {
    return run(connection -> {
      try (PreparedStatement renew = connection.prepareStatement("UPDATE scalestack_jobs SET lease_until = now() + ?"
          + " * interval '1 millisecond' WHERE queue = ? AND id = ?::uuid AND state = 'running' AND lease_owner = ?"
          + " AND attempts = ?")) {
        renew.setLong(1, leaseTimeout.toMillis());
        renew.setString(2, name);
        renew.setString(3, lease.job().id());
        renew.setString(4, lease.consumer());
        renew.setInt(5, lease.job().attempt());
        return renew.executeUpdate() == 1;
      }
    });
  }

  @Override
  public void complete(Lease lease, String result) {
    Objects.requireNonNull(result, "result");
    int written = run(connection -> {
      try (PreparedStatement complete = connection.prepareStatement("UPDATE scalestack_jobs SET state = 'done',"
          + " result = ?, lease_owner = NULL, lease_until = NULL, updated_at = now()"
          + " WHERE queue = ? AND id = ?::uuid AND state NOT IN ('done', 'dead')")) {
        complete.setString(1, result);
        complete.setString(2, name);
        complete.setString(3, lease.job().id());
        return complete.executeUpdate();
      }
    });
    if (written == 0) {
      log.info("queue {}: job {} was already done; this completion by {} changed nothing", name, lease.job().id(),
          lease.consumer());
    }
  }

  @Override
  public void fail(Lease lease, String error) {
    Objects.requireNonNull(error, "error");
    long backoff = policy.backoffMillis(lease.job().attempt());
    run(connection -> {
      try (PreparedStatement fail = connection.prepareStatement("""
          UPDATE scalestack_jobs
             SET state = CASE WHEN attempts >= ? THEN 'dead' ELSE 'retrying' END,
                 run_at = now() + ? * interval '1 millisecond', error = ?, lease_owner = NULL, lease_until = NULL,
                 updated_at = now()
           WHERE queue = ? AND id = ?::uuid AND state = 'running' AND lease_owner = ? AND attempts = ?""")) {
        fail.setInt(1, maxAttempts);
        fail.setLong(2, backoff);
        fail.setString(3, error);
        fail.setString(4, name);
        fail.setString(5, lease.job().id());
        fail.setString(6, lease.consumer());
        fail.setInt(7, lease.job().attempt());
        return fail.executeUpdate();
      }
    });
    log.info("queue {}: job {} failed on attempt {}: {}", name, lease.job().id(), lease.job().attempt(), error);
  }


  @Override
  public Optional<JobStatus> status(String jobId) {
    UUID id;
    try {
      id = UUID.fromString(jobId);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return run(connection -> {
      try (PreparedStatement select = connection.prepareStatement(
          "SELECT state, attempts, result, error FROM scalestack_jobs WHERE queue = ? AND id = ?")) {
        select.setString(1, name);
        select.setObject(2, id);
        try (ResultSet rows = select.executeQuery()) {
          return rows.next()
              ? Optional.of(new JobStatus(jobId, rows.getString(1), rows.getInt(2), rows.getString(3), rows.getString(4)))
              : Optional.<JobStatus>empty();
        }
      }
    });
  }

  @Override
  public List<JobStatus> deadLetters(int limit) {
    return run(connection -> {
      List<JobStatus> dead = new ArrayList<>();
      try (PreparedStatement select = connection.prepareStatement("SELECT id, state, attempts, result, error FROM"
          + " scalestack_jobs WHERE queue = ? AND state = 'dead' ORDER BY updated_at LIMIT ?")) {
        select.setString(1, name);
        select.setInt(2, limit);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            dead.add(new JobStatus(rows.getString(1), rows.getString(2), rows.getInt(3), rows.getString(4),
                rows.getString(5)));
          }
        }
      }
      return dead;
    });
  }

  @Override
  public void close() {
    pool.close();
  }

  /** Configures a {@link PostgresJobQueue}. Not thread-safe. */
  public static final class Builder {
    private String jdbcUrl;
    private String user;
    private String password;
    private String name = "jobs";
    private int poolSize = 4;
    private RetryPolicy policy = RetryPolicy.DEFAULTS;

    private Builder() {}

    /** The database (for example the cluster's primary); required, with the credentials. */
    public Builder database(String jdbcUrl, String user, String password) {
      this.jdbcUrl = Objects.requireNonNull(jdbcUrl, "jdbcUrl");
      this.user = Objects.requireNonNull(user, "user");
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /** The queue's name (default {@code jobs}): several queues share the table. */
    public Builder name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Connections (default 4). */
    public Builder poolSize(int poolSize) {
      if (poolSize < 1 || poolSize > 100) {
        throw new IllegalArgumentException("poolSize: " + poolSize + " (expected: 1..100)");
      }
      this.poolSize = poolSize;
      return this;
    }

    /** As {@link RedisStreamsJobQueue.Builder#leaseTimeout}. */
    public Builder leaseTimeout(Duration leaseTimeout) {
      this.policy = policy.withLeaseTimeout(leaseTimeout);
      return this;
    }

    /** As {@link RedisStreamsJobQueue.Builder#maxAttempts}. */
    public Builder maxAttempts(int maxAttempts) {
      this.policy = policy.withMaxAttempts(maxAttempts);
      return this;
    }

    /** As {@link RedisStreamsJobQueue.Builder#backoff}. */
    public Builder backoff(Duration base, Duration max) {
      this.policy = policy.withBackoff(base, max);
      return this;
    }

    public PostgresJobQueue build() {
      if (jdbcUrl == null) {
        throw new IllegalStateException("database: not set (expected: a JDBC URL, user and password)");
      }
      return new PostgresJobQueue(this);
    }
  }
}
