package io.scalestack.imaging.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FiltersTest {

  @Test
  void toFloatIsTheUnsignedValueOfEveryByte() {
    byte[] src = new byte[256 + 3];
    for (int i = 0; i < 256; i++) {
      src[i + 3] = (byte) i;
    }
    float[] dst = new float[256];

    Filters.toFloat(src, 3, dst, 256);

    for (int i = 0; i < 256; i++) {
      assertThat(dst[i]).as("byte %d", i).isEqualTo((float) i);
    }
  }

  @Test
  void shiftClampsToTheEdgeSampleForAnyDistance() {
    float[] from = {10, 20, 30, 40};
    for (int by = -6; by <= 6; by++) {
      float[] to = new float[4];
      Filters.shift(from, to, 4, by);
      for (int x = 0; x < 4; x++) {
        assertThat(to[x]).as("by %d, x %d", by, x).isEqualTo(from[Math.min(Math.max(x + by, 0), 3)]);
      }
    }
  }
}
