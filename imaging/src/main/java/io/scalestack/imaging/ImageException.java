package io.scalestack.imaging;

/**
 * Input that is not an image this module accepts: too large, of an unknown or unsupported format,
 * claiming too many pixels, truncated or corrupt. The message is one line naming what was found
 * and what was expected, e.g. {@code image: truncated PNG (expected: a complete PNG, JPEG, GIF or
 * BMP file)}.
 *
 * <p>Unchecked, so that callers that decode trusted bytes need not catch it; callers that decode
 * user uploads catch this one type. Immutable, thread-safe.
 */
public final class ImageException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** An exception with this one-line message. */
  public ImageException(String message) {
    super(message);
  }

  /** An exception with this one-line message and the decoder's own exception as its cause. */
  public ImageException(String message, Throwable cause) {
    super(message, cause);
  }
}
