package io.scalestack.cli;

import picocli.CommandLine.Option;

/** The {@code --api} option shared by the commands that talk to a running control plane. */
final class ApiOptions {

  @Option(names = "--api", defaultValue = "http://127.0.0.1:7070",
      description = "The control plane's API (default: ${DEFAULT-VALUE}).")
  String api;

  ControlPlaneClient client() {
    return new ControlPlaneClient(api);
  }
}
