package io.scalestack.balancer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.scalestack.balancer.Algorithm;
import io.scalestack.balancer.OutlierDetection;
import io.scalestack.balancer.Pool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Ejection back-off and health-check jitter, on a hand-driven clock. */
class OutlierTest {

  private final AtomicLong clock = new AtomicLong(5_000_000_000L);

  @Test
  void eachEjectionLastsLongerUpToTheMaximum() {
    Membership membership = new Membership(Algorithm.ROUND_ROBIN, new SimpleMeterRegistry(), clock::get);
    membership.configure(List.of(Pool.builder(Pool.DEFAULT).outlierDetection(OutlierDetection.builder()
        .consecutiveErrors(2).baseEjectionTime(Duration.ofSeconds(10)).maxEjectionTime(Duration.ofSeconds(25))
        .maxEjectionPercent(100).build()).build()), List.of(), null);
    Backend a = new Backend("a", new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), null, 1, Pool.DEFAULT,
        clock::get);
    a.recordCheck(true, 1, 1);
    membership.put(a);
    RequestContext request = new RequestContext(null, new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"));
    DefaultHttpResponse error = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_GATEWAY);
    DefaultHttpResponse ok = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);

    long[] expectedSeconds = {10, 20, 25, 25};
    for (long seconds : expectedSeconds) {
      membership.onResponse(request, a, error);
      membership.onResponse(request, a, ok); // a success ends the run
      membership.onResponse(request, a, error);
      assertThat(a.ejected()).isFalse();
      membership.onResponse(request, a, error);
      assertThat(a.ejected()).isTrue();
      assertThat(membership.select(Set.of(), request)).isNull();
      clock.addAndGet(Duration.ofSeconds(seconds).toNanos() - 1);
      assertThat(a.ejected()).as("still out just before %d s", seconds).isTrue();
      clock.addAndGet(1);
      assertThat(a.ejected()).isFalse();
      assertThat(membership.select(Set.of(), request)).isSameAs(a);
    }
    assertThat(a.outlierEjections()).isEqualTo(4);
  }

  @Test
  void aConnectFailureCountsAsAnError() {
    Membership membership = new Membership(Algorithm.ROUND_ROBIN, new SimpleMeterRegistry(), clock::get);
    membership.configure(List.of(Pool.builder(Pool.DEFAULT).outlierDetection(OutlierDetection.builder()
        .consecutiveErrors(2).maxEjectionPercent(100).build()).build()), List.of(), null);
    Backend a = new Backend("a", new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), null, 1, Pool.DEFAULT,
        clock::get);
    a.recordCheck(true, 1, 1);
    membership.put(a);
    membership.onAttemptFailure(a);
    membership.onAttemptFailure(a);
    assertThat(a.ejected()).isTrue();
  }

  @Test
  void healthCheckIntervalsVaryWithinTheJitter() {
    Duration interval = Duration.ofSeconds(1);
    long min = Long.MAX_VALUE;
    long max = 0;
    for (int i = 0; i < 2_000; i++) {
      long nanos = HealthChecker.jittered(interval, 0.1).toNanos();
      min = Math.min(min, nanos);
      max = Math.max(max, nanos);
    }
    assertThat(min).isGreaterThanOrEqualTo(900_000_000L).isLessThan(920_000_000L);
    assertThat(max).isLessThanOrEqualTo(1_100_000_000L).isGreaterThan(1_080_000_000L);
    assertThat(HealthChecker.jittered(interval, 0)).isEqualTo(interval);
  }
}
