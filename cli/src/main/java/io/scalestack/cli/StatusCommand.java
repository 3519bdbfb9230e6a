package io.scalestack.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code scalestack status}: every member's role, address, health and load. */
@Command(name = "status", mixinStandardHelpOptions = true, description = "Show every member: role, address, health, load.")
final class StatusCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin ApiOptions api;

  @Override
  public Integer call() throws Exception {
    ControlPlaneClient.Answer answer = api.client().get("/api/members");
    if (answer.status() != 200) {
      throw new IllegalStateException(answer.error());
    }
    PrintWriter out = spec.commandLine().getOut();
    String format = "%-12s %-9s %-22s %-10s %8s %8s %8s %-9s %8s %10s%n";
    out.printf(format, "MEMBER", "ROLE", "ADDRESS", "STATE", "PID", "RESTARTS", "UPTIME", "LB", "INFLIGHT", "REQUESTS");
    for (JsonNode m : answer.body()) {
      out.printf(format, m.path("name").asText(), m.path("role").asText(), m.path("address").asText(),
          m.path("state").asText(), m.path("pid").asLong() < 0 ? "-" : m.path("pid").asText(), m.path("restarts").asText(),
          m.path("uptimeSeconds").asText() + "s",
          m.path("balancerState").asText().isEmpty() ? "-" : m.path("balancerState").asText(),
          m.path("role").asText().equals("web") ? m.path("inFlight").asText() : "-",
          m.path("role").asText().equals("web") ? m.path("requests").asText() : "-");
    }
    boolean header = false;
    for (JsonNode m : answer.body()) {
      JsonNode db = m.path("database");
      if (db.isMissingNode()) {
        continue;
      }
      if (!header) {
        out.println();
        out.printf("%-12s %-8s %-10s %-14s %12s %-10s%n", "POSTGRES", "ROLE", "REACHABLE", "LSN", "LAG_BYTES", "RECEIVER");
        header = true;
      }
      out.printf("%-12s %-8s %-10s %-14s %12s %-10s%n", m.path("name").asText(), db.path("role").asText(),
          db.path("reachable").asBoolean() ? "yes" : "no", db.path("lsn").asText().isEmpty() ? "-" : db.path("lsn").asText(),
          db.path("role").asText().equals("primary") || db.path("lagBytes").asLong() < 0 ? "-" : db.path("lagBytes").asText(),
          db.path("walReceiver").asText().isEmpty() ? "-" : db.path("walReceiver").asText());
    }
    ControlPlaneClient.Answer hot = api.client().get("/api/hot-keys");
    if (hot.status() == 200) {
      boolean hotHeader = false;
      for (var server : (Iterable<java.util.Map.Entry<String, JsonNode>>) hot.body()::fields) {
        for (JsonNode user : server.getValue()) {
          if (!hotHeader) {
            out.println();
            out.printf("%-12s %-20s %8s%n", "HOT USERS", "USER ID", "SHARE");
            hotHeader = true;
          }
          out.printf("%-12s %-20s %7.1f%%%n", server.getKey(), user.path("userId").asText(),
              100 * user.path("share").asDouble());
        }
      }
    }
    return 0;
  }
}
