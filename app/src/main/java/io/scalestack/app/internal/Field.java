package io.scalestack.app.internal;

import java.nio.charset.StandardCharsets;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * One string field of a request body and the rule its value must meet, with the words that tell
 * a client what was expected when it does not.
 *
 * <p>Secret fields (passwords) are never echoed in error messages: only their JSON type or byte
 * length is. Immutable.
 */
record Field(String name, String expected, boolean secret, Predicate<String> rule) {

  private static final Pattern USERNAME = Pattern.compile("[a-z0-9_]{3,32}");

  /** bcrypt reads at most 72 bytes of a password; longer ones would be silently truncated. */
  static final int MAX_PASSWORD_BYTES = 72;

  static final int MIN_PASSWORD_BYTES = 8;
  static final int MAX_DISPLAY_NAME_CHARACTERS = 64;
  static final int MAX_BIO_CHARACTERS = 500;

  static final Field USERNAME_FIELD =
      new Field("username", "3..32 characters of [a-z0-9_]", false, s -> USERNAME.matcher(s).matches());

  static final Field NEW_PASSWORD =
      new Field(
          "password",
          MIN_PASSWORD_BYTES + ".." + MAX_PASSWORD_BYTES + " bytes of UTF-8 text",
          true,
          s -> {
            int bytes = s.getBytes(StandardCharsets.UTF_8).length;
            return bytes >= MIN_PASSWORD_BYTES && bytes <= MAX_PASSWORD_BYTES;
          });

  static final Field DISPLAY_NAME =
      new Field(
          "displayName",
          "1.." + MAX_DISPLAY_NAME_CHARACTERS + " characters, not blank, without control characters",
          false,
          s ->
              !s.isBlank()
                  && s.codePointCount(0, s.length()) <= MAX_DISPLAY_NAME_CHARACTERS
                  && s.codePoints().noneMatch(Character::isISOControl));

  static final Field BIO =
      new Field(
          "bio",
          "0.." + MAX_BIO_CHARACTERS + " characters, without control characters other than line breaks and tabs",
          false,
          s ->
              s.codePointCount(0, s.length()) <= MAX_BIO_CHARACTERS
                  && s.codePoints()
                      .noneMatch(c -> Character.isISOControl(c) && c != '\n' && c != '\r' && c != '\t'));

  /** At login any string is accepted: a value that cannot exist is just another mismatch (401). */
  static final Field LOGIN_USERNAME = new Field("username", "a string", false, s -> true);

  static final Field LOGIN_PASSWORD = new Field("password", "a string", true, s -> true);

  /** What a value of the wrong JSON type, or a missing one, is told it should have been. */
  String expectedType() {
    return expected.startsWith("a string") ? expected : "a string of " + expected;
  }
}
