package io.scalestack.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code scalestack down}: stop a topology started with {@code up --detach}. */
@Command(name = "down", mixinStandardHelpOptions = true, description = "Stop a running topology (for example one started with up --detach).")
final class DownCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin ApiOptions api;

  @Override
  public Integer call() throws Exception {
    ControlPlaneClient client = api.client();
    ControlPlaneClient.Answer answer = client.post("/api/shutdown", "{}");
    if (answer.status() != 202) {
      throw new IllegalStateException(answer.error());
    }
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (client.reachable()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the control plane still answers after 60 s");
      }
      Thread.sleep(200);
    }
    spec.commandLine().getOut().println("scalestack: stopped.");
    return 0;
  }
}
