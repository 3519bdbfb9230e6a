package io.scalestack.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code scalestack scale POOL N}: set a pool's size by hand. */
@Command(name = "scale", mixinStandardHelpOptions = true, description = "Set a pool's size by hand: scalestack scale web 5, scalestack scale worker 4")
final class ScaleCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin ApiOptions api;

  @Parameters(index = "0", paramLabel = "POOL", description = "The pool: web or worker.")
  String pool;

  @Parameters(index = "1", paramLabel = "N", description = "Its new size.")
  int size;

  @Override
  public Integer call() throws Exception {
    ControlPlaneClient.Answer answer = api.client().post("/api/pools/" + pool + "/scale", "{\"size\":" + size + "}");
    if (answer.status() == 400) {
      throw new BadInputException(answer.error());
    }
    if (answer.status() != 200) {
      throw new IllegalStateException(answer.error());
    }
    spec.commandLine().getOut().println(pool + ": " + answer.body().path("size").asInt() + " members");
    return 0;
  }
}
