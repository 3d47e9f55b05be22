package io.needle;

import java.util.List;

/**
 * The best hits of a search and, when asked for, how many documents matched in total.
 *
 * @param hits best first; ties by document address
 * @param count the number of matching documents, or -1 when it was not computed
 */
public record SearchResult(List<Hit> hits, long count) {}
