package io.scalestack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad input to the command line: one line naming file, line, field, value, expectation; exit 2; nothing started. */
class BadInputTest {

  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  private Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Result(code, out.toString(), err.toString());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', textBlock = """
      unknown key          | 'web:\n  sise: 3\n'                                    | ':2: web.sise: unknown key (expected one of: size, maxSize, firstAddress, port, heapMegabytes, bcryptCost)'
      wrong type           | 'web:\n  size: many\n'                                 | ':2: web.size: many (expected: an integer 1..64)'
      port out of range    | 'controlPlane:\n  listen: 127.0.0.1:99999\n'           | ':2: controlPlane.listen: 127.0.0.1:99999 (expected: host:port with an IPv4 host and a port in 1..65535)'
      duplicate address    | 'redis:\n  listen: 127.0.0.1:7070\n'                   | ':2: redis.listen: 127.0.0.1:7070 (expected: an address no other member uses; controlPlane.listen has it)'
      """)
  void badConfigGivesOneLineAndExitCodeTwo(String name, String yaml, String expected) throws Exception {
    Path file = dir.resolve("scalestack.yaml");
    Files.writeString(file, yaml.replace("\\n", "\n"));

    Result result = run("up", "-c", file.toString());

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).isEqualTo("scalestack: " + file + expected + System.lineSeparator());
    assertThat(result.out()).as("nothing was started").isEmpty();
  }

  @Test
  void badStickyOrSessionStrategyFlagIsBadInput() {
    Result sticky = run("lb", "--backend", "127.0.0.1:1", "--sticky", "cookie");
    assertThat(sticky.code()).isEqualTo(2);
    assertThat(sticky.err()).contains("sticky: 'cookie' (expected: insert:COOKIE, prefix:COOKIE or source)");

    Result strategy = run("web", "--name", "web-x", "--listen", "127.0.0.1:1", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/x",
        "--redis", "redis://127.0.0.1:1", "--session-strategy", "cookies");
    assertThat(strategy.code()).isEqualTo(2);
    assertThat(strategy.err()).contains("sessionStrategy: 'cookies' (expected: store, local, sticky or clustered)");
  }

  @Test
  void missingConfigFileIsBadInput() {
    Result result = run("up", "-c", dir.resolve("absent.yaml").toString());

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).contains("absent.yaml: no such file (expected: a readable YAML file)");
  }

  @Test
  void unknownOptionIsBadInput() {
    Result result = run("up", "--detatch");

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).startsWith("scalestack: Unknown option: '--detatch'").endsWith("(see: scalestack up --help)" + System.lineSeparator());
  }

  @Test
  void badBalancerAddressFlagNamesTheFlag() {
    Result result = run("lb", "--listen", "nowhere", "--admin", "127.0.0.1:0");

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).isEqualTo("scalestack: --listen: 'nowhere' (expected: host:port)" + System.lineSeparator());
  }

  @Test
  void badBalancerModeNamesTheValueAndTheModes() {
    Result result = run("lb", "--mode", "udp", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0");

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).isEqualTo("scalestack: mode: 'udp' (expected: http or tcp)" + System.lineSeparator());
  }

  @Test
  void sendingAProxyHeaderInHttpModeIsBadInput() {
    Result result = run("lb", "--send-proxy-protocol", "v1", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0");

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).startsWith("scalestack: pool 'default': sendProxyProtocol: v1 (expected: only with mode tcp;");
  }

  @Test
  void badLbConfigFileNamesFileLineFieldValueAndExpectation() throws Exception {
    Path file = dir.resolve("lb.yaml");
    Files.writeString(file, "listen: 127.0.0.1:0\nretries: many\n");

    Result result = run("lb", "-c", file.toString());

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err()).isEqualTo("scalestack: " + file + ":2: retries: 'many' (expected: an integer)" + System.lineSeparator());
  }

  @Test
  void lbWithAnUnusableTlsCertificateIsBadInput() throws Exception {
    Path cert = Files.writeString(dir.resolve("lb.crt"), "not a certificate\n");
    Path key = Files.writeString(dir.resolve("lb.key"), "not a key\n");

    Result onlyCert = run("lb", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--tls-cert", cert.toString());
    Result garbage = run("lb", "--listen", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--tls-cert", cert.toString(),
        "--tls-key", key.toString());

    assertThat(onlyCert.code()).isEqualTo(2);
    assertThat(onlyCert.err()).contains("--tls-cert and --tls-key: only one given (expected: both)");
    assertThat(garbage.code()).isEqualTo(2);
    assertThat(garbage.err()).startsWith("scalestack: tls: certificate " + cert);
    assertThat(garbage.out()).as("nothing was started").isEmpty();
  }

  @Test
  void statusWithoutAControlPlaneSaysSo() {
    Result result = run("status", "--api", "http://127.0.0.1:1");

    assertThat(result.code()).isEqualTo(1);
    assertThat(result.err()).contains("no control plane at http://127.0.0.1:1");
  }

  @Test
  void helpListsTheCommands() {
    Result result = run("--help");

    assertThat(result.code()).isZero();
    assertThat(result.out()).contains("up", "status", "down", "chaos", "scale", "lb");
  }
}
