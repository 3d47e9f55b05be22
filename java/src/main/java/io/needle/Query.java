package io.needle;

/**
 * A parsed, resolved query: made by {@link Searcher#parse}, usable with any searcher over a
 * split of the same schema, from several threads at once. Close it when done.
 */
public final class Query extends NativeHandle {
  private final String text;

  Query(String text, long handle) {
    super("Query", handle, NativeQuery::free);
    this.text = text;
  }

  /** The query string it was parsed from. */
  public String text() {
    return text;
  }

  /** The resolved query tree (fields, analyzed terms, occurrences), for debugging. */
  public String describe() {
    return withHandle(h -> NativeQuery.describe(h));
  }

  @Override
  public String toString() {
    return text;
  }
}
