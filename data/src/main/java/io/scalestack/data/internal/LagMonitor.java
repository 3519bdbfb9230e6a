package io.scalestack.data.internal;

import java.time.Clock;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every poll interval: samples the primary's flushed WAL position into a {@link PrimaryHistory},
 * asks each replica for its replayed position and whether it is in recovery, and puts it in or
 * out of rotation ({@link NodePool#applyProbe}). Probes run on the executor, one at a time per
 * node, each bounded by the probe timeout; a replica whose last answer is older than the probe
 * timeout is taken out, so a hung replica is out within poll interval + probe timeout.
 *
 * <p>Thread-safe.
 */
public final class LagMonitor implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(LagMonitor.class);
  static final String PRIMARY_POSITION = "SELECT pg_current_wal_flush_lsn() - '0/0'::pg_lsn";
  static final String REPLICA_POSITION =
      "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() - '0/0'::pg_lsn ELSE -2 END";

  /** The nodes to watch, read at every tick (the topology may change). */
  public record Nodes(NodePool primary, List<NodePool> replicas) {}

  private final Supplier<Nodes> nodes;
  private final PrimaryHistory history;
  private final Clock clock;
  private final Executor executor;
  private final long maxLagMillis;
  private final long staleMillis;
  private final ScheduledFuture<?> task;

  public LagMonitor(Supplier<Nodes> nodes, PrimaryHistory history, Clock clock, ScheduledExecutorService scheduler,
      Executor executor, long pollIntervalMillis, long maxLagMillis, long staleMillis) {
    this.nodes = nodes;
    this.history = history;
    this.clock = clock;
    this.executor = executor;
    this.maxLagMillis = maxLagMillis;
    this.staleMillis = staleMillis;
    this.task = scheduler.scheduleWithFixedDelay(this::tick, 0, pollIntervalMillis, TimeUnit.MILLISECONDS);
  }

  private void tick() {
    try {
      Nodes current = nodes.get();
      long now = clock.millis();
      submit(current.primary(), this::probePrimary);
      for (NodePool replica : current.replicas()) {
        replica.checkStale(now, staleMillis);
        submit(replica, this::probeReplica);
      }
    } catch (RuntimeException e) {
      log.error("lag monitor tick failed", e); // keep the schedule alive
    }
  }

  private void submit(NodePool node, java.util.function.Consumer<NodePool> probe) {
    if (!node.probing.compareAndSet(false, true)) {
      return;
    }
    try {
      executor.execute(() -> {
        try {
          probe.accept(node);
        } finally {
          node.probing.set(false);
        }
      });
    } catch (RejectedExecutionException e) {
      node.probing.set(false);
    }
  }

  private void probePrimary(NodePool primary) {
    long sent = clock.millis();
    try {
      history.record(sent, primary.probe(PRIMARY_POSITION, executor));
    } catch (java.sql.SQLException | RuntimeException e) {
      log.debug("cannot sample the primary {}", primary, e);
    }
  }

  private void probeReplica(NodePool replica) {
    long sent = clock.millis();
    try {
      long replay = replica.probe(REPLICA_POSITION, executor);
      long answered = clock.millis();
      boolean inRecovery = replay != -2;
      long position = inRecovery ? replay : 0;
      long lag = position == -1 ? -1 : history.lagMillis(position, answered);
      replica.applyProbe(sent, answered, inRecovery ? replay : 0, inRecovery, lag, maxLagMillis);
    } catch (java.sql.SQLException | RuntimeException e) {
      replica.applyProbeFailure(e);
    }
  }

  @Override
  public void close() {
    task.cancel(false);
  }
}
