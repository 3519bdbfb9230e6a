package io.scalestack.imaging;

import io.scalestack.imaging.internal.Formats;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.awt.image.PixelInterleavedSampleModel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Objects;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Decodes PNG, JPEG, GIF and BMP bytes into an {@link RgbImage} with the JDK's ImageIO, and encodes
 * an image as PNG or JPEG: for images from untrusted uploads.
 *
 * <p>Before any pixel is decoded, {@link #decode} checks, in order: the size of the input against
 * {@link Builder#maxInputBytes}, the format by its magic bytes (WebP and everything else is
 * rejected), and the width and height the decoder reads from the header against {@link
 * Builder#maxPixels} (a 50,000 × 50,000 PNG of a few hundred bytes is refused without allocating
 * its 7.5 GB). Truncated and corrupt files are refused too. Every refusal is an {@link
 * ImageException} with a one-line message, never another exception (an {@link Error} such as
 * {@link OutOfMemoryError} is not caught). The reader is told to ignore metadata (ImageIO's
 * {@code ignoreMetadata}). An alpha channel is dropped (composited over black); 16-bit, grey and
 * palette images are converted to 8-bit RGB. Of a multi-frame GIF, the first frame is decoded.
 *
 * <p>Memory: decoding a {@code w × h} image needs ImageIO's raster (3 bytes per pixel for 8-bit
 * RGB, up to 8 for 16-bit RGBA, plus a 3-byte converted copy for formats other than 8-bit BGR)
 * and the 3 bytes per pixel of the result; size {@link Builder#maxPixels} for that.
 *
 * <p>Immutable and thread-safe: ImageIO readers and writers are created per call.
 */
public final class ImageCodec {

  private static final String EXPECTED = "expected: a complete PNG, JPEG, GIF or BMP file";

  private final int maxInputBytes;
  private final long maxPixels;

  private ImageCodec(Builder builder) {
    this.maxInputBytes = builder.maxInputBytes;
    this.maxPixels = builder.maxPixels;
  }

  /** A codec with the defaults of {@link Builder}. */
  public static ImageCodec defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults: 64 MiB of input, 50 megapixels. */
  public static Builder builder() {
    return new Builder();
  }

  /** The largest input {@link #decode} accepts, in bytes. */
  public int maxInputBytes() {
    return maxInputBytes;
  }

  /** The largest {@code width × height} {@link #decode} accepts. */
  public long maxPixels() {
    return maxPixels;
  }

  /**
   * Decodes the first image of {@code bytes}.
   *
   * @throws ImageException if the input is too large, not a PNG, JPEG, GIF or BMP file, claims
   *     more than {@link #maxPixels()} pixels, or is truncated or corrupt
   */
  public RgbImage decode(byte[] bytes) {
    return toRgb(read(bytes).image());
  }

  /**
   * What {@code bytes} hold: format, media type and size, found by decoding the whole image (so
   * that a truncated or corrupt file is refused as by {@link #decode}) without keeping its pixels:
   * about half the memory of {@link #decode}. For an upload that is stored as it came.
   *
   * @throws ImageException as {@link #decode}
   */
  public ImageInfo inspect(byte[] bytes) {
    Decoded decoded = read(bytes);
    return new ImageInfo(decoded.format().label(), decoded.format().mediaType(), decoded.image().getWidth(),
        decoded.image().getHeight());
  }

  /**
   * The media type the first bytes of an image name ({@code image/png}, {@code image/jpeg}, {@code
   * image/gif}, {@code image/bmp}, {@code image/webp}), or {@code application/octet-stream}. No
   * decoding: for serving bytes that were checked when they were stored.
   */
  public static String mediaType(byte[] head) {
    Formats.Format format = Formats.sniff(Objects.requireNonNull(head, "head"));
    return format == null ? "application/octet-stream" : format.mediaType();
  }

  /**
   * An image's format and size as {@link #inspect} finds them.
   *
   * @param format {@code PNG}, {@code JPEG}, {@code GIF} or {@code BMP}
   * @param mediaType the IANA media type, for {@code Content-Type}
   */
  public record ImageInfo(String format, String mediaType, int width, int height) {}

  private record Decoded(Formats.Format format, BufferedImage image) {}

  private Decoded read(byte[] bytes) {
    Objects.requireNonNull(bytes, "bytes");
    if (bytes.length > maxInputBytes) {
      throw new ImageException("image: " + bytes.length + " bytes (expected: at most " + maxInputBytes + " bytes)");
    }
    Formats.Format format = Formats.sniff(bytes);
    if (format == Formats.Format.WEBP) {
      throw new ImageException("image: WebP is not supported (" + EXPECTED + ")");
    }
    if (format == null) {
      throw new ImageException("image: not an image, starts with " + Formats.hexPrefix(bytes, 8) + " (" + EXPECTED + ")");
    }
    ImageReader reader = reader(format);
    ReadWarnings warnings = new ReadWarnings();
    reader.addIIOReadWarningListener(warnings);
    try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
      reader.setInput(in, true, true);
      int width;
      int height;
      BufferedImage decoded;
      try {
        width = reader.getWidth(0);
        height = reader.getHeight(0);
        if (width < 1 || height < 1) {
          throw new ImageException("image: " + format.label() + " of " + width + "x" + height + " pixels (" + EXPECTED + ")");
        }
        if ((long) width * height > maxPixels) {
          throw new ImageException("image: " + format.label() + " of " + width + "x" + height + " = " + (long) width * height
              + " pixels (expected: at most " + maxPixels + " pixels)");
        }
        decoded = reader.read(0);
      } catch (IOException | RuntimeException e) {
        if (e instanceof ImageException image) {
          throw image;
        }
        // ImageIO's readers answer bad input with IIOException and, for some corruptions, with
        // IndexOutOfBounds-, IllegalArgument- or NegativeArraySizeException: all are the input's fault
        throw new ImageException("image: " + (truncated(e) ? "truncated " : "corrupt ") + format.label() + " (" + EXPECTED + ")", e);
      }
      if (warnings.first != null) {
        // libjpeg warns (and fills the rest with grey) where the file ends early or the data is bad
        String warning = warnings.first.toLowerCase(java.util.Locale.ROOT);
        if (warning.contains("premature end") || warning.contains("truncated")) {
          throw new ImageException("image: truncated " + format.label() + " (" + EXPECTED + ")");
        }
        throw new ImageException("image: corrupt " + format.label() + ", the decoder says: " + warnings.first + " (" + EXPECTED + ")");
      }
      if (decoded == null || decoded.getWidth() != width || decoded.getHeight() != height) {
        throw new ImageException("image: corrupt " + format.label() + " (" + EXPECTED + ")");
      }
      return new Decoded(format, decoded);
    } catch (IOException e) {
      // only close() can get here, on an in-memory stream
      throw new UncheckedIOException(e);
    } finally {
      reader.dispose();
    }
  }

  /** The image as PNG (lossless, default deflate level). */
  public byte[] encodePng(RgbImage image) {
    return encode(image, "png", Float.NaN);
  }

  /**
   * The image as baseline JPEG of this quality.
   *
   * @throws IllegalArgumentException if {@code quality} is not in {@code [0, 1]}
   */
  public byte[] encodeJpeg(RgbImage image, float quality) {
    if (!(quality >= 0 && quality <= 1)) {
      throw new IllegalArgumentException("quality: " + quality + " (expected: 0..1)");
    }
    return encode(image, "jpeg", quality);
  }

  private static byte[] encode(RgbImage image, String format, float quality) {
    Objects.requireNonNull(image, "image");
    BufferedImage buffered = toBuffered(image);
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
    if (!writers.hasNext()) {
      throw new IllegalStateException("ImageIO: no " + format + " writer (expected: the JDK's java.desktop module)");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(1024, image.width() * image.height() / 2));
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      if (!Float.isNaN(quality)) {
        param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(quality);
      }
      writer.write(null, new IIOImage(buffered, null, null), param);
    } catch (IOException e) {
      // writing to memory: no I/O can fail
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  private static ImageReader reader(Formats.Format format) {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.imageIoName());
    if (!readers.hasNext()) {
      throw new ImageException("image: " + format.label() + " is not supported by this JVM's ImageIO (" + EXPECTED + ")");
    }
    return readers.next();
  }

  private static boolean truncated(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof EOFException) {
        return true;
      }
    }
    return false;
  }

  private static RgbImage toRgb(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    if (image.getType() != BufferedImage.TYPE_3BYTE_BGR || !plain(image)) {
      // any other layout (grey, palette, 16-bit, alpha): let Java2D convert it
      BufferedImage bgr = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
      Graphics2D g = bgr.createGraphics();
      try {
        g.drawImage(image, 0, 0, null);
      } finally {
        g.dispose();
      }
      image = bgr;
    }
    byte[] bgr = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
    int pixels = w * h;
    byte[] r = new byte[pixels];
    byte[] g = new byte[pixels];
    byte[] b = new byte[pixels];
    for (int i = 0, j = 0; i < pixels; i++, j += 3) {
      b[i] = bgr[j];
      g[i] = bgr[j + 1];
      r[i] = bgr[j + 2];
    }
    return RgbImage.ofPlanes(w, h, r, g, b);
  }

  // a whole 3BYTE_BGR raster, not a view into a larger one
  private static boolean plain(BufferedImage image) {
    return image.getRaster().getSampleModel() instanceof PixelInterleavedSampleModel model
        && model.getScanlineStride() == 3 * image.getWidth()
        && image.getRaster().getSampleModelTranslateX() == 0
        && image.getRaster().getSampleModelTranslateY() == 0
        && image.getRaster().getDataBuffer().getSize() == 3 * image.getWidth() * image.getHeight();
  }

  private static BufferedImage toBuffered(RgbImage image) {
    BufferedImage buffered = new BufferedImage(image.width(), image.height(), BufferedImage.TYPE_3BYTE_BGR);
    byte[] bgr = ((DataBufferByte) buffered.getRaster().getDataBuffer()).getData();
    byte[] r = image.red();
    byte[] g = image.green();
    byte[] b = image.blue();
    for (int i = 0, j = 0; i < r.length; i++, j += 3) {
      bgr[j] = b[i];
      bgr[j + 1] = g[i];
      bgr[j + 2] = r[i];
    }
    return buffered;
  }

  private static final class ReadWarnings implements javax.imageio.event.IIOReadWarningListener {
    String first;

    @Override
    public void warningOccurred(ImageReader source, String warning) {
      if (first == null) {
        first = warning;
      }
    }
  }

  /**
   * Limits of an {@link ImageCodec}; validates each as it is set. Not thread-safe; the codec it
   * builds is.
   */
  public static final class Builder {
    private int maxInputBytes = 64 << 20;
    private long maxPixels = 50_000_000;

    private Builder() {}

    /**
     * The largest input in bytes (default 64 MiB).
     *
     * @throws IllegalArgumentException if not positive
     */
    public Builder maxInputBytes(int maxInputBytes) {
      if (maxInputBytes < 1) {
        throw new IllegalArgumentException("maxInputBytes: " + maxInputBytes + " (expected: > 0)");
      }
      this.maxInputBytes = maxInputBytes;
      return this;
    }

    /**
     * The largest {@code width × height} to decode (default 50,000,000). At most 715,827,882: the
     * decoder's interleaved raster is one Java array of 3 bytes per pixel.
     *
     * @throws IllegalArgumentException if not in {@code 1..715827882}
     */
    public Builder maxPixels(long maxPixels) {
      long limit = (Integer.MAX_VALUE - 8) / 3;
      if (maxPixels < 1 || maxPixels > limit) {
        throw new IllegalArgumentException("maxPixels: " + maxPixels + " (expected: 1.." + limit + ")");
      }
      this.maxPixels = maxPixels;
      return this;
    }

    /** The codec. */
    public ImageCodec build() {
      return new ImageCodec(this);
    }
  }
}
