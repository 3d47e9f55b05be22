package io.needle;

/** Options of an {@link IndexWriter}. Mutable, with fluent setters; defaults as the engine's. */
public final class IndexWriterOptions {
  /** How stored documents are compressed. */
  public enum Compression {
    NONE(0),
    ZSTD(1),
    LZ4(2);

    final int value;

    Compression(int value) {
      this.value = value;
    }
  }

  private long memoryBudgetBytes = 256L << 20;
  private int numThreads = 1;
  private Compression compression = Compression.ZSTD;
  private int zstdLevel = 3;
  private int storeBlockSize = 16384;
  private boolean mergeEnabled = true;
  private int mergeFactor = 10;
  private int minMergeSegments = 8;
  private int minLevelDocs = 10000;
  private boolean rejectUnknownColumns = false;

  public static IndexWriterOptions defaults() {
    return new IndexWriterOptions();
  }

  /** Memory for all indexing threads together (at least 1 MiB per thread). Default 256 MiB. */
  public IndexWriterOptions memoryBudgetBytes(long bytes) {
    this.memoryBudgetBytes = bytes;
    return this;
  }

  /** Indexing threads (1..256). Default 1. */
  public IndexWriterOptions numThreads(int threads) {
    this.numThreads = threads;
    return this;
  }

  public IndexWriterOptions compression(Compression compression) {
    this.compression = java.util.Objects.requireNonNull(compression);
    return this;
  }

  public IndexWriterOptions zstdLevel(int level) {
    this.zstdLevel = level;
    return this;
  }

  public IndexWriterOptions storeBlockSize(int bytes) {
    this.storeBlockSize = bytes;
    return this;
  }

  /** Whether commits run the merge policy. */
  public IndexWriterOptions mergeEnabled(boolean enabled) {
    this.mergeEnabled = enabled;
    return this;
  }

  public IndexWriterOptions mergeFactor(int factor) {
    this.mergeFactor = factor;
    return this;
  }

  public IndexWriterOptions minMergeSegments(int segments) {
    this.minMergeSegments = segments;
    return this;
  }

  public IndexWriterOptions minLevelDocs(int docs) {
    this.minLevelDocs = docs;
    return this;
  }

  /**
   * Arrow batches: a column that is no field of the schema is ignored by default (as unknown JSON
   * keys are); with this set it fails the batch with NeedleException(DOCUMENT).
   */
  public IndexWriterOptions rejectUnknownColumns(boolean reject) {
    this.rejectUnknownColumns = reject;
    return this;
  }

  /** The layout read by native_index_writer.cc (enum Opt). */
  long[] toNative() {
    return new long[] {
      memoryBudgetBytes,
      numThreads,
      compression.value,
      zstdLevel,
      storeBlockSize,
      mergeEnabled ? 1 : 0,
      mergeFactor,
      minMergeSegments,
      minLevelDocs,
      rejectUnknownColumns ? 1 : 0
    };
  }
}
