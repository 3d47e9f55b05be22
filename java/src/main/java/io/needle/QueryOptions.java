package io.needle;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/** How a query string is read (docs/query-language.md). Mutable, with fluent setters. */
public final class QueryOptions {
  private List<String> defaultFields = Collections.emptyList();
  private boolean conjunction = false;

  /** Fields searched by clauses without a field; empty (the default): every indexed text field. */
  public QueryOptions defaultFields(String... fields) {
    this.defaultFields = List.copyOf(Arrays.asList(fields));
    return this;
  }

  public QueryOptions defaultFields(List<String> fields) {
    this.defaultFields = List.copyOf(fields);
    return this;
  }

  /** Bare clauses (no AND/OR between them) combine with AND instead of OR. */
  public QueryOptions conjunction(boolean conjunction) {
    this.conjunction = conjunction;
    return this;
  }

  public List<String> defaultFields() {
    return defaultFields;
  }

  public boolean conjunction() {
    return conjunction;
  }

  String[] defaultFieldsArray() {
    return defaultFields.toArray(new String[0]);
  }
}
