package io.scalestack.app.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.scalestack.blob.BlobStore;
import io.scalestack.imaging.ImageCodec;
import io.scalestack.queue.Worker;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;

/**
 * What a photo worker serves and runs: {@code /health} and {@code /metrics} for the control plane,
 * and the handler that turns a job into an edited photo, timed and counted ({@code
 * scalestack_jobs_total{outcome}}, {@code scalestack_job_seconds}). Stateless.
 */
public final class WorkerService {

  private WorkerService() {}

  /** The servlet context of {@code /health} (UP while {@code checks} pass) and {@code /metrics}. */
  public static ServletContextHandler context(String member, Map<String, BooleanSupplier> checks,
      String metricsContentType, Supplier<String> scrape) {
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.setContextPath("/");
    context.setErrorHandler(JsonErrorHandlers.servlet());
    context.addServlet(new ServletHolder(new Servlets.Health(member, new LinkedHashMap<>(checks))), "/health");
    context.addServlet(new ServletHolder(new Servlets.Metrics(metricsContentType, scrape)), "/metrics");
    context.addServlet(new ServletHolder(new Servlets.NotFound("/health, /metrics", 16 * 1024)), "/");
    return context;
  }

  /** The photo-edit handler, recording each job's outcome and time in {@code registry}. */
  public static Worker.Handler photoEdits(BlobStore blobs, ImageCodec codec, MeterRegistry registry) {
    Counter done = Counter.builder("scalestack_jobs_total").tag("type", PhotoEditJob.TYPE).tag("outcome", "done")
        .description("Jobs this worker ran, by outcome").register(registry);
    Counter failed = Counter.builder("scalestack_jobs_total").tag("type", PhotoEditJob.TYPE).tag("outcome", "failed")
        .description("Jobs this worker ran, by outcome").register(registry);
    Timer time = Timer.builder("scalestack_job_seconds").tag("type", PhotoEditJob.TYPE)
        .description("Time to run one job, from taking it to its result").register(registry);
    return job -> {
      Timer.Sample sample = Timer.start(registry);
      try {
        String result = PhotoEditJob.run(job, blobs, codec);
        done.increment();
        return result;
      } catch (RuntimeException e) {
        failed.increment();
        throw e;
      } finally {
        sample.stop(time);
      }
    };
  }
}
