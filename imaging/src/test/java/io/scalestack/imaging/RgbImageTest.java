package io.scalestack.imaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RgbImageTest {

  // pixel (x, y) has red x, green y, blue 7
  private static RgbImage coordinates(int w, int h) {
    byte[] rgb = new byte[3 * w * h];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        int i = 3 * (y * w + x);
        rgb[i] = (byte) x;
        rgb[i + 1] = (byte) y;
        rgb[i + 2] = 7;
      }
    }
    return RgbImage.ofInterleaved(w, h, rgb);
  }

  @Test
  void interleavedSamplesRoundTripThroughThePlanes() {
    byte[] rgb = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    RgbImage image = RgbImage.ofInterleaved(2, 2, rgb);

    assertThat(image.toInterleaved()).isEqualTo(rgb);
    assertThat(image.rgb(1, 0)).isEqualTo(0x040506);
    assertThat(image.width()).isEqualTo(2);
    assertThat(image.height()).isEqualTo(2);
  }

  @Test
  void wrongSizesAreRejectedWithNameValueAndExpectation() {
    assertThatThrownBy(() -> RgbImage.ofInterleaved(2, 2, new byte[11])).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("rgb: 11 bytes (expected: 3 × width × height = 12)");
    assertThatThrownBy(() -> RgbImage.ofPlanes(2, 2, new byte[4], new byte[3], new byte[4]))
        .hasMessage("green: 3 bytes (expected: width × height = 4)");
    assertThatThrownBy(() -> RgbImage.filled(0, 2, 0)).hasMessage("width: 0 (expected: >= 1)");
    assertThatThrownBy(() -> RgbImage.filled(2, -3, 0)).hasMessage("height: -3 (expected: >= 1)");
    assertThatThrownBy(() -> RgbImage.filled(65536, 65536, 0))
        .hasMessage("pixels: 65536x65536 = 4294967296 (expected: <= 2147483639)");
  }

  @Test
  void cropIsTheRectangleAtTheCorner() {
    RgbImage cropped = coordinates(10, 8).crop(3, 2, 4, 5);

    assertThat(cropped.width()).isEqualTo(4);
    assertThat(cropped.height()).isEqualTo(5);
    assertThat(cropped.rgb(0, 0)).isEqualTo(0x030207);
    assertThat(cropped.rgb(3, 4)).isEqualTo(0x060607);
  }

  @Test
  void cropOfTheWholeImageIsTheImage() {
    RgbImage image = coordinates(10, 8);

    assertThat(image.crop(0, 0, 10, 8).toInterleaved()).isEqualTo(image.toInterleaved());
  }

  @Test
  void cropOutsideTheImageIsRejectedWithNameValueAndExpectation() {
    RgbImage image = coordinates(10, 8);

    assertThatThrownBy(() -> image.crop(-1, 0, 2, 2)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("x: -1 (expected: 0..9, inside the image's width 10)");
    assertThatThrownBy(() -> image.crop(0, 8, 2, 2)).hasMessage("y: 8 (expected: 0..7, inside the image's height 8)");
    assertThatThrownBy(() -> image.crop(4, 0, 7, 2)).hasMessage("width: 7 (expected: 1..6 so that x + width <= 10)");
    assertThatThrownBy(() -> image.crop(0, 3, 2, 0)).hasMessage("height: 0 (expected: 1..5 so that y + height <= 8)");
  }

  @Test
  void resizeToTheSameSizeIsTheIdentity() {
    RgbImage image = coordinates(13, 9);

    assertThat(image.resize(13, 9).toInterleaved()).isEqualTo(image.toInterleaved());
  }

  @Test
  void resizeOfAConstantImageIsConstant() {
    RgbImage resized = RgbImage.filled(7, 5, 0xABCDEF).resize(23, 3);

    assertThat(resized.width()).isEqualTo(23);
    assertThat(resized.height()).isEqualTo(3);
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 23; x++) {
        assertThat(resized.rgb(x, y)).isEqualTo(0xABCDEF);
      }
    }
  }

  @Test
  void resizeInterpolatesBilinearlyBetweenPixelCentres() {
    // a 2x1 ramp 0 -> 200 doubled: centres at source x = -0.25, 0.25, 0.75, 1.25, clamped to 0..1
    RgbImage ramp = RgbImage.ofInterleaved(2, 1, new byte[] {0, 0, 0, (byte) 200, (byte) 200, (byte) 200});

    RgbImage wide = ramp.resize(4, 1);

    assertThat(wide.rgb(0, 0) >>> 16).isEqualTo(0);
    assertThat(wide.rgb(1, 0) >>> 16).isEqualTo(50);
    assertThat(wide.rgb(2, 0) >>> 16).isEqualTo(150);
    assertThat(wide.rgb(3, 0) >>> 16).isEqualTo(200);
  }

  @Test
  void halvingAveragesPairsOfPixels() {
    RgbImage image = RgbImage.ofInterleaved(4, 1, new byte[] {10, 10, 10, 30, 30, 30, 100, 100, 100, (byte) 200, (byte) 200, (byte) 200});

    RgbImage half = image.resize(2, 1);

    assertThat(half.rgb(0, 0) >>> 16).isEqualTo(20);
    assertThat(half.rgb(1, 0) >>> 16).isEqualTo(150);
  }

  @Test
  void resizeToAnEmptySizeIsRejected() {
    assertThatThrownBy(() -> coordinates(4, 4).resize(0, 3)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("width: 0 (expected: >= 1)");
  }
}
