package io.scalestack.imaging.internal;

/**
 * The pixel loops behind {@code RgbImage}, on one plane ({@code byte[]} of unsigned samples, row
 * after row) at a time. Arguments are not checked here: {@code RgbImage} validates them.
 *
 * <p>The inner loops are written for C2's auto-vectorizer: stride 1, {@code int} arithmetic, no
 * branches, no calls. Stateless and thread-safe.
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
   * {@code dst = clamp(src + amount × (src − blurred))}, rounded; {@code amount} in 12-bit fixed
   * point (ample for 0..100: the error it adds is below 1/40 of a level).
   */
  public static void unsharp(byte[] src, byte[] blurred, byte[] dst, double amount) {
    int a = (int) Math.round(amount * 4096);
    for (int i = 0; i < src.length; i++) {
      int o = src[i] & 0xFF;
      int v = o + ((a * (o - (blurred[i] & 0xFF)) + 2048) >> 12);
      dst[i] = (byte) Math.min(255, Math.max(0, v));
    }
  }

  /**
   * A normalized Gaussian of radius {@code ceil(3 sigma)} as two integer kernels (one half each,
   * the kernel being symmetric): the horizontal pass in 16-bit and the vertical in 15-bit fixed
   * point, each summing to exactly its scale so that a constant plane stays constant.
   *
   * <p>The horizontal pass keeps 7 fractional bits in its {@code int} rows; the vertical pass then
   * fits in an {@code int} ({@code 255·2^7 · 2^15 < 2^31}) and rounds once at the end.
   */
  public static final class Gaussian {
    static final int H_BITS = 16;
    static final int V_BITS = 15;
    static final int FRACTION_BITS = 7;

    final int radius;
    final int[] horizontal; // [0] centre, [k] the weight at distance k
    final int[] vertical;

    private Gaussian(int radius, int[] horizontal, int[] vertical) {
      this.radius = radius;
      this.horizontal = horizontal;
      this.vertical = vertical;
    }

    /** The kernel for {@code sigma > 0}. */
    public static Gaussian of(double sigma) {
      int radius = Math.max(1, (int) Math.ceil(3 * sigma));
      double[] weights = weights(sigma, radius);
      return new Gaussian(radius, quantize(weights, 1 << H_BITS), quantize(weights, 1 << V_BITS));
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

    private static int[] quantize(double[] weights, int scale) {
      int[] q = new int[weights.length];
      long sum = 0;
      for (int k = 0; k < weights.length; k++) {
        q[k] = (int) Math.round(weights[k] * scale);
        sum += k == 0 ? q[k] : 2L * q[k];
      }
      // rounding leaves the sum a little off the scale: the centre takes the difference
      q[0] += (int) (scale - sum);
      if (q[0] < 0) {
        throw new IllegalStateException("Gaussian: centre weight " + q[0] + " (expected: >= 0; sigma too large for the fixed point)");
      }
      return q;
    }

    /** The radius in pixels. */
    public int radius() {
      return radius;
    }

    /**
     * Blurs the {@code w × h} plane {@code src} into {@code dst} (another array of the same size).
     *
     * <p>One sweep down the plane: each source row is filtered horizontally once into a ring of
     * {@code 2·radius + 1} rows, and each output row is the vertical sum over the ring, computed
     * tap by tap across whole rows. Every loop walks rows with stride 1 and the working set (the
     * ring) stays in the L2 cache, instead of a full-size intermediate image and a column walk.
     */
    public void blur(byte[] src, byte[] dst, int w, int h) {
      int r = radius;
      int ringSize = Math.min(2 * r + 1, h);
      int[][] ring = new int[ringSize][w];
      int[] padded = new int[w + 2 * r];
      int[] acc = new int[w];
      int next = 0; // the next source row to filter horizontally
      for (int y = 0; y < h; y++) {
        int last = Math.min(y + r, h - 1);
        while (next <= last) {
          horizontal(src, next * w, w, padded, ring[next % ringSize]);
          next++;
        }
        vertical(ring, ringSize, y, h, acc, dst, y * w, w);
      }
    }

    private void horizontal(byte[] src, int offset, int w, int[] padded, int[] out) {
      int r = radius;
      int first = src[offset] & 0xFF;
      int lastSample = src[offset + w - 1] & 0xFF;
      for (int i = 0; i < r; i++) {
        padded[i] = first;
        padded[r + w + i] = lastSample;
      }
      for (int x = 0; x < w; x++) {
        padded[r + x] = src[offset + x] & 0xFF;
      }
      int[] k = horizontal;
      int centre = k[0];
      for (int x = 0; x < w; x++) {
        out[x] = centre * padded[r + x];
      }
      // the kernel is symmetric: one multiplication for the two samples at distance d
      for (int d = 1; d <= r; d++) {
        int weight = k[d];
        int left = r - d;
        int right = r + d;
        for (int x = 0; x < w; x++) {
          out[x] += weight * (padded[left + x] + padded[right + x]);
        }
      }
      int shift = H_BITS - FRACTION_BITS;
      int half = 1 << (shift - 1);
      for (int x = 0; x < w; x++) {
        out[x] = (out[x] + half) >> shift;
      }
    }

    private void vertical(int[][] ring, int ringSize, int y, int h, int[] acc, byte[] dst, int offset, int w) {
      int[] k = vertical;
      int[] centreRow = ring[y % ringSize];
      int centre = k[0];
      for (int x = 0; x < w; x++) {
        acc[x] = centre * centreRow[x];
      }
      for (int d = 1; d <= radius; d++) {
        int[] above = ring[Math.max(y - d, 0) % ringSize];
        int[] below = ring[Math.min(y + d, h - 1) % ringSize];
        int weight = k[d];
        for (int x = 0; x < w; x++) {
          acc[x] += weight * (above[x] + below[x]);
        }
      }
      int shift = V_BITS + FRACTION_BITS;
      int half = 1 << (shift - 1);
      for (int x = 0; x < w; x++) {
        dst[offset + x] = (byte) ((acc[x] + half) >> shift);
      }
    }
  }
}
