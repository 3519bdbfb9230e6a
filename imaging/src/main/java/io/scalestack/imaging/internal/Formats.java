package io.scalestack.imaging.internal;

/** Recognizes an image format by its first bytes, before any decoder sees them. Stateless, thread-safe. */
public final class Formats {

  /** The formats recognized: WebP only to reject it by name. */
  public enum Format {
    PNG("PNG", "png", "image/png"),
    JPEG("JPEG", "jpeg", "image/jpeg"),
    GIF("GIF", "gif", "image/gif"),
    BMP("BMP", "bmp", "image/bmp"),
    WEBP("WebP", null, "image/webp");

    private final String label;
    private final String imageIoName;
    private final String mediaType;

    Format(String label, String imageIoName, String mediaType) {
      this.label = label;
      this.imageIoName = imageIoName;
      this.mediaType = mediaType;
    }

    /** The IANA media type, for {@code Content-Type}. */
    public String mediaType() {
      return mediaType;
    }

    /** The name for messages. */
    public String label() {
      return label;
    }

    /** The ImageIO format name, null if ImageIO has no reader for it. */
    public String imageIoName() {
      return imageIoName;
    }
  }

  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

  private Formats() {}

  /** The format these bytes start with, or null if none of {@link Format}. */
  public static Format sniff(byte[] b) {
    if (startsWith(b, PNG)) {
      return Format.PNG;
    }
    if (b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF) {
      return Format.JPEG;
    }
    if (startsWith(b, "GIF87a".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        || startsWith(b, "GIF89a".getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
      return Format.GIF;
    }
    // "BM" and a BITMAPFILEHEADER (14 bytes) plus at least the 12-byte core header
    if (b.length >= 26 && b[0] == 'B' && b[1] == 'M') {
      return Format.BMP;
    }
    if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
        && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
      return Format.WEBP;
    }
    return null;
  }

  /** The first {@code n} bytes in hex, for messages: {@code 48 65 6c 6c}. */
  public static String hexPrefix(byte[] b, int n) {
    if (b.length == 0) {
      return "nothing (0 bytes)";
    }
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(n, b.length); i++) {
      if (i > 0) {
        s.append(' ');
      }
      s.append(String.format("%02x", b[i] & 0xFF));
    }
    return s.toString();
  }

  private static boolean startsWith(byte[] b, byte[] prefix) {
    if (b.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (b[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
