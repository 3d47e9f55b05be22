package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input never crashes the JVM: it throws NeedleException with the engine's code. */
class ErrorsAndLifecycleTest {
  @TempDir Path tmp;

  @Test
  void badQueryIsQueryParseWithPosition() {
    Path split = SplitFixtures.writeSplit(tmp, SplitFixtures.ALL_TYPES_SCHEMA, SplitFixtures.ALL_TYPES_DOCS);
    try (Split s = Split.open(split.toString()); Searcher searcher = s.newSearcher()) {
      String query = "disk AND (body:failure";
      NeedleException e = assertThrows(NeedleException.class, () -> searcher.search(query, 10));
      assertEquals(ErrorCode.QUERY_PARSE, e.code());
      Matcher m = Pattern.compile("position (\\d+)").matcher(e.getMessage());
      assertTrue(m.find(), e.getMessage());
      assertEquals(query.length(), Integer.parseInt(m.group(1)), e.getMessage());  // the missing ')'
      assertEquals(ErrorCode.QUERY_PARSE, assertThrows(NeedleException.class, () -> searcher.count("a:[1 TO")).code());
      assertEquals(ErrorCode.QUERY_PARSE, assertThrows(NeedleException.class, () -> searcher.parse("((((")).code());
      // parses, but cannot run
      NeedleException q = assertThrows(NeedleException.class, () -> searcher.count("nope:x"));
      assertEquals(ErrorCode.QUERY, q.code());
      assertTrue(q.getMessage().contains("nope"), q.getMessage());
      assertEquals(ErrorCode.QUERY, assertThrows(NeedleException.class, () -> searcher.count("n:abc")).code());
      // deep nesting is an error, not a stack overflow
      String deep = "(".repeat(100_000) + "a" + ")".repeat(100_000);
      assertEquals(ErrorCode.QUERY_PARSE, assertThrows(NeedleException.class, () -> searcher.count(deep)).code());
      // and the searcher still works
      assertEquals(2, searcher.count("disk"));
    }
  }

  @Test
  void corruptSplitIsCorrupt() throws IOException {
    Path split = SplitFixtures.writeSplit(tmp, SplitFixtures.ALL_TYPES_SCHEMA, SplitFixtures.ALL_TYPES_DOCS);
    byte[] good = Files.readAllBytes(split);
    int n = good.length;
    // the body (component files), the footer, the trailer
    int[] positions = {n / 3, n / 2, (2 * n) / 3, n - 40, n - 10, n - 3};
    for (int pos : positions) {
      byte[] bad = good.clone();
      bad[pos] ^= 0x5A;
      bad[pos + 1] ^= (byte) 0xFF;
      Path p = tmp.resolve("bad-" + pos + ".split");
      Files.write(p, bad);
      NeedleException e = assertThrows(NeedleException.class, () -> {
        try (Split s = Split.open(p.toString()); Searcher searcher = s.newSearcher()) {
          searcher.search("disk OR powershell", 10);
          searcher.documentJson(0);
        }
      }, "flipped bytes at " + pos + " of " + n);
      assertEquals(ErrorCode.CORRUPT, e.code(), e.getMessage());
    }
    // truncated, empty, missing, a directory
    Path truncated = tmp.resolve("trunc.split");
    Files.write(truncated, java.util.Arrays.copyOf(good, n / 2));
    assertEquals(ErrorCode.CORRUPT, assertThrows(NeedleException.class, () -> Split.open(truncated.toString())).code());
    Path empty = tmp.resolve("empty.split");
    Files.write(empty, new byte[0]);
    assertEquals(ErrorCode.CORRUPT, assertThrows(NeedleException.class, () -> Split.open(empty.toString())).code());
    assertEquals(ErrorCode.NOT_FOUND,
        assertThrows(NeedleException.class, () -> Split.open(tmp.resolve("missing.split").toString())).code());
    assertEquals(ErrorCode.INVALID_ARGUMENT, assertThrows(NeedleException.class, () -> Split.open(tmp.toString())).code());
  }

  @Test
  void closeTwiceIsFineAndUseAfterCloseIsIllegalState() {
    Path split = SplitFixtures.writeSplit(tmp, SplitFixtures.ALL_TYPES_SCHEMA, SplitFixtures.ALL_TYPES_DOCS);
    Split s = Split.open(split.toString());
    Searcher searcher = s.newSearcher();
    Query q = searcher.parse("disk");
    s.close();
    s.close();
    assertTrue(s.isClosed());
    assertThrows(IllegalStateException.class, s::numDocs);
    assertThrows(IllegalStateException.class, s::metadataJson);
    assertThrows(IllegalStateException.class, s::newSearcher);
    // the searcher keeps the native split alive
    assertEquals(2, searcher.count(q));
    q.close();
    q.close();
    assertThrows(IllegalStateException.class, () -> searcher.count(q));
    assertThrows(IllegalStateException.class, q::describe);
    ArrowSearchResult r = searcher.searchToArrow("disk", 10, new String[] {"_doc"});
    searcher.close();
    searcher.close();
    assertThrows(IllegalStateException.class, () -> searcher.count("disk"));
    assertThrows(IllegalStateException.class, () -> searcher.search("disk", 1));
    assertThrows(IllegalStateException.class, () -> searcher.documentJson(0));
    // an open result keeps reading after its searcher is closed
    assertTrue(r.loadNextBatch());
    assertEquals(2, r.getRoot().getRowCount());
    r.close();
    r.close();
    assertThrows(IllegalStateException.class, r::loadNextBatch);

    IndexWriter w = IndexWriter.create(tmp.resolve("idx").toString(), Schema.fromJson(SplitFixtures.ALL_TYPES_SCHEMA));
    w.addDocumentJson("{\"body\":\"x\"}");
    w.close();
    w.close();
    assertThrows(IllegalStateException.class, () -> w.addDocumentJson("{\"body\":\"y\"}"));
    assertThrows(IllegalStateException.class, w::commit);
    assertThrows(IllegalStateException.class, () -> w.writeSplit(tmp.resolve("x.split").toString()));
  }

  @Test
  void badDocumentsAndArguments() {
    try (IndexWriter w = IndexWriter.create(tmp.resolve("idx").toString(), Schema.fromJson(SplitFixtures.ALL_TYPES_SCHEMA))) {
      for (String bad : new String[] {
          "{\"n\":1.5}", "{\"u\":-1}", "{\"ts\":\"yesterday\"}", "{\"raw\":\"***\"}", "{\"addr\":\"1.2.3\"}",
          "{\"tags\":[[\"nested\"]]}", "not json", "[1,2]", "{\"tag\":\"" + "x".repeat(40000) + "\"}"}) {
        NeedleException e = assertThrows(NeedleException.class, () -> w.addDocumentJson(bad), bad);
        assertEquals(ErrorCode.DOCUMENT, e.code(), bad + ": " + e.getMessage());
      }
      assertThrows(NeedleException.class, () -> w.addDocumentJson(null));
      assertEquals(ErrorCode.INVALID_ARGUMENT,
          assertThrows(NeedleException.class, () -> w.addArrowBatch(0, 0)).code());
      w.commit();
      assertEquals(0, w.numDocs());
    }
    assertEquals(ErrorCode.NOT_FOUND, assertThrows(NeedleException.class,
        () -> IndexWriter.open(tmp.resolve("nothing-here").toString(), null)).code());
  }
}
