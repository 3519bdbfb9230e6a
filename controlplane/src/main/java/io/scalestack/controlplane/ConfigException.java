package io.scalestack.controlplane;

/**
 * A {@code scalestack.yaml} that cannot be used: names the file, the line, the field, the value
 * and what was expected, in one line, for example {@code scalestack.yaml:7: web.size: 0
 * (expected: 1..64)}.
 *
 * <p>Immutable, so thread-safe.
 */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String source;
  private final int line;
  private final String field;

  /**
   * @param source the file name as the user gave it
   * @param line 1-based line, or 0 when the problem has no line (a missing file)
   * @param field dotted path of the field, for example {@code balancer.healthCheck.rise}
   * @param detail {@code value (expected: ...)} or another short phrase
   */
  public ConfigException(String source, int line, String field, String detail) {
    super(source + (line > 0 ? ":" + line : "") + ": " + (field.isEmpty() ? "" : field + ": ") + detail);
    this.source = source;
    this.line = line;
    this.field = field;
  }

  /** The file the problem is in. */
  public String source() {
    return source;
  }

  /** The 1-based line, or 0 when there is none. */
  public int line() {
    return line;
  }

  /** The dotted path of the field. */
  public String field() {
    return field;
  }
}
