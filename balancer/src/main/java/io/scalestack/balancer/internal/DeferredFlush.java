package io.scalestack.balancer.internal;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.ArrayList;
import java.util.concurrent.RejectedExecutionException;

/**
 * Flushes a channel at the end of its event loop's current batch of I/O events instead of at once:
 * every channel asked for during one batch is flushed by one task that the loop runs right after
 * the batch (Netty runs the task queue after each round of ready events).
 *
 * <p>Why: on loopback, and on any host where the receiver shares the machine, a {@code write}
 * that makes a sleeping receiver runnable pays for waking it, inside the sender's system call (an
 * inter-processor interrupt, expensive in a VM). Flushing each request to its backend, and each
 * response to its client, as soon as it is ready spaces the writes out by the time the proxy
 * needs per request, so the receiver finishes and sleeps again between them and is woken once per
 * write. Writing what a batch produced in one burst finds the receiver awake for all but the first
 * write, as HAProxy does by sending from its tasklets after the poller's events are processed. In
 * {@code benchmarks/lb} this took the proxy's system time from 62% to 56% of its core and its
 * throughput from 0.73× to 0.81× of HAProxy's, with the same number of system calls. The delay it
 * adds is the rest of the batch: a few microseconds.
 *
 * <p>Thread-safety: each event-loop thread has its own instance, used only on that thread; a
 * call from another thread hops onto the channel's loop first.
 */
final class DeferredFlush implements Runnable {

  private static final FastThreadLocal<DeferredFlush> LOCAL = new FastThreadLocal<>() {
    @Override
    protected DeferredFlush initialValue() {
      return new DeferredFlush();
    }
  };

  private final ArrayList<Channel> channels = new ArrayList<>();
  private boolean scheduled;

  private DeferredFlush() {}

  /** Flushes {@code channel} once its event loop has handled the I/O events at hand; any thread. */
  static void flush(Channel channel) {
    EventLoop loop = channel.eventLoop();
    if (!loop.inEventLoop()) {
      // Netty runs it as a task on the channel's loop, after that loop's batch of events
      channel.flush();
      return;
    }
    DeferredFlush pending = LOCAL.get();
    pending.channels.add(channel);
    if (!pending.scheduled) {
      pending.scheduled = true;
      try {
        loop.execute(pending);
      } catch (RejectedExecutionException e) {
        // the loop is shutting down and takes no more tasks: flush now, as nothing else will
        pending.run();
      }
    }
  }

  @Override
  public void run() {
    // a flush may complete a write whose listener asks for another flush: it lands in this list,
    // past the index, and is flushed by this same pass
    ArrayList<Channel> list = channels;
    for (int i = 0; i < list.size(); i++) {
      list.get(i).flush();
    }
    list.clear();
    scheduled = false;
  }
}
