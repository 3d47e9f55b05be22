package io.needle;

/** Natives behind {@link Searcher}; a handle is a {@code std::shared_ptr<const SearcherState>*}. */
final class NativeSearcher {
  static {
    NativeLoader.load();
  }

  private NativeSearcher() {}

  static native long create(long splitHandle, float k1, float b);

  static native String schemaJson(long handle);

  static native long numDocs(long handle);

  /** Returns a query handle. Throws NeedleException(QUERY_PARSE or QUERY). */
  static native long parse(long handle, String query, String[] defaultFields, boolean conjunction);

  /**
   * {count (or -1), n, then per hit: global doc, segment << 32 | segment doc, float bits of the
   * score}.
   */
  static native long[] search(long handle, long queryHandle, int limit, boolean withCount);

  static native long count(long handle, long queryHandle);

  static native String documentJson(long handle, long docAddress);

  /** {@code limit < 0}: every match in address order. Returns an Arrow cursor handle. */
  static native long openArrowCursor(
      long handle, long queryHandle, int limit, String[] columns, boolean[] lists, int batchSize);

  static native void free(long handle);
}
