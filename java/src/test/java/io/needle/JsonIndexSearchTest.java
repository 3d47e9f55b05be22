package io.needle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.UInt8Vector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** JSON documents of every type, searched, and read back through Arrow exactly. */
class JsonIndexSearchTest {
  @TempDir Path tmp;
  BufferAllocator allocator;

  @BeforeEach
  void setUp() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void tearDown() {
    allocator.close();  // throws if a test leaked Arrow memory
  }

  static long micros(String rfc3339) {
    Instant i = Instant.parse(rfc3339);
    return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
  }

  @Test
  void indexSearchAndReadBackEveryType() {
    Path split = SplitFixtures.writeSplit(tmp, SplitFixtures.ALL_TYPES_SCHEMA, SplitFixtures.ALL_TYPES_DOCS);
    try (Split s = Split.open(split.toString()); Searcher searcher = s.newSearcher()) {
      assertEquals(3, s.numDocs());
      assertTrue(s.metadataJson().contains("\"body\""), s.metadataJson());
      assertEquals(Schema.fromJson(SplitFixtures.ALL_TYPES_SCHEMA), s.schema());

      assertEquals(2, searcher.count("disk"));
      assertEquals(1, searcher.count("tags:x AND tags:y"));
      assertEquals(1, searcher.count("n:[0 TO *]"));
      assertEquals(1, searcher.count("addr:10.0.0.1"));
      assertEquals(1, searcher.count("addr:\"2001:db8::1\""));
      assertEquals(1, searcher.count("u:18446744073709551615"));
      assertEquals(1, searcher.count("body:\u00e9t\u00e9"));
      assertEquals(1, searcher.count("secret:s"));
      List<Hit> hits = searcher.search("disk OR powershell", 10);
      assertEquals(3, hits.size());
      for (Hit h : hits) {
        assertTrue(h.score() > 0);
      }
      SearchResult r = searcher.searchWithCount("disk", new QueryOptions(), 1);
      assertEquals(1, r.hits().size());
      assertEquals(2, r.count());
      assertEquals(0, searcher.searchWithCount("disk", null, 0).hits().size());
      assertEquals(2, searcher.searchWithCount("disk", null, 0).count());
      assertEquals(1, searcher.count("addr:10.0.0.0/8"));

      String json = searcher.documentJson(0);
      assertTrue(json.contains("\ud83d\ude00"), json);  // a supplementary character survives
      assertFalse(json.contains("secret"), json);         // not stored
      assertThrows(NeedleException.class, () -> searcher.documentJson(3));

      String[] cols = {"_doc", "_score", "body", "tag", "n", "u", "x", "flag", "ts", "raw", "addr", "tags", "nums"};
      ArrowSearchOptions opts = new ArrowSearchOptions().listColumns("tags", "nums").allocator(allocator).batchSize(2);
      List<List<Object>> rows = new ArrayList<>();
      try (ArrowSearchResult res = searcher.searchToArrow("*", Searcher.ALL_MATCHES, cols, opts)) {
        assertEquals(3, res.totalHits());
        VectorSchemaRoot root = res.getRoot();
        assertEquals(new ArrowType.Timestamp(org.apache.arrow.vector.types.TimeUnit.MICROSECOND, "UTC"),
            root.getVector("ts").getField().getType());
        int batches = 0;
        while (res.loadNextBatch()) {
          batches++;
          for (int i = 0; i < root.getRowCount(); i++) {
            rows.add(row(root, i));
          }
        }
        assertEquals(2, batches);  // batch size 2
        assertFalse(res.loadNextBatch());
      }
      assertEquals(3, rows.size());
      assertEquals(Arrays.asList(0L, 1.0f, "disk failure on web-1 \u00e9t\u00e9 \ud83d\ude00", "a", -5L,
          new BigInteger("18446744073709551615"), 1.5, true, micros("2024-05-01T10:00:00Z"),
          List.of(0, 1, 2, 255), "10.0.0.1", List.of("x", "y"), List.of(1L, 2L, 3L)), rows.get(0));
      assertEquals(Arrays.asList(1L, 1.0f, "powershell spawned cmd", null, Long.MAX_VALUE, null, -0.25, false,
          micros("2024-05-01T11:30:00.123456Z"), null, "2001:db8::1", List.of("z"), null), rows.get(1));
      assertEquals(Arrays.asList(2L, 1.0f, "disk ok", "b", Long.MIN_VALUE, BigInteger.ZERO, null, null, -1L,
          null, null, null, null), rows.get(2));

      // top-k through Arrow: best first, scores as in search()
      List<Hit> top = searcher.search("disk", 10);
      try (ArrowSearchResult res = searcher.searchToArrow("disk", 10, new String[] {"_doc", "_score"},
          new ArrowSearchOptions().allocator(allocator))) {
        assertTrue(res.loadNextBatch());
        BigIntVector doc = (BigIntVector) res.getRoot().getVector("_doc");
        Float4Vector score = (Float4Vector) res.getRoot().getVector("_score");
        assertEquals(top.size(), res.getRoot().getRowCount());
        for (int i = 0; i < top.size(); i++) {
          assertEquals(top.get(i).docAddress(), doc.get(i));
          assertEquals(top.get(i).score(), score.get(i));
        }
      }
    }
  }

  /** One row as plain Java values: bytes as unsigned ints, lists as lists, nulls as null. */
  static List<Object> row(VectorSchemaRoot root, int i) {
    List<Object> out = new ArrayList<>();
    for (var v : root.getFieldVectors()) {
      if (v.isNull(i)) {
        out.add(null);
      } else if (v instanceof VarCharVector) {
        out.add(((VarCharVector) v).getObject(i).toString());
      } else if (v instanceof BigIntVector) {
        out.add(((BigIntVector) v).get(i));
      } else if (v instanceof UInt8Vector) {
        out.add(((UInt8Vector) v).getObjectNoOverflow(i));
      } else if (v instanceof Float8Vector) {
        out.add(((Float8Vector) v).get(i));
      } else if (v instanceof Float4Vector) {
        out.add(((Float4Vector) v).get(i));
      } else if (v instanceof BitVector) {
        out.add(((BitVector) v).get(i) == 1);
      } else if (v instanceof TimeStampMicroTZVector) {
        out.add(((TimeStampMicroTZVector) v).get(i));
      } else if (v instanceof VarBinaryVector) {
        List<Integer> bytes = new ArrayList<>();
        for (byte b : ((VarBinaryVector) v).get(i)) {
          bytes.add(b & 0xFF);
        }
        out.add(bytes);
      } else if (v instanceof ListVector) {
        List<Object> items = new ArrayList<>();
        for (Object o : ((ListVector) v).getObject(i)) {
          items.add(o instanceof org.apache.arrow.vector.util.Text ? o.toString() : o);
        }
        out.add(items);
      } else {
        throw new AssertionError("unexpected vector " + v.getClass());
      }
    }
    return out;
  }

  @Test
  void writerLifecycleDeletesRollbackAndBatches() {
    String dir = tmp.resolve("idx").toString();
    Schema schema = Schema.fromJson(SplitFixtures.ALL_TYPES_SCHEMA);
    try (IndexWriter w = IndexWriter.create(dir, schema,
        IndexWriterOptions.defaults().numThreads(2).memoryBudgetBytes(64 << 20)
            .compression(IndexWriterOptions.Compression.LZ4))) {
      assertEquals(schema, w.schema());
      assertEquals(3, w.addDocumentsJson(String.join("\n", SplitFixtures.ALL_TYPES_DOCS) + "\n\n"));
      w.commit();
      assertEquals(3, w.numDocs());
      // all or nothing: line 2 is bad, nothing of this batch is added
      NeedleException e = assertThrows(NeedleException.class,
          () -> w.addDocumentsJson("{\"n\":1}\n{\"n\":\"oops\"}\n"));
      assertEquals(ErrorCode.DOCUMENT, e.code());
      assertTrue(e.getMessage().contains("line 2"), e.getMessage());
      w.commit();
      assertEquals(3, w.numDocs());

      w.deleteTerm("tag", "a");
      w.deleteQuery("body:powershell", null);
      w.commit();
      assertEquals(1, w.numDocs());
      w.addDocumentJson("{\"body\":\"rolled back\"}");
      w.rollback();
      w.addDocumentJson("{\"body\":\"kept\",\"n\":42}");
      w.deleteTerm("n", "-9223372036854775808");
      w.forceMerge();
      assertEquals(1, w.numDocs());
      assertEquals(ErrorCode.INVALID_ARGUMENT,
          assertThrows(NeedleException.class, () -> w.deleteTerm("n", "not a number")).code());
      assertEquals(ErrorCode.INVALID_ARGUMENT,
          assertThrows(NeedleException.class, () -> w.deleteTerm("nope", "1")).code());
      String meta = w.writeSplit(tmp.resolve("out.split").toString());
      assertTrue(meta.contains("\"num_docs\""), meta);
    }
    try (Split s = Split.open(tmp.resolve("out.split").toString()); Searcher searcher = s.newSearcher()) {
      assertEquals(1, s.numDocs());
      assertEquals(1, searcher.count("kept AND n:42"));
      assertEquals(0, searcher.count("rolled"));
    }
    // reopen the folder and add more
    try (IndexWriter w = IndexWriter.open(dir, null)) {
      assertEquals(1, w.numDocs());
      w.addDocumentJson("{\"body\":\"again\"}");
      w.commit();
      assertEquals(2, w.numDocs());
    }
  }

  @Test
  void createInAnExistingIndexFails() {
    String dir = tmp.resolve("idx").toString();
    Schema schema = Schema.fromJson(SplitFixtures.ALL_TYPES_SCHEMA);
    try (IndexWriter w = IndexWriter.create(dir, schema)) {
      w.commit();
    }
    NeedleException e = assertThrows(NeedleException.class, () -> IndexWriter.create(dir, schema));
    assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
    assertEquals(ErrorCode.INVALID_ARGUMENT, assertThrows(NeedleException.class,
        () -> IndexWriter.create(tmp.resolve("x").toString(), schema,
            IndexWriterOptions.defaults().numThreads(0))).code());
  }

  @Test
  void queryHandles() {
    Path split = SplitFixtures.writeSplit(tmp, SplitFixtures.ALL_TYPES_SCHEMA, SplitFixtures.ALL_TYPES_DOCS);
    try (Split s = Split.open(split.toString()); Searcher a = s.newSearcher(); Searcher b = Searcher.open(s, 2.0f, 0.5f);
        Query q = a.parse("DISK", new QueryOptions().defaultFields("body"))) {
      assertEquals("DISK", q.text());
      assertTrue(q.describe().contains("disk"), q.describe());  // analyzed
      assertEquals(2, a.count(q));
      assertEquals(2, b.count(q));  // same schema: a query is usable on another searcher
      assertEquals(2, b.search(q, 5).size());
      assertArrayEquals(new long[] {0, 2},
          a.search(q, 5).stream().mapToLong(Hit::docAddress).sorted().toArray());
      assertEquals(2, a.search("disk", Integer.MAX_VALUE).size());
      assertEquals(2, a.count("ts:[2024-05-01 TO *]"));
      // conjunction default
      assertEquals(0, a.count("disk powershell", new QueryOptions().conjunction(true)));
      assertEquals(3, a.count("disk powershell", new QueryOptions()));
      // a query from a split of another schema is refused
      Path other = SplitFixtures.writeSplit(tmp, "{\"fields\":[{\"name\":\"body\",\"type\":\"text\"}]}",
          List.of("{\"body\":\"disk\"}"));
      try (Split s2 = Split.open(other.toString()); Searcher c = s2.newSearcher()) {
        assertEquals(ErrorCode.INVALID_ARGUMENT, assertThrows(NeedleException.class, () -> c.count(q)).code());
      }
    }
  }
}
