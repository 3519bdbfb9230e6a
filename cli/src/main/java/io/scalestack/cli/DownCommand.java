package io.scalestack.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
    // The API closes first; the members stop after it. Done means the control plane's process is gone.
    long pid = answer.body().path("pid").asLong(-1);
    var process = ProcessHandle.of(pid);
    if (process.isPresent()) {
      try {
        process.get().onExit().get(90, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        throw new IllegalStateException("the control plane (pid " + pid + ") is still stopping after 90 s", e);
      }
    }
    spec.commandLine().getOut().println("scalestack: stopped.");
    return 0;
  }
}
