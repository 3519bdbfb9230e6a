package io.scalestack.queue;

/**
 * Where a job is, as {@code GET /api/jobs/{id}} shows it. Immutable.
 *
 * @param id the job's id
 * @param state {@code queued}, {@code running}, {@code retrying} (waiting for its back-off),
 *     {@code done} or {@code dead} (in the dead-letter queue)
 * @param attempts deliveries so far
 * @param result the result of the completion that won, or null
 * @param error the last failure, or null
 */
public record JobStatus(String id, String state, int attempts, String result, String error) {}
