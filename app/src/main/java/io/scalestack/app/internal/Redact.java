package io.scalestack.app.internal;

import java.util.regex.Pattern;

/** Hides credentials in connection strings before they reach a log line or an error message. */
public final class Redact {

  private static final Pattern URI_USER_INFO = Pattern.compile("(?<=://)([^/@]*:)?[^/@]*@");
  private static final Pattern PASSWORD_PARAMETER =
      Pattern.compile("(?i)(password=)[^&;]*");

  private Redact() {}

  /** {@code redis://:secret@host:6379} as {@code redis://***@host:6379}; JDBC {@code password=} too. */
  public static String uri(String uri) {
    String hidden = URI_USER_INFO.matcher(uri).replaceFirst("***@");
    return PASSWORD_PARAMETER.matcher(hidden).replaceAll("$1***");
  }
}
