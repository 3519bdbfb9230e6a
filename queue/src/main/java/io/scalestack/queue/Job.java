package io.scalestack.queue;

import java.util.Objects;

/**
 * One job as a worker receives it: its id, type and payload (JSON text, say), and which attempt
 * this is (1 for the first delivery). Immutable.
 *
 * @param id the job's id, stable across attempts
 * @param type what kind of work, for example {@code photo.edit}
 * @param payload the job's input
 * @param attempt 1 for the first delivery, one more for each retry or recovery
 */
public record Job(String id, String type, String payload, int attempt) {
  public Job {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
  }
}
