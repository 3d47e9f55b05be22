package io.needle;

/** Natives behind {@link Query}; a handle is a {@code needle::jni::QueryHandle*}. */
final class NativeQuery {
  static {
    NativeLoader.load();
  }

  private NativeQuery() {}

  /** The resolved query tree as text (needle::to_string). */
  static native String describe(long handle);

  static native void free(long handle);
}
