package io.needle;

/**
 * An error of the native engine: a bad schema, document or query, a corrupt split, an I/O
 * failure. Carries the engine's {@link ErrorCode}. Native code never crashes the JVM on such
 * errors: every native entry point turns every C++ exception into this exception.
 */
public class NeedleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorCode code;
  private final int rawCode;
  private final String detail;

  /** Called from native code (java_classes.cc) with the engine's numeric code. */
  public NeedleException(int rawCode, String message, Throwable cause) {
    super(ErrorCode.fromValue(rawCode).name() + ": " + message, cause);
    this.code = ErrorCode.fromValue(rawCode);
    this.rawCode = rawCode;
    this.detail = message;
  }

  public NeedleException(ErrorCode code, String message) {
    this(code.value(), message, null);
  }

  public ErrorCode code() {
    return code;
  }

  /** The numeric code as the engine gave it (differs from code().value() only for unknown codes). */
  public int rawCode() {
    return rawCode;
  }

  /** The engine's message without the code prefix. */
  public String detail() {
    return detail;
  }
}
