package io.scalestack.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.scalestack.controlplane.ConfigLoader;
import io.scalestack.controlplane.MemberStatus;
import io.scalestack.controlplane.Supervisor;
import java.io.IOException;
import java.net.CookieManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import io.scalestack.controlplane.ControlPlane;
import io.scalestack.observability.Telemetry;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The walking skeleton end to end: balancer + 3 web servers (separate JVMs) + real Redis + real
 * PostgreSQL, 100 logged-in users, steady GET traffic through the balancer, and a web server
 * killed with -9 in the middle of it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TopologySystemTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int USERS = 100;

  private final TestTopology topology = new TestTopology(3, false, 2);
  private Supervisor supervisor;
  private ControlPlane controlPlane;
  private String api;
  private final List<User> users = new ArrayList<>();

  record User(String username, long id, HttpClient client) {}

  @BeforeAll
  void bootTopology() throws Exception {
    supervisor = Supervisor.builder()
        .config(ConfigLoader.load(topology.configFile))
        .launcher(new JvmMemberLauncher())
        .build();
    supervisor.start();
    controlPlane = ControlPlane.start(supervisor, Telemetry.forMember("controlplane"), new InetSocketAddress("127.0.0.1", 0), () -> {});
    api = "http://127.0.0.1:" + controlPlane.address().getPort();
  }

  @AfterAll
  void stopTopology() {
    if (controlPlane != null) {
      controlPlane.close();
    }
    if (supervisor != null) {
      supervisor.close();
    }
  }

  @Test
  @Order(1)
  void killingAWebServerUnderLoadLosesNoSessionAndFailsNoRequest() throws Exception {
    assertThat(supervisor.members()).extracting(MemberStatus::name)
        .containsExactly("redis", "pg-primary", "pg-replica-1", "lb", "edge", "web-1", "web-2", "web-3", "worker-1",
            "worker-2");
    await().atMost(Duration.ofSeconds(20)).until(() -> supervisor.members().stream()
        .filter(m -> m.role().equals("web")).allMatch(m -> m.balancerState().equals("UP")));

    for (int i = 0; i < USERS; i++) {
      users.add(signUpAndLogIn("user" + i + "_" + System.nanoTime() % 100_000));
    }

    // Steady GET /api/me traffic from 8 clients, bounded in time, while web-2 is killed with -9.
    Map<String, LongAdder> servedBy = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    LongAdder requests = new LongAdder();
    AtomicBoolean running = new AtomicBoolean(true);
    AtomicLong afterRestart = new AtomicLong();
    AtomicBoolean restarted = new AtomicBoolean();
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<?>> loops = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      int offset = c;
      loops.add(clients.submit(() -> {
        int i = offset;
        while (running.get() && System.nanoTime() < deadline) {
          User user = users.get(i++ % USERS);
          try {
            HttpResponse<String> response = me(user);
            requests.increment();
            String server = response.headers().firstValue("X-Served-By").orElse("?");
            servedBy.computeIfAbsent(server, k -> new LongAdder()).increment();
            if (restarted.get() && server.equals("web-2")) {
              afterRestart.incrementAndGet();
            }
            if (response.statusCode() != 200 || !JSON.readTree(response.body()).path("username").asText().equals(user.username())) {
              failures.add(user.username() + ": " + response.statusCode() + " " + response.body());
            }
          } catch (IOException e) {
            failures.add(user.username() + ": " + e);
          }
        }
        return null;
      }));
    }

    await().atMost(Duration.ofSeconds(10)).until(() -> requests.sum() > 300);
    long pidBefore = pidOf("web-2");
    assertThat(supervisor.kill("web-2")).isTrue();

    // The supervisor restarts it and it rejoins the balancer, all while traffic flows.
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      MemberStatus web2 = status("web-2");
      return web2.state() == MemberStatus.MemberState.HEALTHY && web2.pid() != pidBefore
          && web2.restarts() == 1 && web2.balancerState().equals("UP");
    });
    restarted.set(true);
    await().atMost(Duration.ofSeconds(20)).until(() -> afterRestart.get() > 20);
    running.set(false);
    for (Future<?> loop : loops) {
      loop.get();
    }
    clients.shutdown();

    // The figures the acceptance note quotes.
    System.out.printf("system test: %d GETs through the balancer, %d failed, web-2 killed (pid %d) and restarted (pid %d); served by %s%n",
        requests.sum(), failures.size(), pidBefore, pidOf("web-2"), servedBy);
    assertThat(failures).as("failed GETs out of %d", requests.sum()).isEmpty();
    assertThat(servedBy.keySet()).contains("web-1", "web-2", "web-3");

    // 0 sessions lost: every user is still themselves, whichever server answers.
    for (User user : users) {
      HttpResponse<String> response = me(user);
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(JSON.readTree(response.body()).path("id").asLong()).isEqualTo(user.id());
    }
    System.out.printf("system test: %d of %d users still logged in as themselves after the kill%n", users.size(), USERS);

    // the profile reads reached the streaming replica once it had each user's login (the
    // consistency token in the session); web-1 was never killed, so its counters cover the run
    HttpResponse<String> metrics = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://" + status("web-1").address() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    Matcher replicaReads = Pattern.compile("(?m)^scalestack_data_reads_total\\{[^}]*served_by=\"replica\"[^}]*} ([0-9.E]+)$")
        .matcher(metrics.body());
    double fromReplica = 0;
    while (replicaReads.find()) {
      fromReplica += Double.parseDouble(replicaReads.group(1));
    }
    System.out.printf("system test: web-1 served %.0f profile reads from pg-replica-1%n", fromReplica);
    assertThat(fromReplica).isPositive();
  }

  @Test
  @Order(2)
  void scalingTheWebPoolRegistersNewServersAndDrainsRemovedOnesWithoutFailingRequests() throws Exception {
    User user = users.isEmpty() ? signUpAndLogIn("scaler_" + System.nanoTime() % 100_000) : users.get(0);
    HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> up = http.send(HttpRequest.newBuilder(URI.create(api + "/api/pools/web/scale"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"size\":4}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(up.statusCode()).as(up.body()).isEqualTo(200);
    assertThat(status("web-4").state()).isEqualTo(MemberStatus.MemberState.HEALTHY);
    await().atMost(Duration.ofSeconds(20)).until(() -> status("web-4").balancerState().equals("UP"));
    await().atMost(Duration.ofSeconds(20)).until(() ->
        me(user).headers().firstValue("X-Served-By").orElse("").equals("web-4"));

    // Scale down to 2 while a client keeps reading: drained members finish what they have.
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Thread reader = Thread.ofVirtual().start(() -> {
      while (running.get() && System.nanoTime() < deadline) {
        try {
          HttpResponse<String> response = me(user);
          if (response.statusCode() != 200) {
            failures.add(response.statusCode() + " " + response.body());
          }
        } catch (Exception e) {
          failures.add(e.toString());
        }
      }
    });
    HttpResponse<String> down = http.send(HttpRequest.newBuilder(URI.create(api + "/api/pools/web/scale"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"size\":2}")).build(), HttpResponse.BodyHandlers.ofString());
    running.set(false);
    reader.join();

    assertThat(down.statusCode()).as(down.body()).isEqualTo(200);
    assertThat(failures).isEmpty();
    assertThat(supervisor.members()).extracting(MemberStatus::name)
        .containsExactly("redis", "pg-primary", "pg-replica-1", "lb", "edge", "web-1", "web-2", "worker-1", "worker-2");
    assertThat(http.send(HttpRequest.newBuilder(URI.create(topology.adminUrl() + "/backends")).build(),
        HttpResponse.BodyHandlers.ofString()).body()).contains("web-1", "web-2").doesNotContain("web-3", "web-4");
  }

  @Test
  @Order(3)
  void controlApiRejectsBadRequestsWithThePreciseField() throws Exception {
    HttpClient http = HttpClient.newHttpClient();

    HttpResponse<String> tooBig = http.send(HttpRequest.newBuilder(URI.create(api + "/api/pools/web/scale"))
        .POST(HttpRequest.BodyPublishers.ofString("{\"size\":99}")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(tooBig.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(tooBig.body()).path("error").asText()).isEqualTo("size: 99 (expected: 1..8)");

    HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(api + "/api/members/web-9/kill"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);

    HttpResponse<String> members = http.send(HttpRequest.newBuilder(URI.create(api + "/api/members")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(JSON.readTree(members.body()).findValuesAsText("name")).contains("lb", "redis", "pg-primary", "web-1");

    // every web server answers the control plane's hot-keys question (nobody is hot here)
    JsonNode hot = api("/api/hot-keys");
    assertThat(hot.fieldNames()).toIterable().contains("web-1", "web-2");
  }

  @Test
  @Order(4)
  void killingThePostgresPrimaryPromotesTheReplicaAndNoAcknowledgedProfileWriteIsLost() throws Exception {
    List<User> writers = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      writers.add(i < users.size() ? users.get(i) : signUpAndLogIn("writer" + i + "_" + System.nanoTime() % 100_000));
    }
    Map<String, String> acknowledged = new ConcurrentHashMap<>();
    Map<String, Set<String>> unknown = new ConcurrentHashMap<>(); // answered with an error: may have committed
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    Map<String, LongAdder> servedAfterKill = new ConcurrentHashMap<>();
    AtomicLong killedAt = new AtomicLong();
    AtomicLong firstWriteAfterKill = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    LongAdder writes = new LongAdder();
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<?>> loops = new ArrayList<>();
    for (User user : writers) {
      loops.add(clients.submit(() -> {
        for (int i = 0; running.get() && System.nanoTime() < deadline; i++) {
          String value = "v" + i;
          long started = System.nanoTime();
          try {
            HttpResponse<String> response = user.client().send(HttpRequest.newBuilder(
                    URI.create(topology.balancerUrl() + "/api/me"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"displayName\":\"" + value + "\",\"bio\":\"\"}"))
                .build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() == 200) {
              acknowledged.put(user.username(), value);
              unknown.remove(user.username());
              writes.increment();
              long killed = killedAt.get();
              if (killed != 0 && started - killed > 0) { // sent after the primary was dead: answered by the new one
                firstWriteAfterKill.compareAndSet(0, System.nanoTime() - killed);
                servedAfterKill.computeIfAbsent(response.headers().firstValue("X-Served-By").orElse("?"),
                    k -> new LongAdder()).increment();
              }
            } else {
              failures.add(user.username() + " " + value + ": " + response.statusCode() + " " + response.body());
              unknown.computeIfAbsent(user.username(), k -> ConcurrentHashMap.newKeySet()).add(value);
            }
          } catch (IOException e) {
            failures.add(user.username() + " " + value + ": " + e);
            unknown.computeIfAbsent(user.username(), k -> ConcurrentHashMap.newKeySet()).add(value);
          }
        }
        return null;
      }));
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> writes.sum() > 100);

    assertThat(supervisor.kill("pg-primary")).isTrue(); // returns once the postmaster and its backends are gone
    killedAt.set(System.nanoTime());
    await().atMost(Duration.ofSeconds(30)).until(() -> api("/api/failovers").size() == 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> firstWriteAfterKill.get() != 0);
    // both web servers write to the new primary: the topology reached each of them
    await().atMost(Duration.ofSeconds(20)).until(() -> servedAfterKill.keySet().containsAll(List.of("web-1", "web-2")));
    // the old primary's member comes back, as a replica of the new one
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      for (JsonNode member : api("/api/members")) {
        if (member.path("name").asText().equals("pg-primary")) {
          return member.path("state").asText().equals("HEALTHY")
              && member.path("database").path("role").asText().equals("replica")
              && member.path("database").path("walReceiver").asText().equals("streaming");
        }
      }
      return false;
    });
    running.set(false);
    for (Future<?> loop : loops) {
      loop.get();
    }
    clients.shutdown();

    JsonNode event = api("/api/failovers").get(0);
    System.out.printf("system test: pg-primary killed under %d profile writers; %s promoted in %d ms, first"
        + " acknowledged write %d ms after the kill, %d writes acknowledged, %d failed: %s; served after the kill by %s%n",
        writers.size(), event.path("newPrimary").asText(), event.path("promotedMillis").asLong(),
        TimeUnit.NANOSECONDS.toMillis(firstWriteAfterKill.get()), writes.sum(), failures.size(), failures, servedAfterKill);
    assertThat(event.path("oldPrimary").asText()).isEqualTo("pg-primary");
    assertThat(event.path("newPrimary").asText()).isEqualTo("pg-replica-1");
    // only a write in flight at the kill may fail (its COMMIT's outcome is unknown): one per writer at most
    assertThat(failures).hasSizeLessThanOrEqualTo(writers.size());

    // every acknowledged write is there (or a later one whose answer was an error but which committed)
    for (User user : writers) {
      HttpResponse<String> me = me(user);
      assertThat(me.statusCode()).isEqualTo(200);
      String displayName = JSON.readTree(me.body()).path("displayName").asText();
      Set<String> allowed = new java.util.HashSet<>(unknown.getOrDefault(user.username(), Set.of()));
      allowed.add(acknowledged.get(user.username()));
      assertThat(displayName).as(user.username()).isIn(allowed);
    }
  }

  @Test
  @Order(5)
  void reshardingTwoToFourUnderSignUpsAndProfileWritesLosesNothingAndEveryoneLogsInAfterwards() throws Exception {
    Map<String, String> acknowledged = new ConcurrentHashMap<>(); // username -> last acknowledged display name
    Map<String, Set<String>> unknown = new ConcurrentHashMap<>();
    Map<String, Long> ids = new ConcurrentHashMap<>();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    AtomicBoolean running = new AtomicBoolean(true);
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
    List<Future<?>> loops = new ArrayList<>();
    for (int c = 0; c < 4; c++) {
      int client = c;
      loops.add(clients.submit(() -> {
        for (int u = 0; running.get() && System.nanoTime() < deadline; u++) {
          String username = "rs" + client + "_" + u + "_" + System.nanoTime() % 100_000;
          HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
          HttpResponse<String> signup = post(http, "/api/signup", "{\"username\":\"" + username
              + "\",\"password\":\"correct horse battery\",\"displayName\":\"d0\"}");
          if (signup.statusCode() != 201) {
            failures.add("signup " + signup.statusCode() + " " + signup.body());
            continue;
          }
          ids.put(username, JSON.readTree(signup.body()).path("id").asLong());
          acknowledged.put(username, "d0");
          HttpResponse<String> login = post(http, "/api/login",
              "{\"username\":\"" + username + "\",\"password\":\"correct horse battery\"}");
          if (login.statusCode() != 200) {
            failures.add("login " + login.statusCode() + " " + login.body());
            continue;
          }
          for (int w = 1; w <= 3 && running.get(); w++) {
            String name = "d" + w;
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(topology.balancerUrl() + "/api/me"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"displayName\":\"" + name + "\",\"bio\":\"\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
            if (put.statusCode() == 200) {
              acknowledged.put(username, name);
            } else {
              failures.add("PUT " + put.statusCode() + " " + put.body());
              unknown.computeIfAbsent(username, k -> ConcurrentHashMap.newKeySet()).add(name);
            }
          }
        }
        return null;
      }));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> acknowledged.size() > 40);

    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    int code = Main.run(new java.io.PrintWriter(out, true), new java.io.PrintWriter(err, true),
        "reshard", "--to", "4", "--api", api, "-c", topology.configFile.toString());
    Thread.sleep(1000); // writes on the new map
    running.set(false);
    for (Future<?> loop : loops) {
      loop.get();
    }
    clients.shutdown();
    assertThat(code).as(out + "\n" + err).isZero();
    String done = out.toString().lines().filter(line -> line.startsWith("reshard: done")).findFirst().orElseThrow();
    System.out.printf("system test: %s; %d users signed up during the run, %d requests failed %s%n", done,
        acknowledged.size(), failures.size(), failures);
    assertThat(failures).isEmpty();

    // every row once, on the shard map 2 names for it (0 lost, 0 duplicated)
    String primary = null;
    for (JsonNode member : api("/api/members")) {
      if (member.path("database").path("role").asText().equals("primary")) {
        primary = member.path("address").asText();
      }
    }
    Map<Long, List<Integer>> where = new java.util.HashMap<>();
    List<String> shards = List.of("scalestack", "scalestack_s1", "scalestack_s2", "scalestack_s3");
    for (int shard = 0; shard < shards.size(); shard++) {
      try (var connection = java.sql.DriverManager.getConnection("jdbc:postgresql://" + primary + "/" + shards.get(shard),
          "scalestack", "scalestack");
          var statement = connection.createStatement();
          var rows = statement.executeQuery("SELECT id FROM users")) {
        while (rows.next()) {
          where.computeIfAbsent(rows.getLong(1), k -> new ArrayList<>()).add(shard);
        }
      }
    }
    for (Map.Entry<String, Long> user : ids.entrySet()) {
      assertThat(where.get(user.getValue())).as(user.getKey())
          .containsExactly(io.scalestack.data.ShardFunction.CONSISTENT.shardOf(user.getValue(), 4));
    }
    // and every user logs in and finds their last acknowledged profile
    for (Map.Entry<String, String> user : acknowledged.entrySet()) {
      HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager()).build();
      HttpResponse<String> login = post(http, "/api/login",
          "{\"username\":\"" + user.getKey() + "\",\"password\":\"correct horse battery\"}");
      assertThat(login.statusCode()).as(user.getKey() + " " + login.body()).isEqualTo(200);
      Set<String> allowed = new java.util.HashSet<>(unknown.getOrDefault(user.getKey(), Set.of()));
      allowed.add(user.getValue());
      assertThat(JSON.readTree(login.body()).path("displayName").asText()).as(user.getKey()).isIn(allowed);
    }
  }

  @Test
  @Order(6)
  void photoEditsRunOnTheWorkerPoolAndAKilledWorkerLosesNoJob() throws Exception {
    User user = signUpAndLogIn("photos_" + System.nanoTime() % 100_000);
    byte[] rgb = new byte[3 * 1500 * 1000];
    new java.util.Random(7).nextBytes(rgb);
    byte[] png = io.scalestack.imaging.ImageCodec.defaults().encodePng(
        io.scalestack.imaging.RgbImage.ofInterleaved(1500, 1000, rgb));
    HttpResponse<String> uploaded = user.client().send(HttpRequest.newBuilder(URI.create(topology.balancerUrl() + "/api/photos"))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(png)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(uploaded.statusCode()).as(uploaded.body()).isEqualTo(201);
    String photo = JSON.readTree(uploaded.body()).path("id").asText();

    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      HttpResponse<String> edit = post(user.client(), "/api/photos/" + photo + "/edits",
          "{\"ops\":[{\"op\":\"blur\",\"sigma\":" + (2 + i % 4) + "},{\"op\":\"resize\",\"w\":300,\"h\":200}]}");
      assertThat(edit.statusCode()).as(edit.body()).isEqualTo(202);
      jobs.add(JSON.readTree(edit.body()).path("jobId").asText());
    }
    // kill -9 a worker while the pool works through them: its job's lease runs out, another takes it
    await().atMost(Duration.ofSeconds(20)).until(() -> jobs.stream().anyMatch(id -> job(user, id).path("state").asText()
        .equals("done")));
    assertThat(supervisor.kill("worker-1")).isTrue();

    await().atMost(Duration.ofSeconds(90)).until(() -> jobs.stream().allMatch(id -> job(user, id).path("state").asText()
        .equals("done")));
    int retried = 0;
    for (String id : jobs) {
      JsonNode job = job(user, id);
      retried += job.path("attempts").asInt() > 1 ? 1 : 0;
      HttpResponse<byte[]> result = user.client().send(HttpRequest.newBuilder(
          URI.create(topology.balancerUrl() + "/api/photos/" + job.path("resultPhotoId").asText())).build(),
          HttpResponse.BodyHandlers.ofByteArray());
      assertThat(result.statusCode()).isEqualTo(200);
      assertThat(io.scalestack.imaging.ImageCodec.defaults().inspect(result.body()).width()).isEqualTo(300);
    }
    System.out.printf("system test: 30 photo edits, worker-1 killed mid-stream: all done, %d taken again after the kill%n",
        retried);

    // the photo's public URL is at the CDN edge, which pulls it from the balancer once and then
    // serves it itself (immutable); the page's fingerprinted script too
    String url = JSON.readTree(uploaded.body()).path("url").asText();
    assertThat(url).isEqualTo(topology.edgeUrl() + "/api/photos/" + photo);
    HttpClient anonymous = HttpClient.newHttpClient();
    HttpResponse<byte[]> first = anonymous.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    HttpResponse<byte[]> second = anonymous.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).isEqualTo(png);
    assertThat(second.body()).isEqualTo(png);
    assertThat(second.headers().firstValue("X-Cache")).hasValue("HIT");
    String page = anonymous.send(HttpRequest.newBuilder(URI.create(topology.balancerUrl() + "/")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Matcher script = Pattern.compile("src=\"(" + Pattern.quote(topology.edgeUrl()) + "/static/app\\.[0-9a-f]{10}\\.js)\"")
        .matcher(page);
    assertThat(script.find()).as(page).isTrue();
    anonymous.send(HttpRequest.newBuilder(URI.create(script.group(1))).build(), HttpResponse.BodyHandlers.discarding());
    HttpResponse<String> cachedScript = anonymous.send(HttpRequest.newBuilder(URI.create(script.group(1))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(cachedScript.statusCode()).isEqualTo(200);
    assertThat(cachedScript.headers().firstValue("X-Cache")).hasValue("HIT");
    // purged through the control API (which holds the edge's token): the next request goes to the origin
    HttpResponse<String> purged = anonymous.send(HttpRequest.newBuilder(URI.create(api + "/api/edge/purge?url="
        + java.net.URLEncoder.encode("/api/photos/" + photo, java.nio.charset.StandardCharsets.UTF_8)))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(purged.statusCode()).as(purged.body()).isEqualTo(200);
    HttpResponse<byte[]> afterPurge = anonymous.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(afterPurge.headers().firstValue("X-Cache")).hasValue("MISS");
    assertThat(afterPurge.body()).isEqualTo(png);
    await().atMost(Duration.ofSeconds(60)).until(() -> status("worker-1").state() == MemberStatus.MemberState.HEALTHY);

    // the worker pool scales on its own, without the balancer
    supervisor.scale("worker", 3);
    assertThat(status("worker-3").state()).isEqualTo(MemberStatus.MemberState.HEALTHY);
    supervisor.scale("worker", 2);
    assertThat(supervisor.members()).extracting(MemberStatus::name).doesNotContain("worker-3");
  }

  private JsonNode job(User user, String id) {
    try {
      return JSON.readTree(user.client().send(HttpRequest.newBuilder(URI.create(topology.balancerUrl() + "/api/jobs/" + id))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private JsonNode api(String path) throws Exception {
    return JSON.readTree(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api + path)).build(),
        HttpResponse.BodyHandlers.ofString()).body());
  }

  private User signUpAndLogIn(String username) throws Exception {
    HttpClient client = HttpClient.newBuilder().cookieHandler(new CookieManager()).connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> signup = post(client, "/api/signup",
        "{\"username\":\"" + username + "\",\"password\":\"correct horse battery\",\"displayName\":\"" + username + "\"}");
    assertThat(signup.statusCode()).as(signup.body()).isEqualTo(201);
    HttpResponse<String> login = post(client, "/api/login",
        "{\"username\":\"" + username + "\",\"password\":\"correct horse battery\"}");
    assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
    return new User(username, JSON.readTree(signup.body()).path("id").asLong(), client);
  }

  private HttpResponse<String> post(HttpClient client, String path, String body) throws Exception {
    return client.send(HttpRequest.newBuilder(URI.create(topology.balancerUrl() + path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> me(User user) throws IOException, InterruptedException {
    return user.client().send(HttpRequest.newBuilder(URI.create(topology.balancerUrl() + "/api/me"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private MemberStatus status(String name) {
    return supervisor.members().stream().filter(m -> m.name().equals(name)).findFirst().orElseThrow();
  }

  private long pidOf(String name) {
    return status(name).pid();
  }

}
