package io.scalestack.data.internal;

import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Samples of the primary's flushed WAL position over time, to turn a replica's replayed position
 * into a lag in milliseconds: if the primary had flushed at most {@code lsn} at time {@code t} and
 * a replica has replayed {@code lsn}, the replica misses nothing the primary had at {@code t}.
 *
 * <p>A run of samples with the same position keeps only the newest time, so an idle primary costs
 * one entry; samples older than the retention are dropped (one older entry is kept as the
 * reference for replicas that are further behind). Thread-safe (synchronized).
 */
public final class PrimaryHistory {

  private final long retentionMillis;
  private final ArrayDeque<long[]> samples = new ArrayDeque<>(); // {timeMillis, lsn}, oldest first

  public PrimaryHistory(long retentionMillis) {
    this.retentionMillis = retentionMillis;
  }

  /**
   * Records that the primary had flushed at most {@code lsn} at {@code timeMillis} (the time the
   * query was sent, so the bound holds). Samples arrive in time order.
   */
  public synchronized void record(long timeMillis, long lsn) {
    long[] newest = samples.peekLast();
    if (newest != null && Long.compareUnsigned(lsn, newest[1]) <= 0) {
      newest[0] = Math.max(newest[0], timeMillis); // same position (or an older answer): still there
    } else {
      samples.addLast(new long[] {timeMillis, lsn});
    }
    while (samples.size() > 2 && samples.peekFirst()[0] < timeMillis - retentionMillis) {
      samples.removeFirst();
    }
  }

  /**
   * How long ago, at most, the primary had nothing newer than {@code replayLsn}: 0 if the replica
   * has replayed what the newest sample saw (or there is no sample yet), else {@code now} minus the
   * time of the newest sample it has reached, or of the oldest sample if it reached none.
   */
  public synchronized long lagMillis(long replayLsn, long nowMillis) {
    long[] newest = samples.peekLast();
    if (newest == null || Long.compareUnsigned(replayLsn, newest[1]) >= 0) {
      return 0;
    }
    long reachedAt = samples.peekFirst()[0];
    for (Iterator<long[]> it = samples.descendingIterator(); it.hasNext(); ) {
      long[] sample = it.next();
      if (Long.compareUnsigned(sample[1], replayLsn) <= 0) {
        reachedAt = sample[0];
        break;
      }
    }
    return Math.max(0, nowMillis - reachedAt);
  }

  /** The newest sampled position, 0 if none. */
  public synchronized long newestLsn() {
    long[] newest = samples.peekLast();
    return newest == null ? 0 : newest[1];
  }
}
