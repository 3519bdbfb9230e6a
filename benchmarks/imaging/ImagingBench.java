// benchmarks/imaging/ImagingBench.java: the helpers of run.sh, run as a single-file program.
//
//   java ImagingBench.java generate WIDTH HEIGHT OUT.ppm   a textured RGB test image (binary PPM)
//   java ImagingBench.java compare A.png B.png [BORDER]   per channel max and mean |A - B|,
//                                                          also without a border of BORDER pixels
import java.awt.image.BufferedImage;
import java.io.BufferedOutputStream;
import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import javax.imageio.ImageIO;

public class ImagingBench {
  public static void main(String[] args) throws IOException {
    switch (args.length > 0 ? args[0] : "") {
      case "generate" -> generate(Integer.parseInt(args[1]), Integer.parseInt(args[2]), args[3]);
      case "compare" -> compare(args[1], args[2], args.length > 3 ? Integer.parseInt(args[3]) : 0);
      default -> {
        System.err.println("usage: ImagingBench generate W H OUT.ppm | compare A.png B.png [BORDER]");
        System.exit(2);
      }
    }
  }

  // gradients, rings and blobs (structure at several scales) plus per-pixel noise (fine texture):
  // a blur has real work at every frequency, and nothing is flat enough to compress away
  static void generate(int w, int h, String out) throws IOException {
    Random random = new Random(20261206);
    byte[] row = new byte[3 * w];
    try (OutputStream o = new BufferedOutputStream(new FileOutputStream(out), 1 << 20)) {
      o.write(("P6\n" + w + " " + h + "\n255\n").getBytes(StandardCharsets.US_ASCII));
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          double dx = x - w * 0.4;
          double dy = y - h * 0.55;
          double rings = 40 * Math.sin(Math.sqrt(dx * dx + dy * dy) / 9.0);
          double blobs = 30 * Math.sin(x / 37.0) * Math.cos(y / 23.0);
          double r = 255.0 * x / w * 0.6 + rings + 40 + random.nextGaussian() * 18;
          double g = 255.0 * y / h * 0.6 + blobs + 50 + random.nextGaussian() * 18;
          double b = 128 + 0.5 * rings - 0.7 * blobs + (x ^ y) % 32 + random.nextGaussian() * 18;
          row[3 * x] = clamp(r);
          row[3 * x + 1] = clamp(g);
          row[3 * x + 2] = clamp(b);
        }
        o.write(row);
      }
    }
  }

  static byte clamp(double v) {
    return (byte) Math.max(0, Math.min(255, (int) Math.round(v)));
  }

  static void compare(String a, String b, int border) throws IOException {
    BufferedImage ia = ImageIO.read(new File(a));
    BufferedImage ib = ImageIO.read(new File(b));
    if (ia.getWidth() != ib.getWidth() || ia.getHeight() != ib.getHeight()) {
      System.err.println("compare: sizes differ: " + ia.getWidth() + "x" + ia.getHeight() + " and " + ib.getWidth() + "x" + ib.getHeight());
      System.exit(1);
    }
    int w = ia.getWidth();
    int h = ia.getHeight();
    int[] ra = ia.getRGB(0, 0, w, h, null, 0, w);
    int[] rb = ib.getRGB(0, 0, w, h, null, 0, w);
    String[] names = {"R", "G", "B"};
    for (int pass = 0; pass < (border > 0 ? 2 : 1); pass++) {
      int e = pass == 0 ? 0 : border;
      long[] sum = new long[3];
      int[] max = new int[3];
      long[] differing = new long[3];
      long n = 0;
      for (int y = e; y < h - e; y++) {
        for (int x = e; x < w - e; x++) {
          int pa = ra[y * w + x];
          int pb = rb[y * w + x];
          for (int c = 0; c < 3; c++) {
            int shift = 16 - 8 * c;
            int d = Math.abs((pa >> shift & 0xFF) - (pb >> shift & 0xFF));
            sum[c] += d;
            max[c] = Math.max(max[c], d);
            differing[c] += d > 0 ? 1 : 0;
          }
          n++;
        }
      }
      StringBuilder line = new StringBuilder(pass == 0 ? "whole" : "inner(border=" + border + ")");
      for (int c = 0; c < 3; c++) {
        line.append(String.format(" %s:max=%d,mean=%.4f,differing=%d(%.4f%%)", names[c], max[c], (double) sum[c] / n, differing[c], 100.0 * differing[c] / n));
      }
      System.out.println(line);
    }
  }
}
