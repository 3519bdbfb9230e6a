package io.scalestack.imaging;

import io.scalestack.imaging.internal.Filters;
import java.util.Objects;

/**
 * An 8-bit RGB image, stored planar: three {@code byte[]} planes (red, green, blue) of {@code
 * width × height} samples each, row after row, unsigned (0..255). Planar rather than interleaved
 * so that each filter pass walks one contiguous array with stride 1, which the JIT turns into SIMD
 * loops; an interleaved layout would put a stride of 3 in every inner loop.
 *
 * <p>The operations ({@link #crop}, {@link #resize}, {@link #gaussianBlur}, {@link #sharpen}) return
 * a new image and leave this one alone; each runs single-threaded on the calling thread.
 *
 * <p>Immutable by convention: the factories copy nothing when given planes ({@link #ofPlanes}), so
 * the caller must not change the arrays afterwards. Safe to share between threads once built.
 */
public final class RgbImage {

  /** The largest number of pixels of one image: one plane is one Java array. */
  public static final int MAX_PIXELS = Integer.MAX_VALUE - 8;

  /** The largest sigma {@link #gaussianBlur} and {@link #sharpen} accept, in pixels. */
  public static final double MAX_SIGMA = 100;

  /** The largest amount {@link #sharpen} accepts. */
  public static final double MAX_AMOUNT = 100;

  private final int width;
  private final int height;
  private final byte[] red;
  private final byte[] green;
  private final byte[] blue;

  private RgbImage(int width, int height, byte[] red, byte[] green, byte[] blue) {
    this.width = width;
    this.height = height;
    this.red = red;
    this.green = green;
    this.blue = blue;
  }

  /**
   * An image on these three planes, taken as they are (not copied): each holds {@code width ×
   * height} samples, row after row.
   *
   * @throws IllegalArgumentException if a size is out of range or a plane has another length
   */
  public static RgbImage ofPlanes(int width, int height, byte[] red, byte[] green, byte[] blue) {
    int pixels = pixels(width, height);
    checkPlane("red", red, pixels);
    checkPlane("green", green, pixels);
    checkPlane("blue", blue, pixels);
    return new RgbImage(width, height, red, green, blue);
  }

  /**
   * An image from interleaved samples {@code r, g, b, r, g, b, …}, row after row (copied into planes).
   *
   * @throws IllegalArgumentException if a size is out of range or {@code rgb} has another length
   */
  public static RgbImage ofInterleaved(int width, int height, byte[] rgb) {
    int pixels = pixels(width, height);
    Objects.requireNonNull(rgb, "rgb");
    if (rgb.length != 3L * pixels) {
      throw new IllegalArgumentException("rgb: " + rgb.length + " bytes (expected: 3 × width × height = " + 3L * pixels + ")");
    }
    byte[] r = new byte[pixels];
    byte[] g = new byte[pixels];
    byte[] b = new byte[pixels];
    for (int i = 0, j = 0; i < pixels; i++, j += 3) {
      r[i] = rgb[j];
      g[i] = rgb[j + 1];
      b[i] = rgb[j + 2];
    }
    return new RgbImage(width, height, r, g, b);
  }

  /** An image of one colour, {@code 0xRRGGBB}. */
  public static RgbImage filled(int width, int height, int rgb) {
    int pixels = pixels(width, height);
    byte[] r = new byte[pixels];
    byte[] g = new byte[pixels];
    byte[] b = new byte[pixels];
    java.util.Arrays.fill(r, (byte) (rgb >>> 16));
    java.util.Arrays.fill(g, (byte) (rgb >>> 8));
    java.util.Arrays.fill(b, (byte) rgb);
    return new RgbImage(width, height, r, g, b);
  }

  /** Width in pixels, at least 1. */
  public int width() {
    return width;
  }

  /** Height in pixels, at least 1. */
  public int height() {
    return height;
  }

  /**
   * The colour of one pixel as {@code 0xRRGGBB}.
   *
   * @throws IndexOutOfBoundsException if {@code (x, y)} is outside the image
   */
  public int rgb(int x, int y) {
    Objects.checkIndex(x, width);
    Objects.checkIndex(y, height);
    int i = y * width + x;
    return (red[i] & 0xFF) << 16 | (green[i] & 0xFF) << 8 | blue[i] & 0xFF;
  }

  /**
   * The samples interleaved {@code r, g, b, r, g, b, …}, row after row: a new array.
   *
   * @throws ArithmeticException if the image has more than {@code (2^31 - 1) / 3} pixels, too
   *     many for one array
   */
  public byte[] toInterleaved() {
    int pixels = width * height;
    byte[] rgb = new byte[Math.multiplyExact(3, pixels)];
    for (int i = 0, j = 0; i < pixels; i++, j += 3) {
      rgb[j] = red[i];
      rgb[j + 1] = green[i];
      rgb[j + 2] = blue[i];
    }
    return rgb;
  }

  /**
   * The rectangle of {@code width × height} pixels whose top left corner is {@code (x, y)}.
   *
   * @throws IllegalArgumentException if the rectangle is empty or not inside this image
   */
  public RgbImage crop(int x, int y, int width, int height) {
    if (x < 0 || x >= this.width) {
      throw new IllegalArgumentException("x: " + x + " (expected: 0.." + (this.width - 1) + ", inside the image's width " + this.width + ")");
    }
    if (y < 0 || y >= this.height) {
      throw new IllegalArgumentException("y: " + y + " (expected: 0.." + (this.height - 1) + ", inside the image's height " + this.height + ")");
    }
    if (width < 1 || width > this.width - x) {
      throw new IllegalArgumentException("width: " + width + " (expected: 1.." + (this.width - x) + " so that x + width <= " + this.width + ")");
    }
    if (height < 1 || height > this.height - y) {
      throw new IllegalArgumentException("height: " + height + " (expected: 1.." + (this.height - y) + " so that y + height <= " + this.height + ")");
    }
    return new RgbImage(width, height,
        Filters.crop(red, this.width, x, y, width, height),
        Filters.crop(green, this.width, x, y, width, height),
        Filters.crop(blue, this.width, x, y, width, height));
  }

  /**
   * This image scaled to {@code width × height} by bilinear interpolation (pixel centres aligned,
   * edges clamped). There is no low-pass filter before a reduction: to shrink by more than 2×
   * without aliasing, {@link #gaussianBlur} first (sigma about a third of the factor).
   *
   * @throws IllegalArgumentException if a size is below 1 or the result would exceed {@link #MAX_PIXELS}
   */
  public RgbImage resize(int width, int height) {
    pixels(width, height);
    return new RgbImage(width, height,
        Filters.resizeBilinear(red, this.width, this.height, width, height),
        Filters.resizeBilinear(green, this.width, this.height, width, height),
        Filters.resizeBilinear(blue, this.width, this.height, width, height));
  }

  /**
   * This image blurred with a Gaussian of standard deviation {@code sigma} pixels: two passes of a
   * normalized 1-D kernel of radius {@code ceil(3 sigma)} (vertical, then horizontal), edges
   * clamped, in {@code float} with one rounding at the end (equal to the exactly computed and
   * rounded result but for samples within about 1e-5 of a half level, which may differ by 1).
   *
   * @throws IllegalArgumentException if {@code sigma} is not in {@code (0, MAX_SIGMA]}
   */
  public RgbImage gaussianBlur(double sigma) {
    checkSigma(sigma);
    Filters.Gaussian kernel = Filters.Gaussian.of(sigma);
    int pixels = width * height;
    byte[] r = new byte[pixels];
    byte[] g = new byte[pixels];
    byte[] b = new byte[pixels];
    kernel.blur(red, r, width, height);
    kernel.blur(green, g, width, height);
    kernel.blur(blue, b, width, height);
    return new RgbImage(width, height, r, g, b);
  }

  /**
   * This image sharpened by an unsharp mask: {@code original + amount × (original − blur)}, where
   * blur is {@link #gaussianBlur gaussianBlur(sigma)} before its rounding, the result rounded and
   * clamped to 0..255. One pass: the blur is never stored.
   *
   * @throws IllegalArgumentException if {@code sigma} is not in {@code (0, MAX_SIGMA]} or {@code
   *     amount} not in {@code [0, MAX_AMOUNT]}
   */
  public RgbImage sharpen(double sigma, double amount) {
    checkSigma(sigma);
    if (!(amount >= 0 && amount <= MAX_AMOUNT)) {
      throw new IllegalArgumentException("amount: " + amount + " (expected: 0.." + (int) MAX_AMOUNT + ")");
    }
    Filters.Gaussian kernel = Filters.Gaussian.of(sigma);
    int pixels = width * height;
    byte[] r = new byte[pixels];
    byte[] g = new byte[pixels];
    byte[] b = new byte[pixels];
    kernel.sharpen(red, r, width, height, (float) amount);
    kernel.sharpen(green, g, width, height, (float) amount);
    kernel.sharpen(blue, b, width, height, (float) amount);
    return new RgbImage(width, height, r, g, b);
  }

  // Package-private: the codec reads and writes the planes without copying them.
  byte[] red() {
    return red;
  }

  byte[] green() {
    return green;
  }

  byte[] blue() {
    return blue;
  }

  @Override
  public String toString() {
    return "RgbImage[" + width + "x" + height + "]";
  }

  private static void checkSigma(double sigma) {
    if (!(sigma > 0 && sigma <= MAX_SIGMA)) {
      throw new IllegalArgumentException("sigma: " + sigma + " (expected: > 0 and <= " + (int) MAX_SIGMA + ")");
    }
  }

  private static int pixels(int width, int height) {
    if (width < 1) {
      throw new IllegalArgumentException("width: " + width + " (expected: >= 1)");
    }
    if (height < 1) {
      throw new IllegalArgumentException("height: " + height + " (expected: >= 1)");
    }
    long pixels = (long) width * height;
    if (pixels > MAX_PIXELS) {
      throw new IllegalArgumentException("pixels: " + width + "x" + height + " = " + pixels + " (expected: <= " + MAX_PIXELS + ")");
    }
    return (int) pixels;
  }

  private static void checkPlane(String name, byte[] plane, int pixels) {
    Objects.requireNonNull(plane, name);
    if (plane.length != pixels) {
      throw new IllegalArgumentException(name + ": " + plane.length + " bytes (expected: width × height = " + pixels + ")");
    }
  }
}
