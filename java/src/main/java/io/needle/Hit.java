package io.needle;

/**
 * One search hit.
 *
 * @param score BM25 score (constant-score queries give 1)
 * @param docAddress the document's address in its split: segment base + document in segment;
 *     stable for a given split, usable with {@link Searcher#documentJson(long)}
 * @param segment the segment index
 * @param segmentDoc the document's number inside its segment
 */
public record Hit(float score, long docAddress, int segment, int segmentDoc) {}
