package io.scalestack.cli;

import io.scalestack.data.ShardFunction;
import io.scalestack.data.SnowflakeIds;
import io.scalestack.engines.PostgresServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.postgresql.PGConnection;

/**
 * {@code scalestack experiment sharding}: the seeds' {@code user_id % K} against jump consistent
 * hashing, on real rows. Users get Snowflake ids from four workers (as four web servers would make
 * them); for each function and each shard count, every user is written (COPY) into the table of its
 * shard, one schema per layout ({@code modulo_4.shard_0 …}) in a PostgreSQL this experiment starts.
 * Then it counts, with SQL over those rows, how many rows each shard holds and, for each resharding
 * K → K', how many rows are not in the same-numbered shard afterwards: the rows a resharding moves.
 *
 * <p>Not thread-safe; one run at a time.
 */
final class ShardingExperiment {

  static final List<ShardFunction> FUNCTIONS = List.of(ShardFunction.MODULO, ShardFunction.CONSISTENT);

  /** One layout's rows per shard. */
  record Balance(String function, int shards, List<Long> rows) {
    long min() {
      return rows.stream().mapToLong(Long::longValue).min().orElse(0);
    }

    long max() {
      return rows.stream().mapToLong(Long::longValue).max().orElse(0);
    }

    double maxOverMean() {
      double mean = rows.stream().mapToLong(Long::longValue).sum() / (double) shards;
      return mean == 0 ? 0 : max() / mean;
    }
  }

  /** The measured fraction of rows that one resharding moves, per function. */
  record Move(int from, int to, Map<String, Double> moved) {}

  record Result(int users, List<Balance> balances, List<Move> moves) {}

  private final int users;
  private final int from;
  private final List<Integer> targets;
  private final PrintWriter log;

  ShardingExperiment(int users, int from, List<Integer> targets, PrintWriter log) {
    this.users = users;
    this.from = from;
    this.targets = List.copyOf(targets);
    this.log = log;
  }

  Result run() throws IOException, SQLException {
    Path home = Files.createTempDirectory("scalestack-sharding-");
    Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxr-xr-x")); // PostgreSQL may run as nobody
    Path engines = Path.of(System.getProperty("java.io.tmpdir"), "scalestack-engines");
    log.println("sharding: starting PostgreSQL in " + home + " …");
    try (PostgresServer postgres = PostgresServer.builder().port(0).dataDirectory(home.resolve("postgres"))
        .engineCache(engines).build().start();
        Connection connection = DriverManager.getConnection(postgres.jdbcUrl(), postgres.user(), postgres.password())) {
      return measure(connection);
    } finally {
      deleteQuietly(home);
    }
  }

  private Result measure(Connection connection) throws SQLException, IOException {
    long[] ids = ids();
    TreeSet<Integer> counts = new TreeSet<>(targets);
    counts.add(from);
    List<Balance> balances = new ArrayList<>();
    try (Statement statement = connection.createStatement()) {
      for (ShardFunction function : FUNCTIONS) {
        for (int shards : counts) {
          String schema = function.name() + "_" + shards;
          statement.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
          statement.execute("CREATE SCHEMA " + schema);
          StringBuilder[] rows = new StringBuilder[shards];
          for (int s = 0; s < shards; s++) {
            statement.execute("CREATE TABLE " + schema + ".shard_" + s + " (id bigint PRIMARY KEY, username text NOT NULL)");
            rows[s] = new StringBuilder();
          }
          for (long id : ids) {
            rows[function.shardOf(id, shards)].append(id).append('\t').append("user").append(id).append('\n');
          }
          List<Long> perShard = new ArrayList<>();
          for (int s = 0; s < shards; s++) {
            connection.unwrap(PGConnection.class).getCopyAPI()
                .copyIn("COPY " + schema + ".shard_" + s + " (id, username) FROM STDIN", new StringReader(rows[s].toString()));
            perShard.add(count(statement, "SELECT count(*) FROM " + schema + ".shard_" + s));
          }
          balances.add(new Balance(function.name(), shards, List.copyOf(perShard)));
          log.println("sharding: " + schema + " written: " + perShard + " rows per shard");
        }
      }
      List<Move> moves = new ArrayList<>();
      for (int to : targets) {
        Map<String, Double> moved = new LinkedHashMap<>();
        for (ShardFunction function : FUNCTIONS) {
          long rowsMoved = 0;
          for (int s = 0; s < from; s++) {
            // a row moves unless the shard with the same number holds it after the resharding
            String before = function.name() + "_" + from + ".shard_" + s;
            rowsMoved += s < to
                ? count(statement, "SELECT count(*) FROM " + before + " a WHERE NOT EXISTS (SELECT 1 FROM "
                    + function.name() + "_" + to + ".shard_" + s + " b WHERE b.id = a.id)")
                : count(statement, "SELECT count(*) FROM " + before);
          }
          moved.put(function.name(), (double) rowsMoved / users);
        }
        moves.add(new Move(from, to, moved));
      }
      for (ShardFunction function : FUNCTIONS) {
        for (int shards : counts) {
          statement.execute("DROP SCHEMA " + function.name() + "_" + shards + " CASCADE");
        }
      }
      return new Result(users, balances, moves);
    }
  }

  /** Snowflake ids from four workers, a few per millisecond each, as web servers would make them. */
  private long[] ids() {
    long[] ids = new long[users];
    SplittableRandom random = new SplittableRandom(20261206);
    long[] now = {System.currentTimeMillis() - users}; // a past stretch of time: ids as they were made then
    java.time.Clock clock = new java.time.Clock() {
      @Override
      public java.time.ZoneId getZone() {
        return java.time.ZoneOffset.UTC;
      }

      @Override
      public java.time.Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public java.time.Instant instant() {
        return java.time.Instant.ofEpochMilli(now[0]);
      }
    };
    SnowflakeIds[] workers = new SnowflakeIds[4];
    for (int w = 0; w < workers.length; w++) {
      workers[w] = SnowflakeIds.builder().workerId(w + 1).clock(clock).build();
    }
    for (int i = 0; i < users; i++) {
      if (random.nextInt(2) == 0) {
        now[0]++;
      }
      ids[i] = workers[random.nextInt(workers.length)].next();
    }
    return ids;
  }

  private static long count(Statement statement, String sql) throws SQLException {
    try (ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  /** What modulo moves from {@code k} to {@code k2} shards for evenly spread keys: residues over lcm(k, k2). */
  static double expectedModulo(int k, int k2) {
    int lcm = k / gcd(k, k2) * k2;
    int stay = 0;
    for (int r = 0; r < lcm; r++) {
      if (r % k == r % k2) {
        stay++;
      }
    }
    return 1 - (double) stay / lcm;
  }

  /** The fewest keys any function must move from {@code k} to {@code k2} shards, evenly spread: |k2 - k| / max. */
  static double optimal(int k, int k2) {
    return (double) Math.abs(k2 - k) / Math.max(k, k2);
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }

  static void print(Result result, PrintWriter out) {
    out.printf(Locale.ROOT, "%nSharding %,d users (Snowflake ids from 4 workers) over PostgreSQL tables, one per shard:%n%n",
        result.users());
    out.printf(Locale.ROOT, "%-12s %7s %12s %12s %10s%n", "FUNCTION", "SHARDS", "MIN ROWS", "MAX ROWS", "MAX/MEAN");
    for (Balance balance : result.balances()) {
      out.printf(Locale.ROOT, "%-12s %7d %,12d %,12d %10.3f%n", balance.function(), balance.shards(), balance.min(),
          balance.max(), balance.maxOverMean());
    }
    out.printf(Locale.ROOT, "%n%-10s %14s %16s %18s %16s%n", "RESHARDING", "MODULO MOVED", "CONSISTENT MOVED",
        "MODULO EXPECTED", "FEWEST POSSIBLE");
    for (Move move : result.moves()) {
      out.printf(Locale.ROOT, "%-10s %13.1f%% %15.1f%% %17.1f%% %15.1f%%%n", move.from() + " -> " + move.to(),
          100 * move.moved().get("modulo"), 100 * move.moved().get("consistent"),
          100 * expectedModulo(move.from(), move.to()), 100 * optimal(move.from(), move.to()));
    }
    out.println();
    out.println("MOVED: rows not in the same-numbered shard after the resharding, counted with SQL over the rows.");
    out.println("Adding one shard to K, modulo moves about K/(K+1) of all rows; jump consistent hash moves only the rows");
    out.println("that belong on the new shard, 1/(K+1), the fewest possible.");
    out.flush();
  }

  private void deleteQuietly(Path home) {
    try (var paths = Files.walk(home)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(path -> {
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          log.println("sharding: cannot delete " + path + ": " + e);
        }
      });
    } catch (IOException e) {
      log.println("sharding: cannot delete " + home + ": " + e);
    }
  }
}
