package io.needle;

/** Natives behind {@link Split}; a handle is a {@code std::shared_ptr<needle::Split>*}. */
final class NativeSplit {
  static {
    NativeLoader.load();
  }

  private NativeSplit() {}

  static native long openFile(String path, boolean verifyChecksums);

  /** {@code footerLength <= 0}: no footer hint. */
  static native long openRemote(
      RangeFetcher fetcher, long size, String name, boolean verifyChecksums, long footerOffset, long footerLength);

  static native String metadataJson(long handle);

  static native String schemaJson(long handle);

  static native long numDocs(long handle);

  /** {offset, length} of the footer: a hint that makes the next open one read. */
  static native long[] footer(long handle);

  static native long uncachedReads(long handle);

  static native void free(long handle);
}
