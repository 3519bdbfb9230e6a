package io.scalestack.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ImageCodecTest {

  private final ImageCodec codec = ImageCodec.defaults();

  private static RgbImage gradient(int w, int h) {
    byte[] rgb = new byte[3 * w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = 3 * (y * w + x);
        rgb[i] = (byte) (x * 255 / Math.max(1, w - 1));
        rgb[i + 1] = (byte) (y * 255 / Math.max(1, h - 1));
        rgb[i + 2] = (byte) ((x * 7 + y * 13) & 0xFF);
      }
    }
    return RgbImage.ofInterleaved(w, h, rgb);
  }

  private static byte[] chunk(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length);
    byte[] typeBytes = type.getBytes(StandardCharsets.US_ASCII);
    b.put(typeBytes).put(data);
    CRC32 crc = new CRC32();
    crc.update(typeBytes);
    crc.update(data);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** A PNG whose IHDR claims width × height, with a valid CRC and a tiny IDAT. */
  private static byte[] pngClaiming(int width, int height) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
    out.writeBytes(chunk("IHDR", ByteBuffer.allocate(13).putInt(width).putInt(height).put((byte) 8).put((byte) 2).array()));
    Deflater deflater = new Deflater();
    deflater.setInput(new byte[64]);
    deflater.finish();
    byte[] idat = new byte[128];
    int n = deflater.deflate(idat);
    out.writeBytes(chunk("IDAT", Arrays.copyOf(idat, n)));
    out.writeBytes(chunk("IEND", new byte[0]));
    return out.toByteArray();
  }

  @Test
  void pngRoundTripIsLossless() {
    RgbImage image = gradient(37, 21);

    RgbImage decoded = codec.decode(codec.encodePng(image));

    assertThat(decoded.width()).isEqualTo(37);
    assertThat(decoded.height()).isEqualTo(21);
    assertThat(decoded.toInterleaved()).isEqualTo(image.toInterleaved());
  }

  @Test
  void jpegRoundTripIsClose() {
    RgbImage image = RgbImage.filled(32, 24, 0x3080C0);

    byte[] jpeg = codec.encodeJpeg(image, 0.95f);
    RgbImage decoded = codec.decode(jpeg);

    assertThat(jpeg[0] & 0xFF).isEqualTo(0xFF);
    assertThat(decoded.width()).isEqualTo(32);
    int rgb = decoded.rgb(10, 10);
    assertThat(rgb >>> 16).isBetween(0x30 - 3, 0x30 + 3);
    assertThat(rgb >>> 8 & 0xFF).isBetween(0x80 - 3, 0x80 + 3);
    assertThat(rgb & 0xFF).isBetween(0xC0 - 3, 0xC0 + 3);
  }

  @Test
  void inspectNamesFormatMediaTypeAndSizeOfACompleteImage() {
    byte[] jpeg = codec.encodeJpeg(gradient(40, 30), 0.9f);

    assertThat(codec.inspect(codec.encodePng(gradient(37, 21))))
        .isEqualTo(new ImageCodec.ImageInfo("PNG", "image/png", 37, 21));
    assertThat(codec.inspect(jpeg)).isEqualTo(new ImageCodec.ImageInfo("JPEG", "image/jpeg", 40, 30));
  }

  @Test
  void inspectRefusesWhatDecodeRefuses() {
    byte[] png = codec.encodePng(gradient(64, 64));

    assertThatThrownBy(() -> codec.inspect(Arrays.copyOf(png, png.length / 2)))
        .isInstanceOf(ImageException.class)
        .hasMessage("image: truncated PNG (expected: a complete PNG, JPEG, GIF or BMP file)");
    assertThatThrownBy(() -> codec.inspect(pngClaiming(50_000, 50_000)))
        .isInstanceOf(ImageException.class)
        .hasMessageContaining("50000x50000");
  }

  @Test
  void mediaTypeComesFromTheFirstBytes() {
    assertThat(ImageCodec.mediaType(codec.encodePng(gradient(4, 4)))).isEqualTo("image/png");
    assertThat(ImageCodec.mediaType(codec.encodeJpeg(gradient(4, 4), 0.9f))).isEqualTo("image/jpeg");
    assertThat(ImageCodec.mediaType("GIF89a".getBytes(StandardCharsets.US_ASCII))).isEqualTo("image/gif");
    assertThat(ImageCodec.mediaType("hello".getBytes(StandardCharsets.US_ASCII))).isEqualTo("application/octet-stream");
    assertThat(ImageCodec.mediaType(new byte[0])).isEqualTo("application/octet-stream");
  }

  @Test
  void truncatedPngIsRejected() {
    byte[] png = codec.encodePng(gradient(64, 64));

    assertThatThrownBy(() -> codec.decode(Arrays.copyOf(png, png.length / 2)))
        .isInstanceOf(ImageException.class)
        .hasMessage("image: truncated PNG (expected: a complete PNG, JPEG, GIF or BMP file)");
  }

  @Test
  void truncatedJpegIsRejected() {
    Random random = new Random(5);
    byte[] rgb = new byte[3 * 64 * 64];
    random.nextBytes(rgb);
    byte[] jpeg = codec.encodeJpeg(RgbImage.ofInterleaved(64, 64, rgb), 0.9f);

    assertThatThrownBy(() -> codec.decode(Arrays.copyOf(jpeg, jpeg.length / 2)))
        .isInstanceOf(ImageException.class)
        .hasMessageStartingWith("image: truncated JPEG");
  }

  @Test
  void textFileIsRejected() {
    assertThatThrownBy(() -> codec.decode("hello, world\n".getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(ImageException.class)
        .hasMessage("image: not an image, starts with 68 65 6c 6c 6f 2c 20 77 (expected: a complete PNG, JPEG, GIF or BMP file)");
  }

  @Test
  void emptyInputIsRejected() {
    assertThatThrownBy(() -> codec.decode(new byte[0]))
        .isInstanceOf(ImageException.class)
        .hasMessage("image: not an image, starts with nothing (0 bytes) (expected: a complete PNG, JPEG, GIF or BMP file)");
  }

  @Test
  void webpIsRejectedAsUnsupported() {
    byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.US_ASCII);

    assertThatThrownBy(() -> codec.decode(webp)).isInstanceOf(ImageException.class)
        .hasMessage("image: WebP is not supported (expected: a complete PNG, JPEG, GIF or BMP file)");
  }

  @Test
  void decompressionBombIsRejectedFromItsHeader() {
    byte[] bomb = pngClaiming(50_000, 50_000);

    assertThat(bomb.length).isLessThan(200);
    assertThatThrownBy(() -> codec.decode(bomb)).isInstanceOf(ImageException.class)
        .hasMessage("image: PNG of 50000x50000 = 2500000000 pixels (expected: at most 50000000 pixels)");
  }

  @Test
  void pixelLimitIsConfigurable() {
    ImageCodec small = ImageCodec.builder().maxPixels(100).build();

    assertThatThrownBy(() -> small.decode(codec.encodePng(gradient(11, 10))))
        .hasMessage("image: PNG of 11x10 = 110 pixels (expected: at most 100 pixels)");
    assertThat(small.decode(codec.encodePng(gradient(10, 10))).width()).isEqualTo(10);
  }

  @Test
  void oversizedInputIsRejectedBeforeLookingAtIt() {
    ImageCodec small = ImageCodec.builder().maxInputBytes(1000).build();

    assertThatThrownBy(() -> small.decode(new byte[1001])).isInstanceOf(ImageException.class)
        .hasMessage("image: 1001 bytes (expected: at most 1000 bytes)");
  }

  @Test
  void badLimitsAreRejectedWithNameValueAndExpectation() {
    assertThatThrownBy(() -> ImageCodec.builder().maxInputBytes(0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxInputBytes: 0 (expected: > 0)");
    assertThatThrownBy(() -> ImageCodec.builder().maxPixels(1L << 40))
        .hasMessage("maxPixels: 1099511627776 (expected: 1..715827879)");
    assertThatThrownBy(() -> codec.encodeJpeg(gradient(2, 2), 1.5f)).hasMessage("quality: 1.5 (expected: 0..1)");
  }

  @Test
  void gifAndBmpAreDecoded() throws Exception {
    RgbImage image = gradient(16, 8);
    for (String format : new String[] {"gif", "bmp"}) {
      java.awt.image.BufferedImage buffered = new java.awt.image.BufferedImage(16, 8, java.awt.image.BufferedImage.TYPE_INT_RGB);
      for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 16; x++) {
          buffered.setRGB(x, y, image.rgb(x, y));
        }
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThat(javax.imageio.ImageIO.write(buffered, format, out)).isTrue();

      RgbImage decoded = codec.decode(out.toByteArray());

      assertThat(decoded.width()).as(format).isEqualTo(16);
      assertThat(decoded.height()).as(format).isEqualTo(8);
      if (format.equals("bmp")) {
        assertThat(decoded.toInterleaved()).isEqualTo(image.toInterleaved());
      }
    }
  }

  @Test
  @Timeout(120) // a guard against a decoder loop that never ends, not a measurement
  void mutatedAndTruncatedFilesGiveOnlyImageException() {
    Random random = new Random(42);
    RgbImage image = gradient(24, 16);
    byte[][] seeds = {codec.encodePng(image), codec.encodeJpeg(image, 0.8f), pngClaiming(40, 30)};
    int decoded = 0;
    int rejected = 0;
    for (int round = 0; round < 1500; round++) {
      byte[] seed = seeds[round % seeds.length];
      byte[] bytes = round % 5 == 0 ? Arrays.copyOf(seed, random.nextInt(seed.length)) : seed.clone();
      int mutations = 1 + random.nextInt(8);
      for (int m = 0; m < mutations && bytes.length > 0; m++) {
        // keep the magic bytes most of the time so the decoders themselves get exercised
        int at = bytes.length > 8 && random.nextInt(10) > 0 ? 8 + random.nextInt(bytes.length - 8) : random.nextInt(bytes.length);
        bytes[at] = (byte) random.nextInt(256);
      }
      Throwable thrown = catchThrowable(() -> codec.decode(bytes));
      if (thrown == null) {
        decoded++;
      } else {
        assertThat(thrown).as("round %d", round).isInstanceOf(ImageException.class);
        rejected++;
      }
    }
    assertThat(decoded + rejected).isEqualTo(1500);
    assertThat(rejected).isPositive();
  }
}
