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
  void shiftClampsToTheEdgeSamplesFromAnyStart() {
    float[] from = {10, 20, 30, 40};
    for (int n = 1; n <= 6; n++) {
      for (int start = -8; start <= 8; start++) {
        float[] to = new float[n];
        Filters.shift(from, 4, start, to, n);
        for (int i = 0; i < n; i++) {
          assertThat(to[i]).as("start %d, n %d, i %d", start, n, i).isEqualTo(from[Math.min(Math.max(start + i, 0), 3)]);
        }
      }
    }
  }
}
