package io.needle;

import java.util.Objects;

/**
 * An open {@code .split}: an immutable index in one file, local (memory-mapped) or remote (read
 * through a {@link RangeFetcher}). Thread-safe. Searchers made from it keep the native split open
 * even after this object is closed.
 */
public final class Split extends NativeHandle {
  private final String name;

  private Split(String name, long handle) {
    super("Split(" + name + ")", handle, NativeSplit::free);
    this.name = name;
  }

  /** Opens a local split file. A damaged file throws NeedleException(CORRUPT). */
  public static Split open(String path) {
    return open(path, new SplitOpenOptions());
  }

  public static Split open(String path, SplitOpenOptions options) {
    Objects.requireNonNull(path, "path");
    SplitOpenOptions o = options == null ? new SplitOpenOptions() : options;
    return new Split(path, NativeSplit.openFile(path, o.verifyChecksums()));
  }

  /**
   * Opens a remote split of {@code size} bytes whose ranges {@code fetcher} reads. The fetcher is
   * kept (and called from searching threads) until the split and every searcher on it are closed.
   */
  public static Split open(RangeFetcher fetcher, long size) {
    return open(fetcher, size, new SplitOpenOptions());
  }

  public static Split open(RangeFetcher fetcher, long size, SplitOpenOptions options) {
    Objects.requireNonNull(fetcher, "fetcher");
    SplitOpenOptions o = options == null ? new SplitOpenOptions() : options;
    long h = NativeSplit.openRemote(
        fetcher, size, o.name(), o.verifyChecksums(), o.footerOffset(), o.footerLength());
    return new Split(o.name(), h);
  }

  public String name() {
    return name;
  }

  /** The metadata JSON stored in the footer (counts, field statistics, schema). */
  public String metadataJson() {
    return withHandle(h -> NativeSplit.metadataJson(h));
  }

  public Schema schema() {
    return withHandle(h -> Schema.fromJson(NativeSplit.schemaJson(h)));
  }

  /** Documents alive in the split. */
  public long numDocs() {
    return withHandle(h -> NativeSplit.numDocs(h));
  }

  /** Offset of the footer: with {@link #footerLength()}, a hint for one-read remote opens. */
  public long footerOffset() {
    return footer()[0];
  }

  public long footerLength() {
    return footer()[1];
  }

  /** Reads since open that the hot cache did not serve. */
  public long uncachedReads() {
    return withHandle(h -> NativeSplit.uncachedReads(h));
  }

  /** A searcher over this split (BM25 k1 = 1.2, b = 0.75). */
  public Searcher newSearcher() {
    return Searcher.open(this);
  }

  private long[] footer() {
    return withHandle(h -> NativeSplit.footer(h));
  }

  /** For Searcher.open: the handle, pinned by the caller's acquire/release. */
  long pin() {
    return acquire();
  }

  void unpin() {
    release();
  }
}
