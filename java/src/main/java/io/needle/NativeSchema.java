package io.needle;

/** Natives behind {@link Schema}: validation and description of schema JSON. */
final class NativeSchema {
  static {
    NativeLoader.load();
  }

  /** Number of strings per field in {@link #describe}. */
  static final int FIELD_STRIDE = 8;

  private NativeSchema() {}

  /** Parses and validates a schema; returns its canonical JSON. Throws NeedleException(SCHEMA). */
  static native String canonicalJson(String json);

  /**
   * Per field, in id order: name, type, indexed ("1"/"0"), stored, fast, tokenizer, record,
   * fieldnorms.
   */
  static native String[] describe(String json);
}
