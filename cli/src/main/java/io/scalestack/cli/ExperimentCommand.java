package io.scalestack.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code scalestack experiment …}: runs one of the seeds' comparisons for real and prints its table. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
    description = "Run a comparison of the seeds on real processes and print what it measured.",
    subcommands = {ExperimentCommand.Sessions.class, ExperimentCommand.Sharding.class})
final class ExperimentCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (expected: sessions or sharding)");
  }

  @Command(name = "sessions", mixinStandardHelpOptions = true,
      description = {
          "For each session strategy: boot the balancer and 3 web servers with it (plus Redis and PostgreSQL),",
          "log users in, drive traffic, kill -9 web-2, add web-4 and remove it again, and print one table.",
          "Takes about a minute per strategy; uses its own loopback addresses and free ports."})
  static final class Sessions implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--users", defaultValue = "1000", description = "Users logged in before the traffic (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--strategies", split = ",", defaultValue = "local,sticky,clustered-backup,clustered-all,store",
        description = "Which, in order (default: ${DEFAULT-VALUE}).")
    List<String> strategies;

    @Option(names = "--traffic-seconds", defaultValue = "5", description = "Length of each traffic phase (default: ${DEFAULT-VALUE}).")
    int trafficSeconds;

    @Override
    public Integer call() throws Exception {
      if (users < 10 || users > 100_000) {
        throw new BadInputException("--users: " + users + " (expected: 10..100000)");
      }
      if (trafficSeconds < 1 || trafficSeconds > 600) {
        throw new BadInputException("--traffic-seconds: " + trafficSeconds + " (expected: 1..600)");
      }
      for (String strategy : strategies) {
        if (!SessionExperiment.STRATEGIES.contains(strategy)) {
          throw new BadInputException("--strategies: '" + strategy + "' (expected: some of "
              + String.join(", ", SessionExperiment.STRATEGIES) + ")");
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      List<SessionExperiment.Row> rows = new ArrayList<>();
      for (String strategy : strategies) {
        rows.add(new SessionExperiment(strategy, users, trafficSeconds, err).run());
      }
      SessionExperiment.print(rows, users, trafficSeconds, out);
      return 0;
    }
  }

  @Command(name = "sharding", mixinStandardHelpOptions = true,
      description = {
          "Write users with Snowflake ids into PostgreSQL tables, one per shard, under `modulo` (the seeds'",
          "user_id % K) and `consistent` (jump hash), for K and each K'; print the rows per shard and the",
          "fraction of rows each resharding K -> K' moves, counted with SQL. Starts its own PostgreSQL."})
  static final class Sharding implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--users", defaultValue = "100000", description = "Users (rows) to shard (default: ${DEFAULT-VALUE}).")
    int users;

    @Option(names = "--from", defaultValue = "4", description = "Shards before the resharding (default: ${DEFAULT-VALUE}).")
    int from;

    @Option(names = "--to", split = ",", defaultValue = "5,8", description = "Shards after, one resharding each (default: ${DEFAULT-VALUE}).")
    List<Integer> to;

    @Override
    public Integer call() throws Exception {
      if (users < 1000 || users > 1_000_000) {
        throw new BadInputException("--users: " + users + " (expected: 1000..1000000)");
      }
      if (from < 1 || from > 64) {
        throw new BadInputException("--from: " + from + " (expected: 1..64)");
      }
      for (int shards : to) {
        if (shards < 1 || shards > 64 || shards == from) {
          throw new BadInputException("--to: " + shards + " (expected: 1..64, not --from " + from + ")");
        }
      }
      ShardingExperiment.Result result = new ShardingExperiment(users, from, to, spec.commandLine().getErr()).run();
      ShardingExperiment.print(result, spec.commandLine().getOut());
      return 0;
    }
  }
}
