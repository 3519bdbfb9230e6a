package io.scalestack.balancer;

/**
 * An {@code lb.yaml} that cannot be used: one line naming the file, the line, the field, the
 * value and what was expected, for example {@code lb.yaml:7: pools.api.algorithm: 'fastest'
 * (expected: round-robin, …)}.
 *
 * <p>Immutable, so thread-safe.
 */
public final class LbConfigException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  private final String source;
  private final int line;
  private final String field;

  /**
   * @param source the file as the user named it
   * @param line the 1-based line, or 0 when the problem has none (a missing file)
   * @param field the dotted path of the field, for example {@code pools.api.algorithm}; empty for the file
   * @param detail {@code value (expected: …)}
   */
  public LbConfigException(String source, int line, String field, String detail) {
    super(source + (line > 0 ? ":" + line : "") + ": " + (field.isEmpty() ? "" : field + ": ") + detail);
    this.source = source;
    this.line = line;
    this.field = field;
  }

  public String source() {
    return source;
  }

  public int line() {
    return line;
  }

  public String field() {
    return field;
  }
}
