package io.scalestack.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code scalestack chaos kill MEMBER}: break the topology on purpose. */
@Command(name = "chaos", mixinStandardHelpOptions = true, description = "Break things on purpose.",
    subcommands = ChaosCommand.Kill.class)
final class ChaosCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** kill -9 one member; the supervisor then restarts it. */
  @Command(name = "kill", mixinStandardHelpOptions = true, description = "kill -9 one member (web-2, lb, redis, pg-primary …).")
  static final class Kill implements Callable<Integer> {

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin ApiOptions api;

    @Parameters(paramLabel = "MEMBER", description = "The member to kill, as `scalestack status` names it.")
    String member;

    @Override
    public Integer call() throws Exception {
      ControlPlaneClient.Answer answer = api.client().post("/api/members/" + member + "/kill", "{}");
      if (answer.status() == 404) {
        throw new BadInputException(answer.error());
      }
      if (answer.status() != 202) {
        throw new IllegalStateException(answer.error());
      }
      spec.commandLine().getOut().println("killed " + member + " (kill -9); the supervisor restarts it");
      return 0;
    }
  }
}
