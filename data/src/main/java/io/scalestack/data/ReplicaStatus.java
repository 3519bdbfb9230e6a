package io.scalestack.data;

/**
 * What the lag monitor last knew of one replica: whether it serves reads, the WAL position it has
 * replayed, how far behind the primary that is, and why it is out of rotation.
 *
 * <p>Immutable and thread-safe; a snapshot.
 *
 * @param node the replica
 * @param inRotation whether reads may go to it
 * @param replayLsn the last WAL position it reported replayed ({@code pg_last_wal_replay_lsn()}),
 *     {@link Lsn#ZERO} if it never answered
 * @param lagMillis how long ago the primary had only what this replica has replayed (an upper
 *     bound; 0 when it has replayed all the primary had flushed at the last sample), -1 if unknown
 * @param reason why it is out of rotation, empty while it is in
 */
public record ReplicaStatus(DataNode node, boolean inRotation, Lsn replayLsn, long lagMillis, String reason) {}
