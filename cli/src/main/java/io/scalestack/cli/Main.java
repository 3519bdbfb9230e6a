package io.scalestack.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code scalestack} command line: boots and inspects the topology ({@code up}, {@code
 * status}, {@code down}), breaks it on purpose ({@code chaos}), resizes it ({@code scale}), runs
 * one part alone ({@code lb}), and is the entry point of every member JVM the control plane
 * starts ({@code web}, {@code lb}).
 *
 * <p>Exit codes: 0 success, 1 failure at run time, 2 bad input (a bad {@code scalestack.yaml} or
 * command line), each with one line on standard error naming the field, the value and what was
 * expected.
 */
@Command(
    name = "scalestack",
    mixinStandardHelpOptions = true,
    version = "scalestack 0.1.0-SNAPSHOT",
    description = "The architecture that takes a web service from one server to millions of users, running on one machine.",
    subcommands = {
      UpCommand.class,
      StatusCommand.class,
      DownCommand.class,
      ChaosCommand.class,
      ScaleCommand.class,
      ExperimentCommand.class,
      ReshardCommand.class,
      ImageCommand.class,
      LbCommand.class,
      EdgeCommand.class,
      WebCommand.class,
      WorkerCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  /** Exit code for bad input: a bad config file or command line. */
  public static final int EXIT_BAD_INPUT = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int code = run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
    // Long-running commands (up, lb, web) return only once they are done; exit for the others.
    System.exit(code);
  }

  /** Runs the command line with the given output streams and returns its exit code (for tests). */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine line = new CommandLine(new Main());
    line.setOut(out);
    line.setErr(err);
    line.setExecutionExceptionHandler((exception, commandLine, parseResult) -> {
      if (exception instanceof BadInputException bad) {
        commandLine.getErr().println("scalestack: " + bad.getMessage());
        return EXIT_BAD_INPUT;
      }
      commandLine.getErr().println("scalestack: " + (exception.getMessage() == null ? exception : exception.getMessage()));
      return 1;
    });
    line.setParameterExceptionHandler((exception, args2) -> {
      exception.getCommandLine().getErr().println("scalestack: " + exception.getMessage()
          + " (see: scalestack " + exception.getCommandLine().getCommandName() + " --help)");
      return EXIT_BAD_INPUT;
    });
    return line.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }
}
