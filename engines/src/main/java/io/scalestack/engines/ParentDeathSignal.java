package io.scalestack.engines;

/**
 * The signal a child process receives when its parent (the JVM) dies; see {@link ChildProcesses}.
 *
 * <p>Pick the signal the engine treats as its fastest <em>clean</em> shutdown: {@link #TERM} for
 * Redis (flushes the AOF and exits), {@link #INT} for PostgreSQL ("fast" shutdown), {@link #KILL}
 * for processes that have nothing to save.
 */
public enum ParentDeathSignal {
  /** SIGTERM (15). */
  TERM,
  /** SIGINT (2). */
  INT,
  /** SIGKILL (9): cannot be caught; the child dies at once. */
  KILL
}
