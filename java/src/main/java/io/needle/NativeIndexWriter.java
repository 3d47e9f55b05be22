package io.needle;

/** Natives behind {@link IndexWriter}; a handle is a {@code needle::jni::WriterHandle*}. */
final class NativeIndexWriter {
  static {
    NativeLoader.load();
  }

  private NativeIndexWriter() {}

  /** See {@link IndexWriterOptions#toNative()} for the layout of {@code options}. */
  static native long create(String dir, String schemaJson, long[] options);

  static native long open(String dir, long[] options);

  static native long addDocumentJson(long handle, String json);

  /** Adds one document per non-blank line; all or nothing. Returns how many were added. */
  static native long addDocumentsJson(long handle, String ndjson);

  /**
   * Adds the rows of an exported record batch; all or nothing. The structures are released
   * (their release callbacks called) whatever happens. Returns how many rows were added.
   */
  static native long addArrowBatch(long handle, long arrowArrayAddress, long arrowSchemaAddress);

  static native long deleteTerm(long handle, String field, String value);

  static native long deleteQuery(long handle, String query, String[] defaultFields, boolean conjunction);

  static native long commit(long handle);

  static native void forceMerge(long handle);

  static native void rollback(long handle);

  static native String writeSplit(long handle, String path);

  static native long numDocs(long handle);

  static native String schemaJson(long handle);

  static native void free(long handle);
}
