package io.scalestack.engines;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/** Builder argument checks with messages of the form {@code name: value (expected: ...)}. */
final class Validation {

  /** A PostgreSQL identifier we never need to quote oddly: starts with a letter or underscore. */
  private static final Pattern SQL_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");
  /** A POSIX user name, as accepted by useradd in its portable form. */
  private static final Pattern USER_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,31}");

  private Validation() {}

  static int port(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: " + port + " (expected: 0..65535)");
    }
    return port;
  }

  static String host(String name, String host) {
    Objects.requireNonNull(host, name);
    if (host.isBlank() || host.chars().anyMatch(Character::isWhitespace)) {
      throw new IllegalArgumentException(name + ": '" + host + "' (expected: a host name or IP address)");
    }
    return host;
  }

  static Duration positive(String name, Duration duration) {
    Objects.requireNonNull(duration, name);
    if (duration.isNegative() || duration.isZero()) {
      throw new IllegalArgumentException(name + ": " + duration + " (expected: > 0)");
    }
    return duration;
  }

  static String identifier(String name, String value) {
    Objects.requireNonNull(value, name);
    if (!SQL_IDENTIFIER.matcher(value).matches()) {
      throw new IllegalArgumentException(name + ": '" + value
          + "' (expected: a letter or _, then up to 62 letters, digits or _)");
    }
    return value;
  }

  static String userName(String name, String value) {
    Objects.requireNonNull(value, name);
    if (!USER_NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(name + ": '" + value + "' (expected: an operating-system user name)");
    }
    return value;
  }

  static String password(String value) {
    Objects.requireNonNull(value, "password");
    // initdb reads the first line of its pwfile, so a line break would silently cut the password.
    if (value.isEmpty() || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
      throw new IllegalArgumentException("password: <hidden, " + value.length()
          + " characters> (expected: not empty, without line breaks)");
    }
    return value;
  }
}
