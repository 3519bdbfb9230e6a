// benchmarks/cache/CacheBench.java: database loads/s under a Zipfian read load, with and without
// scalestack's cache tier; run by benchmarks/cache/run.sh with the cache module's class path.
// Starts its own PostgreSQL and Redis (the engines scalestack embeds) in --dir, fills a table of
// --keys rows (id, a 192-byte payload), then runs each mode for --seconds after a warm-up:
//   direct  every read is a SELECT by primary key (a pool of --threads connections);
//   cache   the reads go through --servers TieredCache instances (each its own L1 and Redis
//           connections, as three web servers would have), the SELECT being the loader.
// Reader threads (--threads, spread over the servers) pick keys from a Zipf distribution of
// exponent --zipf over the --keys ids (rank 1 hottest). Prints one RESULT line per mode.
//
// --ttl sets the caches' TTL in seconds (default 300; the L1 TTL is the smaller of 30 s and it).
//
//   java -cp ... CacheBench.java --keys 100000 --zipf 1.0 --threads 8 --seconds 20 --servers 3 --dir /tmp/x

import ch.qos.logback.classic.Level;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.scalestack.cache.CacheCodec;
import io.scalestack.cache.Loader;
import io.scalestack.cache.TieredCache;
import io.scalestack.engines.PostgresServer;
import io.scalestack.engines.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.LoggerFactory;

public class CacheBench {

  public static void main(String[] args) throws Exception {
    int keys = 100_000;
    double zipf = 1.0;
    int threads = 8;
    int seconds = 20;
    int warmup = 3;
    int servers = 3;
    int l1Entries = 10_000;
    int ttl = 300;
    List<String> modes = List.of("direct", "cache");
    Path dir = null;
    for (int i = 0; i < args.length; i += 2) {
      String value = args[i + 1];
      switch (args[i]) {
        case "--keys" -> keys = Integer.parseInt(value);
        case "--zipf" -> zipf = Double.parseDouble(value);
        case "--threads" -> threads = Integer.parseInt(value);
        case "--seconds" -> seconds = Integer.parseInt(value);
        case "--warmup" -> warmup = Integer.parseInt(value);
        case "--servers" -> servers = Integer.parseInt(value);
        case "--l1-entries" -> l1Entries = Integer.parseInt(value);
        case "--ttl" -> ttl = Integer.parseInt(value);
        case "--modes" -> modes = Arrays.asList(value.trim().split("\\s+"));
        case "--dir" -> dir = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag: " + args[i]);
      }
    }
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.WARN);
    if (dir == null) {
      dir = Files.createTempDirectory("cache-bench-");
    }
    double[] cdf = zipfCdf(keys, zipf);
    try (PostgresServer postgres = PostgresServer.builder().port(0).dataDirectory(dir.resolve("postgres"))
            .engineCache(dir.resolve("engines")).build().start();
        RedisServer redis = RedisServer.builder().port(0).dataDirectory(dir.resolve("redis"))
            .engineCache(dir.resolve("engines")).build().start()) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(postgres.jdbcUrl());
      config.setUsername(postgres.user());
      config.setPassword(postgres.password());
      config.setMaximumPoolSize(threads);
      try (HikariDataSource pool = new HikariDataSource(config)) {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
          s.execute("DROP TABLE IF EXISTS items");
          s.execute("CREATE TABLE items (id int PRIMARY KEY, payload text NOT NULL)");
          s.execute("INSERT INTO items SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, " + keys + ") g");
          s.execute("VACUUM ANALYZE items");
        }
        for (String mode : modes) {
          LongAdder dbLoads = new LongAdder();
          LongAdder hottestLoads = new LongAdder();
          Loader<String> select = key -> {
            dbLoads.increment();
            if (key.equals("1")) {
              hottestLoads.increment();
            }
            try (Connection c = pool.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT payload FROM items WHERE id = ?")) {
              s.setInt(1, Integer.parseInt(key));
              try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getString(1) : null;
              }
            }
          };
          switch (mode) {
            case "direct" -> {
              List<Reader> readers = new ArrayList<>();
              for (int t = 0; t < threads; t++) {
                readers.add(key -> select.load(key));
              }
              run(mode, readers, cdf, warmup, seconds, dbLoads, hottestLoads, List.of(), servers);
            }
            case "cache" -> {
              List<TieredCache<String>> caches = new ArrayList<>();
              List<SimpleMeterRegistry> registries = new ArrayList<>();
              for (int s = 0; s < servers; s++) {
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                registries.add(registry);
                caches.add(TieredCache.builder(CacheCodec.utf8()).name("items").redis(redis.uri())
                    .ttl(Duration.ofSeconds(ttl)).l1Ttl(Duration.ofSeconds(Math.min(30, ttl))).l1MaxEntries(l1Entries)
                    .meterRegistry(registry).build());
              }
              List<Reader> readers = new ArrayList<>();
              for (int t = 0; t < threads; t++) {
                TieredCache<String> cache = caches.get(t % servers);
                readers.add(key -> cache.get(key, select));
              }
              try {
                run(mode, readers, cdf, warmup, seconds, dbLoads, hottestLoads, registries, servers);
              } finally {
                caches.forEach(TieredCache::close);
              }
            }
            default -> throw new IllegalArgumentException("mode: " + mode + " (expected: direct or cache)");
          }
        }
      }
    }
  }

  interface Reader {
    String read(String key) throws Exception;
  }

  /** P(rank <= k) for ranks 1..n with P(k) proportional to 1 / k^s. */
  static double[] zipfCdf(int n, double s) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int k = 1; k <= n; k++) {
      sum += 1.0 / Math.pow(k, s);
      cdf[k - 1] = sum;
    }
    for (int k = 0; k < n; k++) {
      cdf[k] /= sum;
    }
    return cdf;
  }

  static int sample(double[] cdf, SplittableRandom random) {
    int index = Arrays.binarySearch(cdf, random.nextDouble());
    return (index >= 0 ? index : -index - 1) + 1;
  }

  static void run(String mode, List<Reader> readers, double[] cdf, int warmup, int seconds, LongAdder dbLoads,
      LongAdder hottestLoads, List<SimpleMeterRegistry> registries, int servers) throws Exception {
    long warmEnd = System.nanoTime() + warmup * 1_000_000_000L;
    long end = warmEnd + seconds * 1_000_000_000L;
    long[][] latencies = new long[readers.size()][];
    int[] counts = new int[readers.size()];
    double[] loadsAtStart = new double[1];
    double[][] countersAtStart = new double[1][];
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < readers.size(); t++) {
      int index = t;
      Reader reader = readers.get(t);
      threads.add(Thread.ofPlatform().name("reader-" + t).start(() -> {
        SplittableRandom random = new SplittableRandom(index * 7919L + 17);
        long[] mine = new long[1 << 16];
        int n = 0;
        try {
          long now = System.nanoTime();
          while (now < end) {
            String key = Integer.toString(sample(cdf, random));
            long started = System.nanoTime();
            if (reader.read(key) == null) {
              throw new IllegalStateException("no row for " + key);
            }
            now = System.nanoTime();
            if (started >= warmEnd) {
              if (n == mine.length) {
                mine = Arrays.copyOf(mine, n * 2);
              }
              mine[n++] = now - started;
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
        latencies[index] = mine;
        counts[index] = n;
      }));
    }
    Thread.sleep(Math.max(0, (warmEnd - System.nanoTime()) / 1_000_000));
    loadsAtStart[0] = dbLoads.sum();
    long hottestAtStart = hottestLoads.sum();
    countersAtStart[0] = counters(registries);
    for (Thread thread : threads) {
      thread.join();
    }
    double loads = dbLoads.sum() - loadsAtStart[0];
    double hottest = hottestLoads.sum() - hottestAtStart;
    double[] counters = counters(registries);
    for (int i = 0; i < counters.length; i++) {
      counters[i] -= countersAtStart[0][i];
    }
    int total = Arrays.stream(counts).sum();
    long[] all = new long[total];
    int at = 0;
    for (int t = 0; t < readers.size(); t++) {
      System.arraycopy(latencies[t], 0, all, at, counts[t]);
      at += counts[t];
    }
    Arrays.sort(all);
    double l1Hits = counters[0];
    double l1Misses = counters[1];
    double l2Hits = counters[2];
    double l2Misses = counters[3];
    String ratios = registries.isEmpty() ? " l1HitRatio=- l2HitRatio=- leaseWaits=- staleServed=-"
        : String.format(" l1HitRatio=%.4f l2HitRatio=%.4f leaseWaits=%.0f staleServed=%.0f", l1Hits / (l1Hits + l1Misses),
            l2Hits / (l2Hits + l2Misses), counters[4], counters[5]);
    System.out.printf("RESULT mode=%s servers=%s threads=%d keys=%d seconds=%d requests=%d requestsPerSecond=%.0f"
        + " dbLoadsPerSecond=%.0f hottestKeyLoadsPerSecond=%.2f hitRatio=%s%s p50Micros=%.0f p99Micros=%.0f%n", mode,
        registries.isEmpty() ? "-" : Integer.toString(servers), readers.size(), cdf.length, seconds, total,
        total / (double) seconds, loads / seconds, hottest / seconds,
        registries.isEmpty() ? "-" : String.format("%.4f", 1 - loads / total), ratios, all[total / 2] / 1e3,
        all[(int) (total * 0.99)] / 1e3);
  }

  /** l1 hits, l1 misses, l2 hits, l2 misses, lease waits, stale served over every server. */
  static double[] counters(List<SimpleMeterRegistry> registries) {
    double[] sums = new double[6];
    String[][] tags = {{"l1", "hit"}, {"l1", "miss"}, {"l2", "hit"}, {"l2", "miss"}};
    for (SimpleMeterRegistry registry : registries) {
      for (int i = 0; i < 4; i++) {
        sums[i] += registry.get("scalestack_cache_requests").tag("tier", tags[i][0]).tag("result", tags[i][1])
            .counter().count();
      }
      sums[4] += registry.get("scalestack_cache_lease_waits").counter().count();
      sums[5] += registry.get("scalestack_cache_stale_served").counter().count();
    }
    return sums;
  }
}
