package io.scalestack.data;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What one user or session has written: the WAL position at which its last write committed on the
 * primary. {@link ReplicationGroup#write(ConsistencyToken, SqlWork)} advances it;
 * {@link ReplicationGroup#read(ConsistencyToken, SqlWork)} reads from a replica only when that
 * replica has replayed up to it (read-your-writes), else from the primary.
 *
 * <p>Keep one per session (or user) and store its {@link #toString()} with the session so the
 * guarantee holds across web servers: {@link #parse(String)} restores it. A token never moves
 * backwards. Tokens are positions of one replication group; with several groups (shards) keep one
 * per group.
 *
 * <p>Thread-safe (lock-free); one token may be shared by concurrent requests of a session.
 */
public final class ConsistencyToken {

  private final AtomicLong lsn;

  private ConsistencyToken(long lsn) {
    this.lsn = new AtomicLong(lsn);
  }

  /** A token of a session that has not written anything: any replica in rotation may serve it. */
  public static ConsistencyToken create() {
    return new ConsistencyToken(0);
  }

  /**
   * Restores a token from its {@link #toString()}: an {@link Lsn} text, or the empty string for a
   * token without writes.
   *
   * @throws IllegalArgumentException if {@code text} is neither
   */
  public static ConsistencyToken parse(String text) {
    return text.isEmpty() ? create() : new ConsistencyToken(Lsn.parse(text).asLong());
  }

  /** The commit position of the last write, {@link Lsn#ZERO} if there was none. */
  public Lsn lsn() {
    return Lsn.of(lsn.get());
  }

  /** Moves the token to {@code position} if that is later than where it is; never backwards. */
  public void advanceTo(Lsn position) {
    long target = position.asLong();
    lsn.accumulateAndGet(target, (current, next) -> Long.compareUnsigned(next, current) > 0 ? next : current);
  }

  /** The text to store with the session: the LSN, or the empty string if nothing was written. */
  @Override
  public String toString() {
    long current = lsn.get();
    return current == 0 ? "" : Lsn.of(current).toString();
  }
}
