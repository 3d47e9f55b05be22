package io.needle;

/**
 * Natives of the library itself. Unlike the other {@code Native*} classes this one does not load
 * the library in a static initializer: {@link NativeLoader} calls {@link #abiVersion()} right
 * after {@code System.load} to check that the library matches these classes.
 */
final class NativeLibrary {
  /** Must equal {@code needle::jni::kAbiVersion} (jni/src/java_classes.h). */
  static final int EXPECTED_ABI = 1;

  private NativeLibrary() {}

  /** The JNI signature version the library was built with. */
  static native int abiVersion();

  /** {@code needle::error_code_name} of a numeric error code ("UNKNOWN" if it has none). */
  static native String errorCodeName(int code);
}
