package io.needle;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.arrow.memory.BufferAllocator;

/** Options of {@link Searcher#searchToArrow}. Mutable, with fluent setters. */
public final class ArrowSearchOptions {
  private QueryOptions queryOptions = new QueryOptions();
  private Set<String> listColumns = Collections.emptySet();
  private int batchSize = 4096;
  private BufferAllocator allocator;

  public ArrowSearchOptions queryOptions(QueryOptions options) {
    this.queryOptions = options == null ? new QueryOptions() : options;
    return this;
  }

  /**
   * Columns returned as {@code list<T>} with every value of the field (null when the document has
   * none). Other field columns are {@code T}: a document with several values there fails the
   * search with NeedleException(INVALID_ARGUMENT).
   */
  public ArrowSearchOptions listColumns(String... columns) {
    this.listColumns = Collections.unmodifiableSet(new LinkedHashSet<>(Arrays.asList(columns)));
    return this;
  }

  /** Rows per batch (also cut at 256 MiB of variable-length data in one column). Default 4096. */
  public ArrowSearchOptions batchSize(int rows) {
    if (rows < 1) {
      throw new IllegalArgumentException("batchSize must be positive");
    }
    this.batchSize = rows;
    return this;
  }

  /** Where the result's buffers are accounted; default: a root allocator of this library. */
  public ArrowSearchOptions allocator(BufferAllocator allocator) {
    this.allocator = allocator;
    return this;
  }

  QueryOptions queryOptions() {
    return queryOptions;
  }

  Set<String> listColumns() {
    return listColumns;
  }

  int batchSize() {
    return batchSize;
  }

  BufferAllocator allocatorOrDefault() {
    return allocator != null ? allocator : ArrowSupport.defaultAllocator();
  }
}
