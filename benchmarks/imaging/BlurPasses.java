// benchmarks/imaging/BlurPasses.java: where the blur's time goes, pass by pass. In the imaging
// module's internal package, so that it can call the package-private passes (hence compiled
// beside the module's classes rather than run as a single-file program); it repeats
// Filters.Gaussian's sweep with a clock read around each pass of each row.
//
//   ./mvnw -B -ntp -o -q -pl imaging verify
//   javac -d /tmp/blur-passes -cp imaging/target/classes benchmarks/imaging/BlurPasses.java
//   taskset -c 1 java -XX:+UseSerialGC -cp /tmp/blur-passes:imaging/target/classes \
//       io.scalestack.imaging.internal.BlurPasses [SIGMA] [REPEAT] [W] [H]
//
// Prints, per repetition of all three planes of a W x H image (default 4000 x 3000, random-ish
// texture), the thread CPU time of the real Gaussian.blur and, from a separate instrumented run,
// the milliseconds of each pass (wall clock summed over rows: run it on an otherwise idle CPU).
package io.scalestack.imaging.internal;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;

public class BlurPasses {

  public static void main(String[] args) {
    double sigma = args.length > 0 ? Double.parseDouble(args[0]) : 2;
    int repeat = args.length > 1 ? Integer.parseInt(args[1]) : 12;
    int w = args.length > 2 ? Integer.parseInt(args[2]) : 4000;
    int h = args.length > 3 ? Integer.parseInt(args[3]) : 3000;
    Random random = new Random(20261207);
    byte[][] planes = new byte[3][w * h];
    for (int c = 0; c < 3; c++) {
      for (int i = 0; i < w * h; i++) {
        double v = 128 + 60 * Math.sin(i % w / 30.0 + c) * Math.cos(i / w / 20.0) + random.nextGaussian() * 18;
        planes[c][i] = (byte) Math.max(0, Math.min(255, (int) v));
      }
    }
    Filters.Gaussian kernel = Filters.Gaussian.of(sigma);
    var threads = ManagementFactory.getThreadMXBean();
    double[] whole = new double[repeat];
    long[] passes = new long[6];
    for (int i = 0; i < repeat; i++) {
      long start = threads.getCurrentThreadCpuTime();
      for (byte[] plane : planes) {
        kernel.blur(plane, new byte[w * h], w, h);
      }
      whole[i] = (threads.getCurrentThreadCpuTime() - start) / 1e6;
    }
    for (int i = 0; i < repeat; i++) {
      if (i == repeat / 2) {
        Arrays.fill(passes, 0); // the first half warms the JIT up
      }
      for (byte[] plane : planes) {
        long t = System.nanoTime();
        byte[] dst = new byte[w * h];
        passes[0] += System.nanoTime() - t;
        instrumented(kernel, plane, dst, w, h, passes);
      }
    }
    Arrays.sort(whole);
    int counted = repeat - repeat / 2;
    System.out.printf("Gaussian.blur sigma %s, %dx%d x 3 planes, thread CPU time: min %.1f ms, median %.1f ms%n",
        sigma, w, h, whole[0], whole[repeat / 2]);
    String[] names = {"allocate the result", "bytes -> floats", "vertical pass", "shifted copies", "horizontal pass", "round to bytes"};
    long total = Arrays.stream(passes).sum();
    for (int p = 0; p < passes.length; p++) {
      System.out.printf("  %-22s %6.1f ms%n", names[p], passes[p] / 1e6 / counted);
    }
    System.out.printf("  %-22s %6.1f ms (instrumented, per repetition)%n", "sum", total / 1e6 / counted);
  }

  // Gaussian.sweep for a blur, with the clock read around each pass
  static void instrumented(Filters.Gaussian kernel, byte[] src, byte[] dst, int w, int h, long[] passes) {
    int r = kernel.radius;
    int ringSize = Math.min(2 * r + 1, h);
    float[][] ring = new float[ringSize][w];
    float[][] below = new float[r + 1][];
    float[][] above = new float[r + 1][];
    float[] column = new float[w];
    int piece = Math.min(w, Filters.Gaussian.PIECE);
    float[][] left = new float[r + 1][];
    float[][] right = new float[r + 1][];
    for (int d = 1; d <= r; d++) {
      left[d] = new float[piece];
      right[d] = new float[piece];
    }
    float[] middle = new float[piece];
    float[] row = new float[piece];
    int next = 0;
    for (int y = 0; y < h; y++) {
      long t0 = System.nanoTime();
      for (int last = Math.min(y + r, h - 1); next <= last; next++) {
        Filters.toFloat(src, next * w, ring[next % ringSize], w);
      }
      for (int d = 1; d <= r; d++) {
        below[d] = ring[Math.max(y - d, 0) % ringSize];
        above[d] = ring[Math.min(y + d, h - 1) % ringSize];
      }
      long t1 = System.nanoTime();
      kernel.symmetricSum(ring[y % ringSize], below, above, column, w);
      long t2 = System.nanoTime();
      passes[1] += t1 - t0;
      passes[2] += t2 - t1;
      for (int x0 = 0; x0 < w; x0 += piece) {
        int n = Math.min(piece, w - x0);
        long s0 = System.nanoTime();
        for (int d = 1; d <= r; d++) {
          Filters.shift(column, w, x0 - d, left[d], n);
          Filters.shift(column, w, x0 + d, right[d], n);
        }
        float[] centre = column;
        if (n != w) {
          System.arraycopy(column, x0, middle, 0, n);
          centre = middle;
        }
        long s1 = System.nanoTime();
        kernel.symmetricSum(centre, left, right, row, n);
        long s2 = System.nanoTime();
        Filters.round(row, dst, y * w + x0, n);
        long s3 = System.nanoTime();
        passes[3] += s1 - s0;
        passes[4] += s2 - s1;
        passes[5] += s3 - s2;
      }
    }
  }
}
