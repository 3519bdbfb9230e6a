/**
 * Real Redis and PostgreSQL as supervised child processes, from binaries shipped inside Maven
 * Central artifacts (extracted once into an engine cache), from a host installation, or already
 * running elsewhere.
 *
 * <p>{@link io.scalestack.engines.RedisServer} and {@link io.scalestack.engines.PostgresServer} are
 * the engines (a {@code RedisServer} may be a replica), {@link io.scalestack.engines.RedisSentinel}
 * watches a Redis primary and promotes a replica when it fails; {@link io.scalestack.engines.ChildProcesses} starts any child process so that it dies
 * with the JVM, even when the JVM is killed with {@code kill -9}.
 */
package io.scalestack.engines;
