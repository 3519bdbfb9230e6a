package io.scalestack.cli;

import io.scalestack.imaging.ImageCodec;
import io.scalestack.imaging.ImageException;
import io.scalestack.imaging.RgbImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code scalestack image OP IN OUT}: decodes IN (PNG, JPEG, GIF or BMP), applies one operation of
 * the imaging module, single-threaded, and writes OUT as PNG or JPEG by its extension. With {@code
 * --repeat N} it runs the operation N times on the decoded image and prints each run's time (the
 * operation alone, not decoding or encoding): the figure benchmarks/imaging compares with libvips.
 */
@Command(name = "image", mixinStandardHelpOptions = true,
    description = {
        "Apply one image operation to IN and write OUT (.png, or .jpg/.jpeg).",
        "OP: blur (--sigma), sharpen (--sigma --amount; unsharp mask), crop (--x --y --width --height),",
        "resize (--width --height; bilinear). Single-threaded; --repeat N prints the time of each run."})
final class ImageCommand implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Parameters(index = "0", paramLabel = "OP", description = "blur, sharpen, crop or resize.")
  String op;

  @Parameters(index = "1", paramLabel = "IN", description = "The image to read: PNG, JPEG, GIF or BMP.")
  Path in;

  @Parameters(index = "2", paramLabel = "OUT", description = "The image to write: .png, .jpg or .jpeg.")
  Path out;

  @Option(names = "--sigma", defaultValue = "2", description = "Gaussian standard deviation in pixels, blur and sharpen (default: ${DEFAULT-VALUE}).")
  double sigma;

  @Option(names = "--amount", defaultValue = "1", description = "Sharpen: original + amount × (original − blur) (default: ${DEFAULT-VALUE}).")
  double amount;

  @Option(names = "--x", defaultValue = "0", description = "Crop: left edge (default: ${DEFAULT-VALUE}).")
  int x;

  @Option(names = "--y", defaultValue = "0", description = "Crop: top edge (default: ${DEFAULT-VALUE}).")
  int y;

  @Option(names = "--width", description = "Crop and resize: width of the result.")
  Integer width;

  @Option(names = "--height", description = "Crop and resize: height of the result.")
  Integer height;

  @Option(names = "--repeat", defaultValue = "1", description = "Run the operation N times and print each time (default: ${DEFAULT-VALUE}).")
  int repeat;

  @Option(names = "--quality", defaultValue = "0.9", description = "JPEG quality 0..1 when OUT is .jpg/.jpeg (default: ${DEFAULT-VALUE}).")
  float quality;

  @Override
  public Integer call() {
    if (repeat < 1 || repeat > 1000) {
      throw new BadInputException("--repeat: " + repeat + " (expected: 1..1000)");
    }
    String name = out.getFileName() == null ? "" : out.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean png = name.endsWith(".png");
    boolean jpeg = name.endsWith(".jpg") || name.endsWith(".jpeg");
    if (!png && !jpeg) {
      throw new BadInputException("OUT: '" + out + "' (expected: a file name ending in .png, .jpg or .jpeg)");
    }
    if (jpeg && !(quality >= 0 && quality <= 1)) {
      throw new BadInputException("--quality: " + quality + " (expected: 0..1)");
    }
    UnaryOperator<RgbImage> operation = operation();

    ImageCodec codec = ImageCodec.defaults();
    RgbImage image;
    try {
      // the codec checks the size too; checking the file first avoids reading a huge one into memory
      long size = Files.size(in);
      if (size > codec.maxInputBytes()) {
        throw new BadInputException("IN: " + in + ": " + size + " bytes (expected: at most " + codec.maxInputBytes() + " bytes)");
      }
      image = codec.decode(Files.readAllBytes(in));
    } catch (NoSuchFileException e) {
      throw new BadInputException("IN: " + in + ": no such file (expected: a readable image file)", e);
    } catch (IOException e) {
      throw new BadInputException("IN: " + in + ": " + e.getMessage() + " (expected: a readable image file)", e);
    } catch (ImageException e) {
      throw new BadInputException("IN: " + in + ": " + e.getMessage(), e);
    }

    PrintWriter stdout = spec.commandLine().getOut();
    RgbImage result = null;
    for (int i = 1; i <= repeat; i++) {
      long start = System.nanoTime();
      try {
        result = operation.apply(image);
      } catch (IllegalArgumentException e) {
        // RgbImage names the argument as the option is named: "sigma: -1.0 (expected: …)"
        throw new BadInputException("--" + e.getMessage(), e);
      }
      long nanos = System.nanoTime() - start;
      if (repeat > 1) {
        stdout.printf(Locale.ROOT, "%s %d/%d: %.1f ms%n", op, i, repeat, nanos / 1e6);
      }
    }
    byte[] encoded = png ? codec.encodePng(result) : codec.encodeJpeg(result, quality);
    try {
      Files.write(out, encoded);
    } catch (IOException e) {
      throw new BadInputException("OUT: " + out + ": " + e.getMessage() + " (expected: a writable file)", e);
    }
    stdout.printf(Locale.ROOT, "wrote %s (%dx%d, %d bytes)%n", out, result.width(), result.height(), encoded.length);
    return 0;
  }

  private UnaryOperator<RgbImage> operation() {
    return switch (op) {
      case "blur" -> image -> image.gaussianBlur(sigma);
      case "sharpen" -> image -> image.sharpen(sigma, amount);
      case "crop" -> {
        int w = required(width, "--width");
        int h = required(height, "--height");
        yield image -> image.crop(x, y, w, h);
      }
      case "resize" -> {
        int w = required(width, "--width");
        int h = required(height, "--height");
        yield image -> image.resize(w, h);
      }
      default -> throw new BadInputException("OP: '" + op + "' (expected: blur, sharpen, crop or resize)");
    };
  }

  private int required(Integer value, String option) {
    if (value == null) {
      throw new BadInputException(option + ": missing (expected: an integer, required by " + op + ")");
    }
    return value;
  }
}
