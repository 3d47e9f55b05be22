package io.needle;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * Runs queries over a {@link Split}. Thread-safe: any number of threads may search one searcher
 * at once. BM25 statistics are over the whole split (docs/scoring.md).
 */
public final class Searcher extends NativeHandle {
  /** {@code limit} for {@link #searchToArrow}: every match, in document-address order. */
  public static final int ALL_MATCHES = -1;

  private final Schema schema;

  private Searcher(long handle) {
    super("Searcher", handle, NativeSearcher::free);
    this.schema = withHandle(h -> Schema.fromJson(NativeSearcher.schemaJson(h)));
  }

  /** A searcher with BM25 k1 = 1.2, b = 0.75. */
  public static Searcher open(Split split) {
    return open(split, 1.2f, 0.75f);
  }

  public static Searcher open(Split split, float k1, float b) {
    Objects.requireNonNull(split, "split");
    long sh = split.pin();
    long h;
    try {
      h = NativeSearcher.create(sh, k1, b);
    } finally {
      split.unpin();
    }
    try {
      return new Searcher(h);
    } catch (RuntimeException | Error e) {
      NativeSearcher.free(h);
      throw e;
    }
  }

  public Schema schema() {
    return schema;
  }

  /** Documents alive in the split. */
  public long numDocs() {
    return withHandle(h -> NativeSearcher.numDocs(h));
  }

  /**
   * Parses and resolves a query. A query that does not parse throws NeedleException(QUERY_PARSE)
   * with the byte position in the message; one that cannot run (unknown field, a value of the
   * wrong type) throws NeedleException(QUERY).
   */
  public Query parse(String query, QueryOptions options) {
    Objects.requireNonNull(query, "query");
    QueryOptions o = options == null ? new QueryOptions() : options;
    return withHandle(h -> new Query(query, NativeSearcher.parse(h, query, o.defaultFieldsArray(), o.conjunction())));
  }

  public Query parse(String query) {
    return parse(query, null);
  }

  /** The best {@code limit} hits: score descending, ties by document address. */
  public List<Hit> search(String query, QueryOptions options, int limit) {
    try (Query q = parse(query, options)) {
      return search(q, limit);
    }
  }

  public List<Hit> search(String query, int limit) {
    return search(query, null, limit);
  }

  public List<Hit> search(Query query, int limit) {
    return run(query, limit, false).hits();
  }

  /** The best hits and the total number of matches. */
  public SearchResult searchWithCount(String query, QueryOptions options, int limit) {
    try (Query q = parse(query, options)) {
      return searchWithCount(q, limit);
    }
  }

  public SearchResult searchWithCount(Query query, int limit) {
    return run(query, limit, true);
  }

  /** The number of matching documents. */
  public long count(String query, QueryOptions options) {
    try (Query q = parse(query, options)) {
      return count(q);
    }
  }

  public long count(String query) {
    return count(query, null);
  }

  public long count(Query query) {
    Objects.requireNonNull(query, "query");
    long h = acquire();
    try {
      long qh = query.acquire();
      try {
        return NativeSearcher.count(h, qh);
      } finally {
        query.release();
      }
    } finally {
      release();
    }
  }

  /** The stored fields of the document at {@code docAddress} as JSON ({@code {"field": value}}). */
  public String documentJson(long docAddress) {
    return withHandle(h -> NativeSearcher.documentJson(h, docAddress));
  }

  /**
   * Searches and returns the hits as Arrow batches of {@code columns}: stored fields, and
   * {@code _score} and {@code _doc}. {@code limit}: the best hits, best first; or
   * {@link #ALL_MATCHES}: every match in address order. An unknown or unstored column throws
   * NeedleException(INVALID_ARGUMENT) naming it.
   */
  public ArrowSearchResult searchToArrow(String query, int limit, String[] columns, ArrowSearchOptions options) {
    ArrowSearchOptions o = options == null ? new ArrowSearchOptions() : options;
    try (Query q = parse(query, o.queryOptions())) {
      return searchToArrow(q, limit, columns, o);
    }
  }

  public ArrowSearchResult searchToArrow(String query, int limit, String[] columns) {
    return searchToArrow(query, limit, columns, null);
  }

  public ArrowSearchResult searchToArrow(Query query, int limit, String[] columns, ArrowSearchOptions options) {
    Objects.requireNonNull(query, "query");
    Objects.requireNonNull(columns, "columns");
    ArrowSearchOptions o = options == null ? new ArrowSearchOptions() : options;
    boolean[] lists = new boolean[columns.length];
    for (int i = 0; i < columns.length; i++) {
      lists[i] = o.listColumns().contains(columns[i]);
    }
    long cursor;
    long h = acquire();
    try {
      long qh = query.acquire();
      try {
        cursor = NativeSearcher.openArrowCursor(h, qh, limit < 0 ? -1 : limit, columns, lists, o.batchSize());
      } finally {
        query.release();
      }
    } finally {
      release();
    }
    return new ArrowSearchResult(cursor, o.allocatorOrDefault());
  }

  private SearchResult run(Query query, int limit, boolean withCount) {
    Objects.requireNonNull(query, "query");
    if (limit < 0) {
      throw new IllegalArgumentException("limit must not be negative");
    }
    long[] r;
    long h = acquire();
    try {
      long qh = query.acquire();
      try {
        r = NativeSearcher.search(h, qh, limit, withCount);
      } finally {
        query.release();
      }
    } finally {
      release();
    }
    int n = (int) r[1];
    List<Hit> hits = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int at = 2 + 3 * i;
      long seg = r[at + 1];
      hits.add(new Hit(Float.intBitsToFloat((int) r[at + 2]), r[at], (int) (seg >>> 32), (int) seg));
    }
    return new SearchResult(Collections.unmodifiableList(hits), r[0]);
  }
}
