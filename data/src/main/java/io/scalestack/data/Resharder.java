package io.scalestack.data;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Online resharding: moves users from the shards of the current {@link ShardMap} (version N) to
 * those of the next (N+1) while writes go on, with a write pause of tens of milliseconds.
 *
 * <p>Every step is recorded in the catalog (table {@code reshard_job}) before the next starts, and
 * every step is idempotent, so a coordinator that dies at any point is simply run again and
 * resumes where the record says:
 *
 * <ol>
 *   <li>{@code PLANNED}: the job and its target shards are recorded.
 *   <li>{@code CAPTURING}: on every old shard, a trigger records the id of every user row written
 *       from now on (table {@code reshard_changes}): change capture, so nothing written during the
 *       copy is missed.
 *   <li>{@code COPIED}: the rows of every user whose shard changes are copied (upserted) to their
 *       new shard; a new shard's group comes from the caller's provisioner (database, schema).
 *   <li>{@code CAUGHT_UP}: the captured changes are applied (each id: its current row on the old
 *       shard is upserted on the new one, or deleted there if gone) until a pass finds few.
 *   <li>{@code VERIFIED}: a row-level diff of every moving user, old shard against new; mismatches
 *       are applied again once, then must be gone.
 *   <li>{@code CUT_OVER}: the pause. A fence trigger on every old shard refuses writes routed by a
 *       map older than N+1 (SQLSTATE {@value ShardedGroups#FENCED}; {@link ShardedGroups#write}
 *       waits for the new map and retries), the last changes are applied and checked, and map N+1 is
 *       published (a compare-and-set on its version). Writes can never switch before the new shards
 *       have every row, and no user is writable in two places: the old shard refuses old-map
 *       writers from the fence on, forever.
 *   <li>{@code CLEANED}: after {@code settle} (so that servers still reading by map N have switched),
 *       the moved rows are deleted from their old shards and the capture trigger removed.
 * </ol>
 *
 * <p>Before {@code CUT_OVER} nothing a reader or writer uses has changed, so an abandoned job costs
 * only the copies. Tables moved: {@code tables}, each with a {@code user_id}-like column naming the
 * owner and a primary key; every row of a user moves with the user. Not thread-safe: one coordinator
 * at a time (the job row is the record, not a lock).
 */
public final class Resharder {

  /** The recorded steps, in order. */
  public enum Step { PLANNED, CAPTURING, COPIED, CAUGHT_UP, VERIFIED, CUT_OVER, CLEANED }

  /** A table whose rows belong to a user: its name, the owner column and the primary-key column. */
  public record MovedTable(String name, String ownerColumn, String keyColumn) {
    public MovedTable {
      for (String identifier : List.of(name, ownerColumn, keyColumn)) {
        if (!identifier.matches("[a-z_][a-z0-9_]{0,62}")) {
          throw new IllegalArgumentException("table: '" + identifier + "' (expected: a lower-case SQL identifier)");
        }
      }
    }
  }

  /** What a finished resharding did. */
  public record Result(ShardMap from, ShardMap to, long movedRows, long appliedChanges, Duration writePause) {}

  /** Thrown by the test hook after a step is recorded, as a coordinator killed there would stop. */
  public static final class Crash extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Crash(Step step) {
      super("coordinator stopped after " + step);
    }
  }

  private static final int QUIET_CHANGES = 50;

  /**
   * How far the changes of one old shard have been read: every change with a sequence number up to
   * {@code seq} that had committed, and nothing of the transactions from {@code xmin} on (the
   * oldest transaction still running at that read), which the next read looks at again.
   */
  private record Position(long seq, long xmin) {
    static final Position START = new Position(0, 0);
  }
  private static final int MAX_CATCH_UP_PASSES = 100;

  private final ShardCatalog catalog;
  private final ReplicationGroup catalogGroup;
  private final Function<String, ReplicationGroup> groups;
  private final List<MovedTable> tables;
  private final Duration settle;
  private final Consumer<String> progress;
  private final Step crashAfter;

  private Resharder(Builder builder) {
    this.catalog = builder.catalog;
    this.catalogGroup = builder.catalogGroup;
    this.groups = builder.groups;
    this.tables = List.copyOf(builder.tables);
    this.settle = builder.settle;
    this.progress = builder.progress;
    this.crashAfter = builder.crashAfter;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Reshards to {@code targetShards} (the old shards keep their names and numbers; new ones come
   * after), or resumes the unfinished job if there is one (whose target then wins).
   */
  public Result run(List<String> targetShards) throws SQLException {
    ensureJobTable();
    Job job = unfinishedJob().orElse(null);
    if (job == null) {
      ShardMap from = catalog.current().orElseThrow(() -> new IllegalStateException("catalog: no shard map yet"));
      ShardMap to = from.reshardedTo(targetShards);
      job = createJob(from, to);
      progress.accept("planned: map " + from.version() + " " + from.shards() + " -> map " + to.version() + " " + to.shards());
      record(job, Step.PLANNED);
    } else {
      progress.accept("resuming the job of map " + job.from.version() + " -> " + job.to.version() + " after " + job.step);
    }
    Set<String> old = new HashSet<>(job.from.shards());
    long moved = 0;
    long applied = 0;
    Duration pause = job.pause;
    if (job.step.compareTo(Step.CAPTURING) < 0) {
      for (String shard : job.from.shards()) {
        installCapture(groups.apply(shard));
      }
      record(job, Step.CAPTURING);
    }
    if (job.step.compareTo(Step.COPIED) < 0) {
      for (String shard : job.from.shards()) {
        moved += copyMoving(job, shard);
      }
      progress.accept("copied " + moved + " rows of moving users");
      record(job, Step.COPIED);
    }
    Map<String, Position> seen = new HashMap<>();
    if (job.step.compareTo(Step.CAUGHT_UP) < 0) {
      for (int pass = 0; pass < MAX_CATCH_UP_PASSES; pass++) {
        long count = applyChanges(job, seen);
        applied += count;
        if (count <= QUIET_CHANGES) {
          break;
        }
      }
      progress.accept("caught up: " + applied + " captured changes applied");
      record(job, Step.CAUGHT_UP);
    }
    if (job.step.compareTo(Step.VERIFIED) < 0) {
      // a row-level diff while writes go on: a user written since the copy may differ until the
      // cut-over applies their change; any other difference is a copy that went wrong
      Set<Long> changed = new HashSet<>();
      applied += applyChanges(job, seen, changed);
      Set<Long> differing = verify(job, null);
      Set<Long> unexplained = new HashSet<>(differing);
      unexplained.removeAll(changed);
      unexplained.removeAll(changedOwners(job));
      if (!unexplained.isEmpty()) {
        throw new SQLException("resharding: the rows of " + unexplained.size() + " users differ between old and new"
            + " shards and were not written since the copy (expected: none); the job stays at " + Step.CAUGHT_UP);
      }
      progress.accept("verified: every moving row is identical on its new shard, but for " + differing.size()
          + " users written in the last moments");
      record(job, Step.VERIFIED);
    }
    if (job.step.compareTo(Step.CUT_OVER) < 0) {
      // after the publication the new shards take writes: never resync them from the old ones again
      if (catalog.current().orElseThrow().version() < job.to.version()) {
        long started = System.nanoTime();
        // CREATE TRIGGER waits for every write in flight on the table: once it is in, no write routed
        // by map N is running or can start on the old shards
        for (String shard : job.from.shards()) {
          installFence(groups.apply(shard), job.to.version());
        }
        long fenced = System.nanoTime();
        // the changes since the last read, and those of every transaction running then (after a
        // resumption: all of them, from the start), then the exact diff of every user written
        Set<Long> last = new HashSet<>();
        long finalChanges = applyChanges(job, seen, last);
        applied += finalChanges;
        long caughtUp = System.nanoTime();
        Set<Long> differing = verify(job, last);
        long diffed = System.nanoTime();
        if (!differing.isEmpty()) {
          throw new SQLException("resharding: the rows of " + differing.size() + " users differ at the cut-over"
              + " (expected: none); writes stay fenced until this job is run again");
        }
        catalog.publish(job.to);
        long published = System.nanoTime();
        pause = Duration.ofNanos(published - started);
        job.pause = pause;
        progress.accept("cut over to map " + job.to.version() + ": writes paused " + pause.toMillis() + " ms (fence "
            + millis(fenced - started) + " ms, last " + finalChanges + " changes of " + last.size() + " users "
            + millis(caughtUp - fenced) + " ms, their diff " + millis(diffed - caughtUp) + " ms, publication "
            + millis(published - diffed) + " ms)");
      }
      record(job, Step.CUT_OVER);
    }
    if (job.step.compareTo(Step.CLEANED) < 0) {
      sleep(settle); // servers that still read by map N switch within their refresh interval
      for (String shard : job.from.shards()) {
        moved = Math.max(moved, deleteMoved(job, shard));
        removeCapture(groups.apply(shard));
      }
      progress.accept("cleaned: moved rows deleted from their old shards");
      record(job, Step.CLEANED);
    }
    return new Result(job.from, job.to, moved, applied, pause);
  }

  // ---- the job record ----

  private static final class Job {
    final long id;
    final ShardMap from;
    final ShardMap to;
    Step step;
    Duration pause;

    Job(long id, ShardMap from, ShardMap to, Step step, Duration pause) {
      this.id = id;
      this.from = from;
      this.to = to;
      this.step = step;
      this.pause = pause;
    }
  }

  private void ensureJobTable() throws SQLException {
    catalogGroup.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement()) {
        statement.execute("SELECT pg_advisory_xact_lock(7305062)");
        statement.execute("CREATE TABLE IF NOT EXISTS reshard_job (id bigserial PRIMARY KEY, from_version bigint NOT NULL,"
            + " function text NOT NULL, from_shards text[] NOT NULL, to_shards text[] NOT NULL, step text NOT NULL,"
            + " pause_micros bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL DEFAULT now())");
      }
      return null;
    });
  }

  private Optional<Job> unfinishedJob() throws SQLException {
    return catalogGroup.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement();
          ResultSet rows = statement.executeQuery("SELECT id, from_version, function, from_shards, to_shards, step,"
              + " pause_micros FROM reshard_job WHERE step <> 'CLEANED' ORDER BY id DESC LIMIT 1")) {
        if (!rows.next()) {
          return Optional.<Job>empty();
        }
        ShardFunction function = ShardFunction.named(rows.getString(3));
        ShardMap from = new ShardMap(rows.getLong(2), function, strings(rows.getArray(4)));
        ShardMap to = new ShardMap(rows.getLong(2) + 1, function, strings(rows.getArray(5)));
        return Optional.of(new Job(rows.getLong(1), from, to, Step.valueOf(rows.getString(6)),
            Duration.ofNanos(rows.getLong(7) * 1000)));
      }
    });
  }

  private Job createJob(ShardMap from, ShardMap to) throws SQLException {
    long id = catalogGroup.write(ConsistencyToken.create(), connection -> {
      try (PreparedStatement insert = connection.prepareStatement("INSERT INTO reshard_job (from_version, function,"
          + " from_shards, to_shards, step) VALUES (?, ?, ?, ?, 'NEW') RETURNING id")) {
        insert.setLong(1, from.version());
        insert.setString(2, from.function().name());
        insert.setArray(3, connection.createArrayOf("text", from.shards().toArray()));
        insert.setArray(4, connection.createArrayOf("text", to.shards().toArray()));
        try (ResultSet rows = insert.executeQuery()) {
          rows.next();
          return rows.getLong(1);
        }
      }
    });
    return new Job(id, from, to, null, Duration.ZERO);
  }

  private void record(Job job, Step step) throws SQLException {
    catalogGroup.write(ConsistencyToken.create(), connection -> {
      try (PreparedStatement update = connection.prepareStatement(
          "UPDATE reshard_job SET step = ?, pause_micros = ?, updated_at = now() WHERE id = ?")) {
        update.setString(1, step.name());
        update.setLong(2, job.pause.toNanos() / 1000);
        update.setLong(3, job.id);
        return update.executeUpdate();
      }
    });
    job.step = step;
    if (step == crashAfter) {
      throw new Crash(step);
    }
  }

  private static List<String> strings(Array array) throws SQLException {
    return Arrays.asList((String[]) array.getArray());
  }

  // ---- on the shards ----

  /** Runs {@code work} on a shard's primary as a writer of the map being published (passes the fence). */
  private <T> T onShard(Job job, String shard, SqlWork<T> work) throws SQLException {
    return groups.apply(shard).write(ConsistencyToken.create(), connection -> {
      try (PreparedStatement mark = connection.prepareStatement("SELECT set_config(?, ?, true)")) {
        mark.setString(1, ShardedGroups.MAP_VERSION_SETTING);
        mark.setString(2, Long.toString(job.to.version()));
        mark.execute();
      }
      return work.run(connection);
    });
  }

  private void installCapture(ReplicationGroup shard) throws SQLException {
    shard.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement()) {
        // tx: the writing transaction, so that a reader can find changes that commit after it read
        // past their sequence number (PgQ's approach: sequence numbers are not commit order)
        statement.execute("CREATE TABLE IF NOT EXISTS reshard_changes (seq bigserial PRIMARY KEY, owner bigint NOT NULL,"
            + " tx bigint NOT NULL DEFAULT txid_current())");
        for (MovedTable table : tables) {
          statement.execute("CREATE OR REPLACE FUNCTION reshard_capture_" + table.name() + "() RETURNS trigger"
              + " LANGUAGE plpgsql AS $$ BEGIN"
              + " IF TG_OP <> 'INSERT' THEN INSERT INTO reshard_changes (owner) VALUES (OLD." + table.ownerColumn() + "); END IF;"
              + " IF TG_OP <> 'DELETE' THEN INSERT INTO reshard_changes (owner) VALUES (NEW." + table.ownerColumn() + "); END IF;"
              + " RETURN NULL; END $$");
          statement.execute("DROP TRIGGER IF EXISTS reshard_capture ON " + table.name());
          statement.execute("CREATE TRIGGER reshard_capture AFTER INSERT OR UPDATE OR DELETE ON " + table.name()
              + " FOR EACH ROW EXECUTE FUNCTION reshard_capture_" + table.name() + "()");
        }
      }
      return null;
    });
  }

  private void installFence(ReplicationGroup shard, long version) throws SQLException {
    shard.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement()) {
        // refuses every write routed by an older map (or by none): the old shard cannot diverge
        statement.execute("CREATE OR REPLACE FUNCTION reshard_fence() RETURNS trigger LANGUAGE plpgsql AS $$"
            + " BEGIN IF COALESCE(NULLIF(current_setting('" + ShardedGroups.MAP_VERSION_SETTING + "', true), ''), '0')::bigint < "
            + version + " THEN RAISE EXCEPTION 'shard fenced: this write was routed by shard map %, and map " + version
            + " replaces it', COALESCE(current_setting('" + ShardedGroups.MAP_VERSION_SETTING + "', true), 'none')"
            + " USING ERRCODE = '" + ShardedGroups.FENCED + "'; END IF; RETURN COALESCE(NEW, OLD); END $$");
        for (MovedTable table : tables) {
          statement.execute("DROP TRIGGER IF EXISTS reshard_fence ON " + table.name());
          statement.execute("CREATE TRIGGER reshard_fence BEFORE INSERT OR UPDATE OR DELETE ON " + table.name()
              + " FOR EACH ROW EXECUTE FUNCTION reshard_fence()");
        }
      }
      return null;
    });
  }

  private void removeCapture(ReplicationGroup shard) throws SQLException {
    shard.write(ConsistencyToken.create(), connection -> {
      try (Statement statement = connection.createStatement()) {
        for (MovedTable table : tables) {
          statement.execute("DROP TRIGGER IF EXISTS reshard_capture ON " + table.name());
        }
        statement.execute("DROP TABLE IF EXISTS reshard_changes");
      }
      return null;
    });
  }

  /** Copies every row of every user who leaves {@code shard}; returns how many rows. */
  private long copyMoving(Job job, String shard) throws SQLException {
    long copied = 0;
    for (MovedTable table : tables) {
      List<Row> rows = rows(job, shard, table, null);
      Map<String, List<Row>> byTarget = new HashMap<>();
      for (Row row : rows) {
        String target = job.to.groupOf(row.owner);
        if (!target.equals(shard)) {
          byTarget.computeIfAbsent(target, k -> new ArrayList<>()).add(row);
        }
      }
      for (Map.Entry<String, List<Row>> batch : byTarget.entrySet()) {
        upsert(job, batch.getKey(), table, batch.getValue());
        copied += batch.getValue().size();
      }
    }
    return copied;
  }

  /**
   * Applies the changes captured on every old shard since {@code seen} (per shard, the last
   * sequence number applied); {@code touched} collects the owners. Returns how many changes.
   */
  private long applyChanges(Job job, Map<String, Position> seen) throws SQLException {
    return applyChanges(job, seen, new HashSet<>());
  }

  private long applyChanges(Job job, Map<String, Position> seen, Set<Long> touched) throws SQLException {
    long count = 0;
    for (String shard : job.from.shards()) {
      Position after = seen.getOrDefault(shard, Position.START);
      List<long[]> changes = new ArrayList<>();
      Position next = onShard(job, shard, connection -> {
        long xmin;
        try (Statement statement = connection.createStatement();
            ResultSet rows = statement.executeQuery("SELECT txid_snapshot_xmin(txid_current_snapshot())")) {
          rows.next();
          xmin = rows.getLong(1);
        }
        long last = after.seq();
        // what is new, and anything of the transactions that were still running at the last read
        try (PreparedStatement select = connection.prepareStatement(
            "SELECT seq, owner FROM reshard_changes WHERE seq > ? OR tx >= ? ORDER BY seq")) {
          select.setLong(1, after.seq());
          select.setLong(2, after.xmin() == 0 ? Long.MAX_VALUE : after.xmin());
          try (ResultSet rows = select.executeQuery()) {
            while (rows.next()) {
              changes.add(new long[] {rows.getLong(1), rows.getLong(2)});
              last = Math.max(last, rows.getLong(1));
            }
          }
        }
        return new Position(last, xmin);
      });
      seen.put(shard, next);
      Set<Long> owners = new HashSet<>();
      for (long[] change : changes) {
        String target = job.to.groupOf(change[1]);
        if (!target.equals(shard)) {
          owners.add(change[1]);
        }
      }
      count += changes.size();
      touched.addAll(owners);
      if (!owners.isEmpty()) {
        resync(job, shard, owners);
      }
    }
    return count;
  }

  /** Makes the new shards' rows of {@code owners} equal to the old shard's: upsert what is there, delete what is not. */
  private void resync(Job job, String shard, Set<Long> owners) throws SQLException {
    for (MovedTable table : tables) {
      List<Row> current = rows(job, shard, table, owners);
      Map<String, List<Row>> byTarget = new HashMap<>();
      Map<String, Set<Object>> keepByTarget = new HashMap<>();
      for (Row row : current) {
        String target = job.to.groupOf(row.owner);
        byTarget.computeIfAbsent(target, k -> new ArrayList<>()).add(row);
        keepByTarget.computeIfAbsent(target, k -> new HashSet<>()).add(row.key);
      }
      Map<String, Set<Long>> ownersByTarget = new HashMap<>();
      for (long owner : owners) {
        ownersByTarget.computeIfAbsent(job.to.groupOf(owner), k -> new HashSet<>()).add(owner);
      }
      for (Map.Entry<String, Set<Long>> target : ownersByTarget.entrySet()) {
        upsert(job, target.getKey(), table, byTarget.getOrDefault(target.getKey(), List.of()));
        Set<Object> keep = keepByTarget.getOrDefault(target.getKey(), Set.of());
        onShard(job, target.getKey(), connection -> {
          // rows of these owners that the old shard no longer has were deleted there
          List<Object> stale = new ArrayList<>();
          try (PreparedStatement select = connection.prepareStatement("SELECT " + table.keyColumn() + " FROM "
              + table.name() + " WHERE " + table.ownerColumn() + " = ANY (?)")) {
            select.setArray(1, connection.createArrayOf("bigint", target.getValue().toArray()));
            try (ResultSet rows = select.executeQuery()) {
              while (rows.next()) {
                if (!keep.contains(rows.getObject(1))) {
                  stale.add(rows.getObject(1));
                }
              }
            }
          }
          for (Object key : stale) {
            try (PreparedStatement delete = connection.prepareStatement(
                "DELETE FROM " + table.name() + " WHERE " + table.keyColumn() + " = ?")) {
              delete.setObject(1, key);
              delete.executeUpdate();
            }
          }
          return null;
        });
      }
    }
  }

  /** Every owner in the change logs of the old shards. */
  private Set<Long> changedOwners(Job job) throws SQLException {
    Set<Long> owners = new HashSet<>();
    for (String shard : job.from.shards()) {
      owners.addAll(onShard(job, shard, connection -> {
        Set<Long> found = new HashSet<>();
        try (Statement statement = connection.createStatement();
            ResultSet rows = statement.executeQuery("SELECT DISTINCT owner FROM reshard_changes")) {
          while (rows.next()) {
            found.add(rows.getLong(1));
          }
        }
        return found;
      }));
    }
    return owners;
  }

  /**
   * Compares every row of moving users (or of {@code only}) on the old shards with the new ones:
   * the owners of rows missing, extra or different on the new shards.
   */
  private Set<Long> verify(Job job, Set<Long> only) throws SQLException {
    Set<Long> mismatches = new HashSet<>();
    for (MovedTable table : tables) {
      Map<String, Map<Object, Row>> expected = new HashMap<>();
      for (String shard : job.from.shards()) {
        for (Row row : rows(job, shard, table, only)) {
          String target = job.to.groupOf(row.owner);
          if (!target.equals(shard)) {
            expected.computeIfAbsent(target, k -> new HashMap<>()).put(row.key, row);
          }
        }
      }
      Map<String, Set<Long>> ownersByTarget = new HashMap<>();
      expected.forEach((target, rows) -> rows.values().forEach(
          row -> ownersByTarget.computeIfAbsent(target, k -> new HashSet<>()).add(row.owner)));
      if (only != null) {
        // owners with no rows left on their old shard: the new one must have none either
        for (long owner : only) {
          String target = job.to.groupOf(owner);
          if (!target.equals(job.from.groupOf(owner))) {
            expected.computeIfAbsent(target, k -> new HashMap<>());
            ownersByTarget.computeIfAbsent(target, k -> new HashSet<>()).add(owner);
          }
        }
      }
      for (Map.Entry<String, Map<Object, Row>> target : expected.entrySet()) {
        Set<Long> owners = ownersByTarget.getOrDefault(target.getKey(), Set.of());
        Map<Object, Row> actual = new HashMap<>();
        for (Row row : rows(job, target.getKey(), table, owners)) {
          actual.put(row.key, row);
        }
        for (Map.Entry<Object, Row> row : target.getValue().entrySet()) {
          Row there = actual.remove(row.getKey());
          if (there == null || !there.values.equals(row.getValue().values)) {
            mismatches.add(row.getValue().owner);
          }
        }
        actual.values().forEach(extra -> mismatches.add(extra.owner));
      }
    }
    return mismatches;
  }

  private long deleteMoved(Job job, String shard) throws SQLException {
    long deleted = 0;
    for (MovedTable table : tables) {
      Set<Long> leaving = new HashSet<>();
      for (Row row : rows(job, shard, table, null)) {
        if (!job.to.groupOf(row.owner).equals(shard)) {
          leaving.add(row.owner);
        }
      }
      if (leaving.isEmpty()) {
        continue;
      }
      deleted += onShard(job, shard, connection -> {
        try (PreparedStatement delete = connection.prepareStatement(
            "DELETE FROM " + table.name() + " WHERE " + table.ownerColumn() + " = ANY (?)")) {
          delete.setArray(1, connection.createArrayOf("bigint", leaving.toArray()));
          return (long) delete.executeUpdate();
        }
      });
    }
    return deleted;
  }

  // ---- rows ----

  /** One row: its owner, its key, and every column's value (in the table's column order). */
  private record Row(long owner, Object key, List<Object> values, List<String> columns) {}

  private List<Row> rows(Job job, String shard, MovedTable table, Set<Long> owners) throws SQLException {
    if (owners != null && owners.isEmpty()) {
      return List.of();
    }
    return onShard(job, shard, connection -> {
      String sql = "SELECT * FROM " + table.name() + (owners == null ? "" : " WHERE " + table.ownerColumn() + " = ANY (?)");
      try (PreparedStatement select = connection.prepareStatement(sql)) {
        if (owners != null) {
          select.setArray(1, connection.createArrayOf("bigint", owners.toArray()));
        }
        try (ResultSet rows = select.executeQuery()) {
          ResultSetMetaData meta = rows.getMetaData();
          List<String> columns = new ArrayList<>();
          for (int c = 1; c <= meta.getColumnCount(); c++) {
            columns.add(meta.getColumnName(c));
          }
          List<Row> found = new ArrayList<>();
          while (rows.next()) {
            List<Object> values = new ArrayList<>();
            for (int c = 1; c <= columns.size(); c++) {
              values.add(rows.getObject(c));
            }
            found.add(new Row(rows.getLong(table.ownerColumn()), rows.getObject(table.keyColumn()), values,
                List.copyOf(columns)));
          }
          return found;
        }
      }
    });
  }

  private void upsert(Job job, String shard, MovedTable table, List<Row> rows) throws SQLException {
    if (rows.isEmpty()) {
      return;
    }
    List<String> columns = rows.get(0).columns();
    StringBuilder sql = new StringBuilder("INSERT INTO ").append(table.name()).append(" (")
        .append(String.join(", ", columns)).append(") VALUES (")
        .append(String.join(", ", columns.stream().map(c -> "?").toList())).append(") ON CONFLICT (")
        .append(table.keyColumn()).append(") DO UPDATE SET ");
    sql.append(String.join(", ", columns.stream().filter(c -> !c.equals(table.keyColumn()))
        .map(c -> c + " = EXCLUDED." + c).toList()));
    onShard(job, shard, connection -> {
      try (PreparedStatement upsert = connection.prepareStatement(sql.toString())) {
        for (Row row : rows) {
          for (int c = 0; c < columns.size(); c++) {
            upsert.setObject(c + 1, row.values().get(c));
          }
          upsert.addBatch();
        }
        upsert.executeBatch();
      }
      return null;
    });
  }

  private static long millis(long nanos) {
    return java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Configures a {@link Resharder}. Not thread-safe. */
  public static final class Builder {
    private ShardCatalog catalog;
    private ReplicationGroup catalogGroup;
    private Function<String, ReplicationGroup> groups;
    private final List<MovedTable> tables = new ArrayList<>();
    private Duration settle = Duration.ofSeconds(2);
    private Consumer<String> progress = line -> {};
    private Step crashAfter;

    private Builder() {}

    /** The catalog and the group it lives in (the job is recorded there); required. */
    public Builder catalog(ShardCatalog catalog, ReplicationGroup catalogGroup) {
      this.catalog = Objects.requireNonNull(catalog, "catalog");
      this.catalogGroup = Objects.requireNonNull(catalogGroup, "catalogGroup");
      return this;
    }

    /** The group of a shard by name, old or new; a new shard's database and schema are the provisioner's to make. Required. */
    public Builder groups(Function<String, ReplicationGroup> groups) {
      this.groups = Objects.requireNonNull(groups, "groups");
      return this;
    }

    /** A table whose rows move with their owner; at least one. */
    public Builder table(MovedTable table) {
      tables.add(Objects.requireNonNull(table, "table"));
      return this;
    }

    /** How long after the cut-over the old copies are deleted (default 2 s: servers refresh their map every 0.5 s). */
    public Builder settle(Duration settle) {
      this.settle = Objects.requireNonNull(settle, "settle");
      return this;
    }

    /** Where progress lines go (default nowhere). */
    public Builder progress(Consumer<String> progress) {
      this.progress = Objects.requireNonNull(progress, "progress");
      return this;
    }

    /** Test hook: stop with {@link Crash} right after recording {@code step}, as a killed coordinator would. */
    public Builder crashAfter(Step step) {
      this.crashAfter = step;
      return this;
    }

    public Resharder build() {
      if (catalog == null || groups == null || tables.isEmpty()) {
        throw new IllegalStateException("catalog, groups and at least one table are required");
      }
      return new Resharder(this);
    }
  }
}
