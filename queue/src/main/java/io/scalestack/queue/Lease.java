package io.scalestack.queue;

/**
 * A worker's claim on one delivery of a job: it holds until {@link JobQueue#complete}, {@link
 * JobQueue#fail}, or until it is not renewed ({@link JobQueue#renew}) for the lease timeout, after
 * which another worker may take the job. Immutable.
 *
 * @param job the job
 * @param deliveryId the backend's id of this delivery (a stream entry id, say)
 * @param consumer the worker holding it
 */
public record Lease(Job job, String deliveryId, String consumer) {}
