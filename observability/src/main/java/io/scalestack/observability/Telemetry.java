package io.scalestack.observability;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Objects;

/**
 * The metrics of one member process: a Prometheus-backed Micrometer registry tagged with the
 * member's name, with the JVM and process binders already bound.
 *
 * <p>Each member serves {@link #scrape()} at {@code GET /metrics} with {@link #CONTENT_TYPE}.
 * Meter names follow Prometheus conventions in base units ({@code _seconds}, {@code _bytes},
 * {@code _total} are added by the registry).
 *
 * <p>Thread-safe: the registry may be used and scraped from any thread.
 */
public final class Telemetry implements AutoCloseable {

  /** The Prometheus text exposition format, version 0.0.4. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final String member;
  private final PrometheusMeterRegistry registry;
  private final JvmGcMetrics gcMetrics;

  private Telemetry(String member) {
    this.member = member;
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().commonTags("member", member);
    new ClassLoaderMetrics().bindTo(registry);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    this.gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(registry);
  }

  /** Creates the telemetry of the member called {@code member} (for example {@code web-1}). */
  public static Telemetry forMember(String member) {
    Objects.requireNonNull(member, "member");
    if (member.isBlank()) {
      throw new IllegalArgumentException("member: '" + member + "' (expected: a non-blank member name)");
    }
    return new Telemetry(member);
  }

  /** The member name every meter is tagged with. */
  public String member() {
    return member;
  }

  /** The registry to record into. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Every meter in the Prometheus text format, for {@code GET /metrics}. */
  public String scrape() {
    return registry.scrape();
  }

  @Override
  public void close() {
    gcMetrics.close();
    registry.close();
  }
}
