package io.scalestack.cli;

/** Bad input from the user (config file, flags): exit code 2 and this one-line message. */
final class BadInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BadInputException(String message) {
    super(message);
  }

  BadInputException(String message, Throwable cause) {
    super(message, cause);
  }
}
