package io.scalestack.blob;

/**
 * An I/O or remote failure of a {@link BlobStore}; the message names the store, the operation, the key and the cause.
 * Immutable.
 */
public final class BlobStoreException extends RuntimeException {

  BlobStoreException(String message, Throwable cause) {
    super(message, cause);
  }

  /** A failed operation on one key: {@code <store>: get 'a/b.jpg' failed: <cause>}. */
  static BlobStoreException of(String store, String operation, String key, Throwable cause) {
    return new BlobStoreException(store + ": " + operation + " '" + key + "' failed: " + describe(cause), cause);
  }

  static String describe(Throwable cause) {
    String message = cause.getMessage();
    return message == null || message.isBlank()
        ? cause.getClass().getName()
        : cause.getClass().getSimpleName() + ": " + message;
  }
}
