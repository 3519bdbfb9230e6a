package io.scalestack.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.scalestack.app.Resharding;
import io.scalestack.controlplane.TopologyConfig;
import io.scalestack.data.Resharder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code scalestack reshard --to K}: moves the running topology's users to K shards while it
 * serves, printing each step; run it again after an interruption and it resumes.
 */
@Command(name = "reshard", mixinStandardHelpOptions = true,
    description = {"Reshard the users of the running topology to K shards, online: copy, catch up, verify,",
        "cut over with a write pause of tens of milliseconds. Run it again to resume an interrupted one."})
final class ReshardCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin ApiOptions api;

  @Option(names = "--to", required = true, description = "Shards after the resharding (1..64).")
  int to;

  @Option(names = {"-c", "--config"}, description = "Topology file (default: ./scalestack.yaml if present, else the built-in topology).")
  Path config;

  @Override
  public Integer call() throws Exception {
    if (to < 1 || to > 64) {
      throw new BadInputException("--to: " + to + " (expected: 1..64)");
    }
    TopologyConfig topology = UpCommand.load(config);
    if (topology.postgres().mode().equals("external")) {
      throw new BadInputException("postgres.mode: external (expected: a PostgreSQL that scalestack runs, to add"
          + " shard databases to)");
    }
    // the primary now: a failover may have promoted another member than the configured address
    ControlPlaneClient.Answer members = api.client().get("/api/members");
    if (members.status() != 200) {
      throw new IllegalStateException(members.error());
    }
    String primary = null;
    for (JsonNode member : members.body()) {
      if (member.path("database").path("role").asText().equals("primary")) {
        primary = member.path("address").asText();
      }
    }
    if (primary == null) {
      throw new IllegalStateException("no PostgreSQL primary in GET /api/members (expected: a running topology)");
    }
    PrintWriter out = spec.commandLine().getOut();
    String jdbcUrl = "jdbc:postgresql://" + primary + "/" + topology.postgres().database();
    Resharder.Result result = Resharding.run(jdbcUrl, topology.postgres().user(), topology.postgres().password(), to,
        line -> {
          out.println("reshard: " + line);
          out.flush();
        });
    out.printf("reshard: done: map %d (%d shards) -> map %d (%d shards), %d rows moved, write pause %d ms%n",
        result.from().version(), result.from().shards().size(), result.to().version(), result.to().shards().size(),
        result.movedRows(), result.writePause().toMillis());
    return 0;
  }
}
