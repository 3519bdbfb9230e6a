package io.scalestack.cli;

import io.scalestack.app.PhotoWorker;
import io.scalestack.observability.Telemetry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** A photo worker: takes edits from the queue and runs them; started by the control plane, or by hand. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Run one photo worker: take photo edits (crop, resize, sharpen, blur) from the queue and store the"
        + " results in the blob store (the control plane starts these as the worker pool).")
final class WorkerCommand implements Callable<Integer> {

  @Option(names = "--name", required = true, description = "Member name, e.g. worker-1; its consumer name on the queue.")
  String name;

  @Option(names = "--listen", defaultValue = "127.0.0.1:0", description = "host:port for /health and /metrics (default: ${DEFAULT-VALUE}).")
  String listen;

  @Option(names = "--redis", required = true, description = "The queue's Redis, e.g. redis://127.0.0.1:16379.")
  String redis;

  @Option(names = "--queue", defaultValue = PhotoWorker.DEFAULT_QUEUE, description = "Queue name (default: ${DEFAULT-VALUE}).")
  String queue;

  @Option(names = "--blobs", required = true,
      description = "The photos' bytes, shared with the web servers: a directory (absolute path or file:///…) or s3://bucket?region=R[&endpoint=URL][&pathStyle=true].")
  String blobs;

  @Option(names = "--lease-timeout-millis", defaultValue = "6000",
      description = "A job not heard of for this long is taken by another worker (default: ${DEFAULT-VALUE}).")
  long leaseTimeoutMillis;

  @Option(names = "--stop-timeout-millis", defaultValue = "30000",
      description = "On stop, how long the current job may still run (default: ${DEFAULT-VALUE}).")
  long stopTimeoutMillis;

  @Option(names = "--log-file", description = "JSON-lines log file.")
  Path logFile;

  @Option(names = "--parent-pid", defaultValue = "0", description = "Exit when this process dies.")
  long parentPid;

  @Override
  public Integer call() throws Exception {
    MemberRuntime.logTo(name, logFile);
    PhotoWorker.Builder builder;
    try {
      builder = PhotoWorker.builder()
          .memberName(name)
          .listen(Addresses.parse("--listen", listen))
          .redisUri(redis)
          .queue(queue)
          .blobStore(blobs)
          .leaseTimeout(Duration.ofMillis(leaseTimeoutMillis))
          .stopTimeout(Duration.ofMillis(stopTimeoutMillis))
          .telemetry(Telemetry.forMember(name));
      // RabbitMQ, when configured: through the environment, as its URI holds a password
      String broker = System.getenv("SCALESTACK_QUEUE_BROKER");
      if (broker != null && !broker.isEmpty()) {
        builder.broker(broker);
      }
    } catch (IllegalArgumentException e) { // a flag out of range, named with what it expects
      throw new BadInputException(e.getMessage(), e);
    }
    PhotoWorker worker = builder.build().start();
    // a stopped worker finishes its job first: give the shutdown that long, and a little more
    MemberRuntime.runUntilStopped(name, parentPid, worker, Duration.ofMillis(stopTimeoutMillis + 3_000));
    return 0;
  }
}
