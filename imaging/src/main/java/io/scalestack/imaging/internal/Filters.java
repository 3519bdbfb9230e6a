package io.scalestack.imaging.internal;

/**
 * The pixel loops behind {@code RgbImage}, on one plane ({@code byte[]} of unsigned samples, row
 * after row) at a time. Arguments are not checked here: {@code RgbImage} validates them.
 *
 * <p>The inner loops are written for C2's auto-vectorizer: stride 1, one element type per loop,
 * no branches, no calls but {@code Math.fma} (an intrinsic). Stateless and thread-safe.
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
   * Math.fma} over {@code float[]} rows into packed FMA instructions, one per 16 samples, while a
   * packed 32-bit integer multiply is slower and needs a separate add (12 MP, sigma 2, one core:
   * 171 ms in 16/15-bit fixed point, 152 ms in float, 122 ms with two distances per sweep). A
   * float's 24-bit mantissa keeps the sum exact to far below half a level, so rounding once at the
   * end gives the correctly rounded result except within about 1e-5 of a tie.
   *
   * <p>Immutable and thread-safe; each {@link #blur} call allocates its own row buffers.
   */
  public static final class Gaussian {

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
     * <p>One sweep down the plane: each source row is filtered horizontally once into a ring of
     * {@code 2·radius + 1} rows, and each output row is the vertical sum over the ring, computed
     * tap by tap across whole rows. Every loop walks rows with stride 1 and the working set (the
     * ring) stays in the L2 cache, instead of a full-size intermediate image and a column walk.
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
      int r = radius;
      int ringSize = Math.min(2 * r + 1, h);
      float[][] ring = new float[ringSize][w];
      float[] padded = new float[w + 2 * r];
      float[] acc = new float[w];
      int next = 0; // the next source row to filter horizontally
      for (int y = 0; y < h; y++) {
        int last = Math.min(y + r, h - 1);
        while (next <= last) {
          horizontal(src, next * w, w, padded, ring[next % ringSize]);
          next++;
        }
        vertical(ring, ringSize, y, h, acc);
        int offset = y * w;
        if (Float.isNaN(amount)) {
          // weights >= 0 summing to 1 (within float rounding): acc is in 0..255, so no clamp
          for (int x = 0; x < w; x++) {
            dst[offset + x] = (byte) (int) (acc[x] + 0.5f);
          }
        } else {
          for (int x = 0; x < w; x++) {
            float o = src[offset + x] & 0xFF;
            float v = Math.fma(amount, o - acc[x], o);
            dst[offset + x] = (byte) (int) Math.min(255f, Math.max(0f, v) + 0.5f);
          }
        }
      }
    }

    private void horizontal(byte[] src, int offset, int w, float[] padded, float[] out) {
      int r = radius;
      float first = src[offset] & 0xFF;
      float lastSample = src[offset + w - 1] & 0xFF;
      for (int i = 0; i < r; i++) {
        padded[i] = first;
        padded[r + w + i] = lastSample;
      }
      for (int x = 0; x < w; x++) {
        padded[r + x] = src[offset + x] & 0xFF;
      }
      float[] k = weights;
      float centre = k[0];
      // the kernel is symmetric: one multiplication for the two samples at distance d
      int d = 1;
      if (r >= 2) {
        float w1 = k[1];
        float w2 = k[2];
        for (int x = 0; x < w; x++) {
          out[x] = Math.fma(w2, padded[r - 2 + x] + padded[r + 2 + x], Math.fma(w1, padded[r - 1 + x] + padded[r + 1 + x], centre * padded[r + x]));
        }
        d = 3;
      } else {
        for (int x = 0; x < w; x++) {
          out[x] = centre * padded[r + x];
        }
      }
      for (; d + 1 <= r; d += 2) {
        float w1 = k[d];
        float w2 = k[d + 1];
        int l1 = r - d;
        int r1 = r + d;
        int l2 = r - d - 1;
        int r2 = r + d + 1;
        for (int x = 0; x < w; x++) {
          out[x] = Math.fma(w2, padded[l2 + x] + padded[r2 + x], Math.fma(w1, padded[l1 + x] + padded[r1 + x], out[x]));
        }
      }
      for (; d <= r; d++) {
        float weight = k[d];
        int left = r - d;
        int right = r + d;
        for (int x = 0; x < w; x++) {
          out[x] = Math.fma(weight, padded[left + x] + padded[right + x], out[x]);
        }
      }
    }

    private void vertical(float[][] ring, int ringSize, int y, int h, float[] acc) {
      int w = acc.length;
      float[] k = weights;
      float[] centreRow = ring[y % ringSize];
      float centre = k[0];
      int d = 1;
      if (radius >= 2) {
        float[] a1 = ring[Math.max(y - 1, 0) % ringSize];
        float[] b1 = ring[Math.min(y + 1, h - 1) % ringSize];
        float[] a2 = ring[Math.max(y - 2, 0) % ringSize];
        float[] b2 = ring[Math.min(y + 2, h - 1) % ringSize];
        float w1 = k[1];
        float w2 = k[2];
        for (int x = 0; x < w; x++) {
          acc[x] = Math.fma(w2, a2[x] + b2[x], Math.fma(w1, a1[x] + b1[x], centre * centreRow[x]));
        }
        d = 3;
      } else {
        for (int x = 0; x < w; x++) {
          acc[x] = centre * centreRow[x];
        }
      }
      // two distances (four rows) per sweep over acc: it is loaded and stored half as often (three
      // per sweep measured no faster)
      for (; d + 1 <= radius; d += 2) {
        float[] a1 = ring[Math.max(y - d, 0) % ringSize];
        float[] b1 = ring[Math.min(y + d, h - 1) % ringSize];
        float[] a2 = ring[Math.max(y - d - 1, 0) % ringSize];
        float[] b2 = ring[Math.min(y + d + 1, h - 1) % ringSize];
        float w1 = k[d];
        float w2 = k[d + 1];
        for (int x = 0; x < w; x++) {
          acc[x] = Math.fma(w2, a2[x] + b2[x], Math.fma(w1, a1[x] + b1[x], acc[x]));
        }
      }
      for (; d <= radius; d++) {
        float[] above = ring[Math.max(y - d, 0) % ringSize];
        float[] below = ring[Math.min(y + d, h - 1) % ringSize];
        float weight = k[d];
        for (int x = 0; x < w; x++) {
          acc[x] = Math.fma(weight, above[x] + below[x], acc[x]);
        }
      }
    }
  }
}
