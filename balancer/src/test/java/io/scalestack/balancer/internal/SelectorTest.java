package io.scalestack.balancer.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.scalestack.balancer.HashKey;
import io.scalestack.balancer.Pool;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The selectors alone, on backends that never send: pure functions of their state. */
class SelectorTest {

  private final AtomicLong clock = new AtomicLong(1_000_000_000L);

  private Backend backend(String name, int weight) {
    Backend b = new Backend(name, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), null, weight,
        Pool.DEFAULT, clock::get);
    b.recordCheck(true, 1, 1);
    return b;
  }

  private List<Backend> backends(int n) {
    List<Backend> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(backend("web-" + i, 1));
    }
    return List.copyOf(list);
  }

  private Candidates candidates(List<Backend> members) {
    return new Candidates(members, members.stream().filter(Backend::selectable).toList(), 0, clock.get(), true);
  }

  @Test
  void addingAnEleventhBackendMovesAtMostItsShareOfKeysAndOnlyToIt() {
    // one selector per membership: a selector caches the ring of the last membership it saw
    HashSelector selector = new HashSelector(r -> null, 0, () -> { });
    HashSelector selectorAfter = new HashSelector(r -> null, 0, () -> { });
    List<Backend> ten = backends(10);
    List<Backend> eleven = new ArrayList<>(ten);
    Backend added = backend("web-10", 1);
    eleven.add(added);
    Candidates before = candidates(ten);
    Candidates after = candidates(List.copyOf(eleven));
    int keys = 100_000;
    int moved = 0;
    Map<Backend, Integer> share = new HashMap<>();
    for (int k = 0; k < keys; k++) {
      long hash = HashSelector.hashOf("user-" + k);
      Backend was = selector.select(before, hash);
      Backend is = selectorAfter.select(after, hash);
      share.merge(was, 1, Integer::sum);
      if (was != is) {
        moved++;
        assertThat(is).as("a moved key moves to the new backend").isSameAs(added);
      }
    }
    assertThat((double) moved / keys).isLessThanOrEqualTo(1.0 / 11 + 0.02).isGreaterThan(0.0);
    // virtual nodes keep the ten shares near 10% each
    assertThat(share.values()).allSatisfy(n -> assertThat(n).isBetween(keys / 10 * 7 / 10, keys / 10 * 13 / 10));
  }

  @Test
  void aDownBackendLosesOnlyItsOwnKeysAndGetsThemBack() {
    AtomicInteger repins = new AtomicInteger();
    HashSelector selector = new HashSelector(r -> null, 0, repins::incrementAndGet);
    List<Backend> members = backends(5);
    Map<Integer, Backend> owner = new HashMap<>();
    for (int k = 0; k < 10_000; k++) {
      owner.put(k, selector.select(candidates(members), HashSelector.hashOf("k" + k)));
    }
    Backend down = members.get(2);
    down.recordCheck(false, 1, 1);
    int movedKeys = 0;
    for (int k = 0; k < 10_000; k++) {
      Backend now = selector.select(candidates(members), HashSelector.hashOf("k" + k));
      assertThat(now).isNotSameAs(down);
      if (owner.get(k) != down) {
        assertThat(now).isSameAs(owner.get(k));
      } else {
        movedKeys++;
      }
    }
    assertThat(repins.get()).isEqualTo(movedKeys).isPositive();
    down.recordCheck(true, 1, 1);
    for (int k = 0; k < 10_000; k++) {
      assertThat(selector.select(candidates(members), HashSelector.hashOf("k" + k))).isSameAs(owner.get(k));
    }
  }

  @Test
  void boundedLoadsSendAHotKeyOnOnceItsBackendHoldsMoreThanTheFactorTimesTheAverage() {
    HashSelector selector = new HashSelector(r -> null, 1.25, () -> { });
    List<Backend> members = backends(4);
    long hot = HashSelector.hashOf("celebrity");
    Backend first = selector.select(candidates(members), hot);
    Map<Backend, Integer> inFlight = new HashMap<>();
    // 40 concurrent requests for one key: no backend may exceed ceil(1.25 × (average + 1))
    for (int i = 0; i < 40; i++) {
      Backend chosen = selector.select(candidates(members), hot);
      long total = members.stream().mapToLong(Backend::inFlight).sum();
      assertThat(chosen.inFlight() + 1).isLessThanOrEqualTo((int) Math.ceil(1.25 * (total + 1) / 4.0));
      chosen.beginRequest();
      inFlight.merge(chosen, 1, Integer::sum);
    }
    assertThat(inFlight.get(first)).isBetween(10, 13);
    assertThat(inFlight.keySet()).hasSize(4);
    // without the bound, one backend would hold all 40
    HashSelector unbounded = new HashSelector(r -> null, 0, () -> { });
    assertThat(unbounded.select(candidates(members), hot)).isSameAs(first);
  }

  @Test
  void smoothRoundRobinFollowsNginxSequenceAndExactRatios() {
    RoundRobinSelector selector = new RoundRobinSelector();
    List<Backend> members = List.of(backend("a", 5), backend("b", 1), backend("c", 1));
    StringBuilder order = new StringBuilder();
    for (int i = 0; i < 7; i++) {
      order.append(selector.select(candidates(members), null).name());
    }
    assertThat(order.toString()).isEqualTo("aabacaa");
  }

  @Test
  void slowStartRampsTheEffectiveWeightFromTenPercentToFull() {
    long slowStart = 10_000_000_000L;
    Backend warm = backend("warm", 2);
    warm.warm();
    Backend fresh = new Backend("fresh", new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), null, 2,
        Pool.DEFAULT, clock::get);
    fresh.recordCheck(true, 1, 1);
    assertThat(fresh.effectiveWeight(slowStart, clock.get())).isEqualTo(20);
    clock.addAndGet(5_000_000_000L);
    assertThat(fresh.effectiveWeight(slowStart, clock.get())).isEqualTo(100);
    clock.addAndGet(5_000_000_000L);
    assertThat(fresh.effectiveWeight(slowStart, clock.get())).isEqualTo(200);
    assertThat(warm.effectiveWeight(slowStart, clock.get())).isEqualTo(200);
    // going down and up again starts a new ramp
    fresh.recordCheck(false, 1, 1);
    fresh.recordCheck(true, 1, 1);
    assertThat(fresh.effectiveWeight(slowStart, clock.get())).isEqualTo(20);
    assertThat(fresh.effectiveWeight(0, clock.get())).isEqualTo(200);
  }

  @Test
  void consistentHashingRampsANewBackendsKeysOverDuringSlowStartEachKeyMovingOnce() {
    long slowStart = 10_000_000_000L;
    HashSelector before = new HashSelector(r -> null, 0, () -> { });
    HashSelector during = new HashSelector(r -> null, 0, () -> { });
    List<Backend> ten = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Backend b = new Backend("web-" + i, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1), null, 1,
          Pool.DEFAULT, clock::get);
      b.warm(); // present from the start: no ramp
      b.recordCheck(true, 1, 1);
      ten.add(b);
    }
    Backend added = backend("web-10", 1); // came up now: not warm, so it ramps
    List<Backend> eleven = new ArrayList<>(ten);
    eleven.add(added);
    List<Backend> members = List.copyOf(eleven);
    int keys = 50_000;
    Backend[] owners = new Backend[keys];
    for (int k = 0; k < keys; k++) {
      owners[k] = before.select(candidates(ten), HashSelector.hashOf("user-" + k));
    }
    boolean[] movedEarlier = new boolean[keys];
    int[] onAdded = new int[3];
    long[] elapsed = {0, 5_000_000_000L, 10_000_000_000L};
    long start = clock.get();
    for (int step = 0; step < elapsed.length; step++) {
      clock.set(start + elapsed[step]);
      Candidates c = new Candidates(members, members, slowStart, clock.get(), true);
      for (int k = 0; k < keys; k++) {
        Backend now = during.select(c, HashSelector.hashOf("user-" + k));
        if (now == added) {
          onAdded[step]++;
          movedEarlier[k] = true;
        } else {
          // a key not (yet) on the new backend stays where it was; one that moved never comes back
          assertThat(now).isSameAs(owners[k]);
          assertThat(movedEarlier[k]).as("key %d moved back", k).isFalse();
        }
      }
    }
    // at the end, its full share of the ring; before, 10% (the floor) and 50% of that share
    assertThat(onAdded[2]).isBetween((int) (keys / 11.0 * 0.85), (int) (keys / 11.0 * 1.15));
    assertThat(onAdded[0]).isBetween((int) (0.1 * onAdded[2] * 0.75), (int) (0.1 * onAdded[2] * 1.25));
    assertThat(onAdded[1]).isBetween((int) (0.5 * onAdded[2] * 0.9), (int) (0.5 * onAdded[2] * 1.1));
  }

  @Test
  void peakEwmaJumpsToAPeakAndForgetsItAfterManyFastSamples() {
    ResponseTime rt = new ResponseTime();
    long now = 1_000;
    rt.record(100_000_000, now);
    assertThat(rt.averageNanos()).isEqualTo(100_000_000);
    for (int i = 0; i < 150; i++) {
      now += 1_000_000;
      rt.record(5_000_000, now);
    }
    assertThat(rt.averageNanos()).isLessThan(6_000_000);
    rt.record(80_000_000, now + 1);
    assertThat(rt.averageNanos()).isEqualTo(80_000_000);
    // with no sample for two idle decay times, the average read decays by e^-2
    assertThat(rt.averageNanos(now + 1 + 2 * ResponseTime.IDLE_DECAY_NANOS)).isBetween(10_700_000.0, 10_900_000.0);
  }

  @Test
  void keysAreReadFromHeaderCookieQueryAndPath() {
    DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/photos/42?size=big&user=ann#x");
    head.headers().add("X-User", "bob").add("Cookie", "a=1; uid=\"carol\"").add("Cookie", "z=2");
    RequestContext request = new RequestContext(null, head);
    assertThat(RequestParts.queryParameter(head.uri(), "user")).isEqualTo("ann");
    assertThat(RequestParts.queryParameter(head.uri(), "size")).isEqualTo("big");
    assertThat(RequestParts.queryParameter(head.uri(), "use")).isNull();
    assertThat(RequestParts.cookie(head.headers(), "uid")).isEqualTo("carol");
    assertThat(RequestParts.cookie(head.headers(), "z")).isEqualTo("2");
    assertThat(RequestParts.path(head.uri())).isEqualTo("/photos/42");
    assertThat(RequestParts.path("http://shop.example/a/b?c")).isEqualTo("/a/b");
    List<Backend> members = backends(7);
    for (HashKey key : List.of(HashKey.parse("header:x-user"), HashKey.parse("cookie:uid"), HashKey.parse("query:user"),
        HashKey.parse("path"))) {
      HashSelector selector = HashSelector.of(key, 0, () -> { });
      Backend chosen = selector.select(candidates(members), request);
      String expected = switch (key.source()) {
        case HEADER -> "bob";
        case COOKIE -> "carol";
        case QUERY -> "ann";
        case PATH -> "/photos/42";
      };
      assertThat(chosen).as(key.toString()).isSameAs(selector.select(candidates(members), HashSelector.hashOf(expected)));
    }
  }

  @Test
  void pathRewritingKeepsTheQuery() {
    assertThat(Membership.rewrite("/api/users?x=1", "/api/users", "/api", "/")).isEqualTo("/users?x=1");
    assertThat(Membership.rewrite("/api", "/api", "/api", "/")).isEqualTo("/");
    assertThat(Membership.rewrite("/v1/items", "/v1/items", "/v1", "/v2")).isEqualTo("/v2/items");
    assertThat(Membership.rewrite("/old/", "/old/", "/old/", "/new/")).isEqualTo("/new/");
    assertThat(Membership.rewrite("http://h/api/x?q", "/api/x", "/api", "/")).isEqualTo("http://h/x?q");
  }
}
