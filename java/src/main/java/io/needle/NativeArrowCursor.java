package io.needle;

/** Natives behind {@link ArrowSearchResult}; a handle is a {@code needle::jni::ArrowCursorHandle*}. */
final class NativeArrowCursor {
  static {
    NativeLoader.load();
  }

  private NativeArrowCursor() {}

  /** Fills the ArrowSchema at {@code arrowSchemaAddress} with the batches' schema (a struct). */
  static native void exportSchema(long handle, long arrowSchemaAddress);

  /**
   * Fills the ArrowArray at {@code arrowArrayAddress} with the next batch and returns its row
   * count; returns 0 and leaves the structure untouched when there are no more rows.
   */
  static native int nextBatch(long handle, long arrowArrayAddress);

  static native long totalHits(long handle);

  static native void free(long handle);
}
