package io.scalestack.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.scalestack.imaging.ImageCodec;
import io.scalestack.imaging.RgbImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code scalestack image}: one operation on a real file, its timings, and one clear line for bad input. */
class ImageCommandTest {

  @TempDir Path dir;

  private record Result(int code, String out, String err) {}

  private static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void blursAPngAndPrintsTheTimeOfEachRepetition() throws Exception {
    byte[] rgb = new byte[64 * 48 * 3];
    for (int i = 0; i < rgb.length; i++) {
      rgb[i] = (byte) ((i * 31) % 256);
    }
    Path in = dir.resolve("in.png");
    Path out = dir.resolve("out.png");
    Files.write(in, ImageCodec.defaults().encodePng(RgbImage.ofInterleaved(64, 48, rgb)));

    Result result = run("image", "blur", "--sigma", "2", "--repeat", "3", in.toString(), out.toString());

    assertThat(result.code()).as(result.err()).isZero();
    assertThat(result.out().lines().filter(line -> line.matches(".*\\d+(\\.\\d+)? ms.*")).count()).isGreaterThanOrEqualTo(3);
    RgbImage blurred = ImageCodec.defaults().decode(Files.readAllBytes(out));
    assertThat(blurred.width()).isEqualTo(64);
    assertThat(blurred.height()).isEqualTo(48);
  }

  @Test
  void aFileThatIsNotAnImageGetsOneLineAndExitCodeTwo() throws Exception {
    Path in = dir.resolve("notes.png");
    Files.writeString(in, "this is text, not a PNG", StandardCharsets.UTF_8);

    Result result = run("image", "blur", in.toString(), dir.resolve("out.png").toString());

    assertThat(result.code()).isEqualTo(2);
    assertThat(result.err().strip().lines().count()).as(result.err()).isEqualTo(1);
    assertThat(result.err()).contains("expected");
  }
}
