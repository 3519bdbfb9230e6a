package io.scalestack.balancer;

import static io.scalestack.balancer.Fixtures.awaitAllUp;
import static io.scalestack.balancer.Fixtures.balancer;
import static io.scalestack.balancer.Fixtures.get;
import static io.scalestack.balancer.Fixtures.send;
import static io.scalestack.balancer.Fixtures.uri;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Session persistence: inserted and prefixed cookies, source IP; re-pinning when the pin is gone. */
class StickySessionTest {

  @RegisterExtension final Resources resources = new Resources();

  private <T extends AutoCloseable> T track(T resource) {
    return resources.track(resource);
  }

  private List<NamedBackend> backends(String... names) throws IOException {
    List<NamedBackend> list = new ArrayList<>();
    for (String name : names) {
      list.add(track(NamedBackend.start(name)));
    }
    return list;
  }

  private LoadBalancer balancerWith(Sticky sticky, List<NamedBackend> bs, ManualScheduler scheduler) {
    LoadBalancer.Builder builder = balancer(scheduler)
        .pool(Pool.builder(Pool.DEFAULT).sticky(sticky).build())
        .stickySecret("0123456789abcdef0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (NamedBackend b : bs) {
      builder.backend(b.name, b.address());
    }
    return track(builder.build().start());
  }

  private static HttpResponse<String> getWithCookie(LoadBalancer lb, String path, String cookie) {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(lb.address(), path)).GET();
    if (cookie != null) {
      request.header("Cookie", cookie);
    }
    return send(request);
  }

  /** The value of {@code Set-Cookie: name=value; …}, or null. */
  private static String setCookie(HttpResponse<String> response, String name) {
    for (String value : response.headers().allValues("set-cookie")) {
      if (value.startsWith(name + "=")) {
        return value.substring(name.length() + 1, value.indexOf(';') < 0 ? value.length() : value.indexOf(';'));
      }
    }
    return null;
  }

  static double repins(LoadBalancer lb) {
    String metrics = get(lb.adminAddress(), "/metrics").body();
    Matcher m = Pattern.compile("scalestack_lb_repins_total\\{[^}]*pool=\"default\"[^}]*} ([0-9.]+)").matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : -1;
  }

  @Test
  void insertedCookiePinsAClientToItsBackendWithAnOpaqueSignedId() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancerWith(Sticky.insertCookie("SRV"), bs, scheduler);
    awaitAllUp(lb, scheduler);

    Map<String, String> pinOf = new TreeMap<>();
    for (int client = 0; client < 6; client++) {
      HttpResponse<String> first = getWithCookie(lb, "/", null);
      String pin = setCookie(first, "SRV");
      assertThat(pin).startsWith(first.body() + ".");
      assertThat(first.headers().firstValue("set-cookie").orElseThrow()).endsWith("; Path=/; HttpOnly");
      assertThat(first.headers().firstValue("cache-control")).hasValue("private");
      // never the address
      for (NamedBackend b : bs) {
        assertThat(pin).doesNotContain(Integer.toString(b.address().getPort())).doesNotContain("127.0.0.1");
      }
      pinOf.put("client-" + client, first.body());
      for (int i = 0; i < 5; i++) {
        HttpResponse<String> again = getWithCookie(lb, "/", "theme=dark; SRV=" + pin);
        assertThat(again.body()).isEqualTo(first.body());
        assertThat(setCookie(again, "SRV")).as("a valid pin is not set again").isNull();
      }
    }
    assertThat(new HashSet<>(pinOf.values())).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(repins(lb)).isZero();
  }

  @Test
  void aForgedOrUnknownPinIsIgnoredAndReplaced() throws Exception {
    List<NamedBackend> bs = backends("a", "b");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancerWith(Sticky.insertCookie("SRV"), bs, scheduler);
    awaitAllUp(lb, scheduler);

    Set<String> servedBy = new HashSet<>();
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> response = getWithCookie(lb, "/", "SRV=a.AAAAAAAAAAAAAAAA");
      servedBy.add(response.body());
      assertThat(setCookie(response, "SRV")).startsWith(response.body() + ".").isNotEqualTo("a.AAAAAAAAAAAAAAAA");
    }
    assertThat(servedBy).as("the forged pin to a does not hold").containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void whenThePinnedBackendDrainsTheClientIsRepinnedAndCounted() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancerWith(Sticky.insertCookie("SRV"), bs, scheduler);
    awaitAllUp(lb, scheduler);
    HttpResponse<String> first = getWithCookie(lb, "/", null);
    String pinned = first.body();
    String pin = setCookie(first, "SRV");

    assertThat(lb.drain(pinned)).isTrue();
    HttpResponse<String> moved = getWithCookie(lb, "/", "SRV=" + pin);

    assertThat(moved.statusCode()).isEqualTo(200);
    assertThat(moved.body()).isNotEqualTo(pinned);
    String newPin = setCookie(moved, "SRV");
    assertThat(newPin).startsWith(moved.body() + ".");
    assertThat(repins(lb)).isEqualTo(1.0);
    for (int i = 0; i < 4; i++) {
      assertThat(getWithCookie(lb, "/", "SRV=" + newPin).body()).isEqualTo(moved.body());
    }
    assertThat(repins(lb)).isEqualTo(1.0);
  }

  @Test
  void prefixModeSignsTheApplicationCookieAndHidesThePrefixFromTheApplication() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancerWith(Sticky.prefixCookie("JSESSIONID"), bs, scheduler);
    awaitAllUp(lb, scheduler);

    HttpResponse<String> login = getWithCookie(lb, "/login", null);
    String owner = login.body();
    String session = setCookie(login, "JSESSIONID");
    assertThat(session).startsWith(owner + ".").endsWith("~" + owner + "-session");
    assertThat(login.headers().firstValue("set-cookie").orElseThrow()).endsWith("; Path=/");

    NamedBackend app = bs.stream().filter(b -> b.name.equals(owner)).findFirst().orElseThrow();
    for (int i = 0; i < 5; i++) {
      assertThat(getWithCookie(lb, "/me", "lang=en; JSESSIONID=" + session).body()).isEqualTo(owner);
    }
    // the application sees its own session id, never the balancer's prefix
    assertThat(app.seen.subList(1, app.seen.size())).extracting(NamedBackend.Seen::cookie)
        .containsOnly("lang=en; JSESSIONID=" + owner + "-session");
    // without the cookie the pool balances as usual
    Set<String> anonymous = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      anonymous.add(getWithCookie(lb, "/", null).body());
    }
    assertThat(anonymous).hasSize(3);
  }

  @Test
  void sourceIpStickinessKeepsEachAddressOnItsBackendAndRepinsWhenItGoesDown() throws Exception {
    List<NamedBackend> bs = backends("a", "b", "c");
    ManualScheduler scheduler = new ManualScheduler();
    LoadBalancer lb = balancerWith(Sticky.sourceIp(), bs, scheduler);
    awaitAllUp(lb, scheduler);

    Map<Integer, String> backendOf = new TreeMap<>();
    for (int client = 1; client <= 9; client++) {
      InetAddress from = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) client});
      Set<String> seen = new HashSet<>();
      for (int i = 0; i < 3; i++) {
        seen.add(AlgorithmTest.rawGet(lb.address(), from, "/", ""));
      }
      assertThat(seen).hasSize(1);
      backendOf.put(client, seen.iterator().next());
    }
    String victim = backendOf.values().iterator().next();
    long pinnedToVictim = backendOf.values().stream().filter(victim::equals).count();
    assertThat(lb.drain(victim)).isTrue();

    for (Map.Entry<Integer, String> e : backendOf.entrySet()) {
      InetAddress from = InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (int) e.getKey()});
      String now = AlgorithmTest.rawGet(lb.address(), from, "/", "");
      if (e.getValue().equals(victim)) {
        assertThat(now).isNotEqualTo(victim);
      } else {
        assertThat(now).as("clients of other backends stay").isEqualTo(e.getValue());
      }
    }
    assertThat(repins(lb)).isEqualTo((double) pinnedToVictim);
  }
}
