package io.scalestack.imaging.internal;

/**
 * The pixel loops behind {@code RgbImage}, on one plane ({@code byte[]} of unsigned samples, row
 * after row) at a time. Arguments are not checked here: {@code RgbImage} validates them.
 *
 * <p>The inner loops are written for C2's auto-vectorizer: stride 1, no branches, no calls but
 * intrinsics ({@code Math.fma}, {@code min}, {@code max}, {@code System.arraycopy}); see {@link
 * Gaussian} for the shapes it does and does not vectorize. Stateless and thread-safe.
 */
public final class Filters {

  private Filters() {}

  /** The {@code w × h} rectangle at {@code (x, y)} of a plane {@code stride} samples wide. */
  public static byte[] crop(byte[] src, int stride, int x, int y, int w, int h) {
    byte[] dst = new byte[w * h];
    for (int row = 0; row < h; row++) {
      System.arraycopy(src, (y + row) * stride + x, dst, row * w, w);
    }
    return dst;
  }

  /**
   * Bilinear resampling of a {@code sw × sh} plane to {@code dw × dh}: source coordinate {@code
   * (x + 0.5) × sw / dw − 0.5}, clamped to the plane, 8-bit fixed-point weights per axis.
   */
  public static byte[] resizeBilinear(byte[] src, int sw, int sh, int dw, int dh) {
    int[] x0 = new int[dw];
    int[] x1 = new int[dw];
    int[] fx = new int[dw];
    axis(sw, dw, x0, x1, fx);
    int[] y0 = new int[dh];
    int[] y1 = new int[dh];
    int[] fy = new int[dh];
    axis(sh, dh, y0, y1, fy);
    byte[] dst = new byte[dw * dh];
    for (int y = 0; y < dh; y++) {
      int top = y0[y] * sw;
      int bottom = y1[y] * sw;
      int wy = fy[y];
      int out = y * dw;
      for (int x = 0; x < dw; x++) {
        int wx = fx[x];
        int a = x0[x];
        int b = x1[x];
        int upper = (src[top + a] & 0xFF) * (256 - wx) + (src[top + b] & 0xFF) * wx;
        int lower = (src[bottom + a] & 0xFF) * (256 - wx) + (src[bottom + b] & 0xFF) * wx;
        dst[out + x] = (byte) ((upper * (256 - wy) + lower * wy + (1 << 15)) >> 16);
      }
    }
    return dst;
  }

  private static void axis(int source, int target, int[] lo, int[] hi, int[] frac) {
    double scale = (double) source / target;
    for (int i = 0; i < target; i++) {
      double s = Math.min(Math.max((i + 0.5) * scale - 0.5, 0), source - 1);
      int base = (int) s;
      lo[i] = base;
      hi[i] = Math.min(base + 1, source - 1);
      frac[i] = (int) Math.round((s - base) * 256);
      if (frac[i] == 256) { // s just below an integer: the next sample alone
        lo[i] = hi[i];
        frac[i] = 0;
      }
    }
  }

  /**
   * A normalized Gaussian of radius {@code ceil(3 sigma)}, one half of it (the kernel is symmetric),
   * in {@code float}.
   *
   * <p>Float rather than fixed point because of what the CPU does fastest: C2 turns {@code
   * Math.fma} over {@code float[]} rows into packed FMA instructions, one per 16 samples (AVX-512),
   * while a packed 32-bit integer multiply is slower and needs a separate add (the earlier,
   * horizontal-first version of this blur: 171 ms in 16/15-bit fixed point, 152 ms in float). A
   * float's 24-bit mantissa keeps the sum exact to far below half a level, so rounding once at the
   * end gives the correctly rounded result except within about 1e-5 of a tie.
   *
   * <h2>Loop shapes</h2>
   *
   * Every hot loop here has the one shape C2's auto-vectorizer (SuperWord) handles at full width
   * whatever the radius: {@code out[x] = f(a[x], b[x], …, out[x])}, every array indexed by the
   * same {@code x}, at most about 7 loads. What it does not vectorize well (JDK 25 C2 on AVX-512,
   * 36 M samples, measured one loop at a time):
   *
   * <ul>
   *   <li>a {@code float} store and a load at an offset not known when compiling, {@code out[x] =
   *       … p[x + d] …}: C2 cannot rule out {@code out == p} and so a dependence shorter than a
   *       vector; the loop stays scalar (16 ms against 2.4 ms for two loads and an FMA). That was
   *       the old horizontal pass: three quarters of the old blur's time;
   *   <li>several loads of one array at constant offsets ({@code p[x + 5] + p[x + 7]}, 7–10 ms):
   *       after unrolling, equal addresses of different iterations are merged and the packs break;
   *   <li>{@code (float) (b & 0xFF)} of a {@code byte}: the unsigned conversion is scalar, the
   *       signed one is not (see {@link Filters#toFloat});
   *   <li>loops with many loads (13, all taps at once: 60–75 ms), above all those that store
   *       {@code byte}s: unrolled to 64 byte lanes they exceed C2's unrolling limit.
   * </ul>
   *
   * So the horizontal pass does not index one padded row at {@code x ± d}: each distance reads
   * its own copy of the row, shifted by {@link System#arraycopy} (an intrinsic: a 16 KB row in
   * about 50 ns), and both passes become sums of whole rows, two distances per sweep.
   *
   * <p>Where the time goes (12 MP RGB, sigma 2, one core, about 50 ms in all): the byte → float
   * conversion 7–8 ms, the vertical pass 14, the shifted copies 14, the horizontal pass 13.5, the
   * rounding 3–3.5, the result's allocation 1.5 ({@code benchmarks/imaging/BlurPasses.java}).
   * Each pass is bound by moving data between the core and its caches (13 rows read per sample in
   * each pass, a read and a write per sample and distance for the copies), not by arithmetic:
   * AVX2's half-width vectors ({@code -XX:MaxVectorSize=32}) are only 8 % slower.
   *
   * <p>Immutable and thread-safe; each {@link #blur} call allocates its own row buffers.
   */
  public static final class Gaussian {

    /**
     * The horizontal pass works on this many samples of a row at a time, so that its {@code
     * 2·radius} shifted copies take at most {@code 2·radius × 16 KB} whatever the width (at 4000
     * samples a row is one piece; pieces of 512 or 1024, to stay in the L1 cache, measured slower).
     */
    static final int PIECE = 4096;

    final int radius;
    final float[] weights; // [0] centre, [d] the weight at distance d

    private Gaussian(int radius, float[] weights) {
      this.radius = radius;
      this.weights = weights;
    }

    /** The kernel for {@code sigma > 0}. */
    public static Gaussian of(double sigma) {
      int radius = Math.max(1, (int) Math.ceil(3 * sigma));
      double[] exact = weights(sigma, radius);
      float[] weights = new float[radius + 1];
      for (int k = 0; k <= radius; k++) {
        weights[k] = (float) exact[k];
      }
      return new Gaussian(radius, weights);
    }

    /** The normalized weights {@code [0..radius]} (centre first) of the kernel of this sigma. */
    public static double[] weights(double sigma, int radius) {
      double[] w = new double[radius + 1];
      double sum = 0;
      for (int k = 0; k <= radius; k++) {
        w[k] = Math.exp(-(k * (double) k) / (2 * sigma * sigma));
        sum += k == 0 ? w[k] : 2 * w[k];
      }
      for (int k = 0; k <= radius; k++) {
        w[k] /= sum;
      }
      return w;
    }

    /** The radius in pixels. */
    public int radius() {
      return radius;
    }

    /**
     * Blurs the {@code w × h} plane {@code src} into {@code dst} (another array of the same size).
     *
     * <p>One sweep down the plane, vertical pass first: each source row is turned into floats once,
     * into a ring of {@code 2·radius + 1} rows; each output row is the vertical sum over the ring,
     * then the horizontal sum over shifted copies of that, then rounded. The working set (ring and
     * copies, about 30 rows) stays in the L2 cache.
     */
    public void blur(byte[] src, byte[] dst, int w, int h) {
      sweep(src, dst, w, h, Float.NaN);
    }

    /**
     * Sharpens the {@code w × h} plane {@code src} into {@code dst} by an unsharp mask: {@code
     * src + amount × (src − blur)}, rounded and clamped to 0..255. The blur is this kernel's, not
     * rounded to a level first, and never stored: the mask is applied as each blurred row is made.
     */
    public void sharpen(byte[] src, byte[] dst, int w, int h, float amount) {
      sweep(src, dst, w, h, amount);
    }

    // amount NaN: blur; else unsharp mask with that amount
    private void sweep(byte[] src, byte[] dst, int w, int h, float amount) {
      Sweep sweep = new Sweep(this, src, dst, w, h, amount);
      for (int y = 0; y < h; y++) {
        sweep.row(y);
      }
    }

    /**
     * One sweep down one plane: its row buffers, and the work for one output row as a method of
     * its own. Called once a row rather than looping inside one long method, it is compiled with a
     * complete profile while the first plane is filtered; as one method with the loop, the JIT's
     * on-stack replacement compiled it early, hit a loop check it had not seen and recompiled it,
     * twice, stretching the warm-up over the next two images.
     */
    private static final class Sweep {
      private final Gaussian kernel;
      private final byte[] src;
      private final byte[] dst;
      private final int w;
      private final int h;
      private final float amount; // NaN: blur
      private final float[][] ring; // the source rows y - radius..y + radius as floats
      // below[d] and above[d]: the rows at distance d (1..r) of the current one, for each pass
      private final float[][] below;
      private final float[][] above;
      private final float[] column; // the vertical pass's result for one row
      private final int piece;
      private final float[][] left; // left[d][i] = column[max(x0 + i - d, 0)]
      private final float[][] right; // right[d][i] = column[min(x0 + i + d, w - 1)]
      private final float[] middle; // a window of column or of the original row, see window()
      private final float[] blurred; // the blurred row from x0, before rounding
      private int next; // the next source row to convert

      Sweep(Gaussian kernel, byte[] src, byte[] dst, int w, int h, float amount) {
        int r = kernel.radius;
        this.kernel = kernel;
        this.src = src;
        this.dst = dst;
        this.w = w;
        this.h = h;
        this.amount = amount;
        ring = new float[Math.min(2 * r + 1, h)][w];
        below = new float[r + 1][];
        above = new float[r + 1][];
        column = new float[w];
        piece = Math.min(w, PIECE);
        left = new float[r + 1][];
        right = new float[r + 1][];
        for (int d = 1; d <= r; d++) {
          left[d] = new float[piece];
          right[d] = new float[piece];
        }
        middle = new float[piece];
        blurred = new float[piece];
      }

      void row(int y) {
        int r = kernel.radius;
        int ringSize = ring.length;
        for (int last = Math.min(y + r, h - 1); next <= last; next++) {
          toFloat(src, next * w, ring[next % ringSize], w);
        }
        for (int d = 1; d <= r; d++) { // edges clamped: rows beyond the plane repeat the first or last
          below[d] = ring[Math.max(y - d, 0) % ringSize];
          above[d] = ring[Math.min(y + d, h - 1) % ringSize];
        }
        float[] centre = ring[y % ringSize];
        kernel.symmetricSum(centre, below, above, column, w);
        for (int x0 = 0; x0 < w; x0 += piece) {
          int n = Math.min(piece, w - x0);
          for (int d = 1; d <= r; d++) {
            shift(column, w, x0 - d, left[d], n);
            shift(column, w, x0 + d, right[d], n);
          }
          kernel.symmetricSum(window(column, x0, n), left, right, blurred, n);
          if (Float.isNaN(amount)) {
            round(blurred, dst, y * w + x0, n);
          } else {
            unsharp(window(centre, x0, n), blurred, amount, dst, y * w + x0, n);
          }
        }
      }

      // samples x0..x0 + n of a row: the row itself when that is all of it, else a copy in middle
      private float[] window(float[] row, int x0, int n) {
        if (x0 == 0 && n == w) {
          return row;
        }
        System.arraycopy(row, x0, middle, 0, n);
        return middle;
      }
    }

    /**
     * {@code out = weights[0]·centre + Σ weights[d]·(below[d] + above[d])}, element by element for
     * the first {@code w}: the kernel is symmetric, so one multiplication for the two rows at
     * distance d.
     */
    void symmetricSum(float[] centre, float[][] below, float[][] above, float[] out, int w) {
      float[] k = weights;
      float k0 = k[0];
      int d = 1;
      if (radius >= 2) {
        float[] b1 = below[1];
        float[] a1 = above[1];
        float[] b2 = below[2];
        float[] a2 = above[2];
        float k1 = k[1];
        float k2 = k[2];
        for (int x = 0; x < w; x++) {
          out[x] = Math.fma(k2, b2[x] + a2[x], Math.fma(k1, b1[x] + a1[x], k0 * centre[x]));
        }
        d = 3;
      } else {
        for (int x = 0; x < w; x++) {
          out[x] = k0 * centre[x];
        }
      }
      // two distances (four rows) per sweep over out: it is loaded and stored half as often
      for (; d + 1 <= radius; d += 2) {
        float[] b1 = below[d];
        float[] a1 = above[d];
        float[] b2 = below[d + 1];
        float[] a2 = above[d + 1];
        float k1 = k[d];
        float k2 = k[d + 1];
        for (int x = 0; x < w; x++) {
          out[x] = Math.fma(k2, b2[x] + a2[x], Math.fma(k1, b1[x] + a1[x], out[x]));
        }
      }
      if (d == radius) {
        float[] b1 = below[d];
        float[] a1 = above[d];
        float k1 = k[d];
        for (int x = 0; x < w; x++) {
          out[x] = Math.fma(k1, b1[x] + a1[x], out[x]);
        }
      }
    }
  }

  /** {@code dst[offset + x] = round(row[x])}: a blurred row, whose samples are in 0..255. */
  static void round(float[] row, byte[] dst, int offset, int w) {
    // weights >= 0 summing to 1 (within float rounding): no clamp needed, and (int) truncates
    // a non-negative value, so + 0.5 rounds half up
    for (int x = 0; x < w; x++) {
      dst[offset + x] = (byte) (int) (row[x] + 0.5f);
    }
  }

  /** The unsharp mask {@code original + amount × (original − blurred)}, rounded and clamped. */
  static void unsharp(float[] original, float[] blurred, float amount, byte[] dst, int offset, int w) {
    for (int x = 0; x < w; x++) {
      float o = original[x];
      float v = Math.fma(amount, o - blurred[x], o);
      dst[offset + x] = (byte) (int) Math.min(255f, Math.max(0f, v) + 0.5f);
    }
  }

  /**
   * {@code to[i] = from[clamp(start + i, 0, w - 1)]} for {@code i} in {@code [0, n)}: samples of a
   * {@code w}-sample row from any {@code start}, before or beyond the row's ends too, where the
   * edge sample repeats. An {@link System#arraycopy} and at most two small fills.
   */
  static void shift(float[] from, int w, int start, float[] to, int n) {
    int a = Math.min(Math.max(-start, 0), n); // to[0..a): before the row
    int b = Math.min(Math.max(w - start, a), n); // to[b..n): beyond it
    java.util.Arrays.fill(to, 0, a, from[0]);
    if (b > a) {
      System.arraycopy(from, start + a, to, a, b - a);
    }
    java.util.Arrays.fill(to, b, n, from[w - 1]);
  }

  /**
   * The unsigned samples {@code src[offset..offset + w)} as floats. C2 vectorizes the signed
   * conversion {@code (float) b} but not {@code (float) (b & 0xFF)} (about 3× slower over 36 M
   * samples); the signed value {@code s} is {@code u − 256} for {@code u >= 128}, and on integers
   * {@code max(−1, min(0, s))} is −1 exactly there, so {@code u = s − 256·max(−1, min(0, s))}
   * (min and max vectorize too).
   */
  static void toFloat(byte[] src, int offset, float[] dst, int w) {
    for (int x = 0; x < w; x++) {
      float s = src[offset + x];
      dst[x] = Math.fma(-256f, Math.max(-1f, Math.min(0f, s)), s);
    }
  }
}
