package io.scalestack.balancer;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

/**
 * An open-loop load generator for the fault tests: issues request {@code i} at {@code start + i /
 * rate} whatever the latency of the ones before (so a slow balancer cannot slow the load down, as
 * it would a closed loop), each on a virtual thread, on keep-alive connections taken from a
 * shared idle set (a new one when none is idle). At most {@code maxInFlight} requests are
 * outstanding; one issued beyond that is recorded as a failure, so an overloaded run cannot pass
 * as a clean one. Not thread-safe: one {@link #run} at a time; {@link #close} closes the idle
 * connections.
 */
final class PacedLoad implements AutoCloseable {

  /** One request to send; {@code id}, when not null, goes out as {@code X-Request-Id}. */
  record Request(String method, String path, String id) {
    String wire() {
      StringBuilder s = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: shop.example\r\n");
      if (id != null) {
        s.append("X-Request-Id: ").append(id).append("\r\n");
      }
      if (method.equals("POST") || method.equals("PUT")) {
        s.append("Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
      } else {
        s.append("\r\n");
      }
      return s.toString();
    }
  }

  /**
   * What became of request number {@code index}: its status and body, or {@code error} (then
   * {@code status} is -1) when the connection failed; {@code nanos} from issue to answer (for a
   * printout only: tests assert no timing).
   */
  record Result(long index, Request request, int status, String body, String error, long nanos) {
    boolean ok() {
      return error == null && status >= 200 && status < 300;
    }

    @Override
    public String toString() {
      return request.method() + " " + request.path() + (request.id() == null ? "" : " [" + request.id() + "]") + ": "
          + (error != null ? error : status + " " + body);
    }
  }

  /**
   * A whole run: every result in issue order, the wall time from the first issue to the last, and
   * to the last answer.
   */
  record Summary(List<Result> results, long issuingNanos, long elapsedNanos) {
    /** Requests answered (well or not) per second, from the first issue to the last answer. */
    double achievedPerSecond() {
      return results.size() / (elapsedNanos / 1e9);
    }

    /**
     * Requests issued per second, from the first issue to the last (one interval added, so that an
     * exact run gives the asked rate): below the asked rate when the pacing thread was starved.
     */
    double issuedPerSecond() {
      return results.size() / ((issuingNanos + issuingNanos / Math.max(1, results.size() - 1)) / 1e9);
    }

    /** The {@code fraction} quantile of the time from issue to answer, in milliseconds; for printing. */
    double quantileMillis(double fraction) {
      long[] nanos = results.stream().mapToLong(Result::nanos).sorted().toArray();
      return nanos.length == 0 ? 0 : nanos[(int) Math.min(nanos.length - 1, nanos.length * fraction)] / 1e6;
    }

    List<Result> failures(String method) {
      return results.stream().filter(r -> r.request().method().equals(method) && !r.ok()).toList();
    }

    long count(String method) {
      return results.stream().filter(r -> r.request().method().equals(method)).count();
    }
  }

  private final InetSocketAddress target;
  private final int maxInFlight;
  private final ConcurrentLinkedDeque<RawClient> idle = new ConcurrentLinkedDeque<>();
  private final AtomicInteger connections = new AtomicInteger();

  PacedLoad(InetSocketAddress target, int maxInFlight) {
    this.target = target;
    this.maxInFlight = maxInFlight;
  }

  /** Connections opened so far. */
  int connectionsOpened() {
    return connections.get();
  }

  /**
   * Issues {@code total} requests at {@code perSecond}, calling {@code atIssue} on the pacing
   * thread just before request {@code i} goes out (a test injects its fault there), and waits up
   * to 20 s after the last issue for every answer.
   */
  Summary run(int perSecond, int total, LongFunction<Request> requests, LongConsumer atIssue)
      throws InterruptedException {
    Queue<Result> results = new ConcurrentLinkedQueue<>();
    Semaphore slots = new Semaphore(maxInFlight);
    long intervalNanos = TimeUnit.SECONDS.toNanos(1) / perSecond;
    long start = System.nanoTime();
    for (long i = 0; i < total; i++) {
      long due = start + i * intervalNanos;
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      atIssue.accept(i);
      Request request = requests.apply(i);
      long index = i;
      if (!slots.tryAcquire()) {
        results.add(new Result(index, request, -1, "", "client overloaded: " + maxInFlight + " requests in flight", 0));
        continue;
      }
      Thread.ofVirtual().start(() -> {
        try {
          results.add(send(index, request, due));
        } finally {
          slots.release();
        }
      });
    }
    long issuing = System.nanoTime() - start;
    if (!slots.tryAcquire(maxInFlight, 20, TimeUnit.SECONDS)) {
      throw new IllegalStateException((maxInFlight - slots.availablePermits()) + " requests still unanswered 20 s after the last was issued");
    }
    long elapsed = System.nanoTime() - start;
    slots.release(maxInFlight);
    List<Result> sorted = new ArrayList<>(results);
    sorted.sort(Comparator.comparingLong(Result::index));
    return new Summary(List.copyOf(sorted), issuing, elapsed);
  }

  /** {@link #run} without a hook. */
  Summary run(int perSecond, Duration duration, LongFunction<Request> requests) throws InterruptedException {
    return run(perSecond, (int) (perSecond * duration.toMillis() / 1000), requests, i -> { });
  }

  private Result send(long index, Request request, long issued) {
    RawClient connection = idle.pollFirst();
    try {
      if (connection == null) {
        connection = new RawClient(target);
        connections.incrementAndGet();
      }
      connection.send(request.wire());
      RawClient.Response response = connection.read();
      if ("close".equalsIgnoreCase(response.header("connection"))) {
        connection.close();
      } else {
        idle.addFirst(connection);
      }
      return new Result(index, request, response.status(), response.body(), null, System.nanoTime() - issued);
    } catch (IOException | RuntimeException e) {
      closeQuietly(connection);
      return new Result(index, request, -1, "", e.toString(), System.nanoTime() - issued);
    }
  }

  /** Closes every idle connection. */
  @Override
  public void close() {
    RawClient c;
    while ((c = idle.pollFirst()) != null) {
      closeQuietly(c);
    }
  }

  private static void closeQuietly(RawClient connection) {
    if (connection == null) {
      return;
    }
    try {
      connection.close();
    } catch (IOException e) {
      // closing a socket that already failed: nothing left to do with it
    }
  }
}
