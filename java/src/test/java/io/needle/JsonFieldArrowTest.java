package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * json fields through Arrow: one utf8 cell is the JSON text of one value, whatever it is (an
 * array cell is one value, not several), searched at its root without a path.
 */
class JsonFieldArrowTest {
  @TempDir Path tmp;
  BufferAllocator allocator;

  static final String SCHEMA = "{\"fields\":[{\"name\":\"id\",\"type\":\"i64\",\"stored\":true},"
      + "{\"name\":\"tags\",\"type\":\"json\",\"stored\":true}]}";

  /** Row i holds CELLS[i] (null: a null cell). */
  static final String[] CELLS = {
    "[\"red\",\"fox\"]",
    " \"fox trot\" ",
    "3",
    "{\"name\":\"fox\",\"n\":3}",
    null,
    "null",
    "[[\"deep\"],{\"k\":1},true]",
  };

  @BeforeEach
  void setUp() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void tearDown() {
    allocator.close();
  }

  VectorSchemaRoot batch(String... cells) {
    BigIntVector id = new BigIntVector("id", allocator);
    VarCharVector tags = new VarCharVector("tags", allocator);
    id.allocateNew();
    tags.allocateNew();
    for (int i = 0; i < cells.length; i++) {
      id.setSafe(i, i);
      if (cells[i] == null) {
        tags.setNull(i);
      } else {
        tags.setSafe(i, cells[i].getBytes(StandardCharsets.UTF_8));
      }
    }
    id.setValueCount(cells.length);
    tags.setValueCount(cells.length);
    return VectorSchemaRoot.of(id, tags);
  }

  @Test
  void aJsonFieldIsDescribed() {
    Schema s = Schema.fromJson(SCHEMA);
    assertEquals(FieldType.JSON, s.field("tags").type());
    assertEquals(FieldType.JSON, FieldType.fromJsonName("json"));
    assertEquals(10, FieldType.JSON.value());
    assertEquals(s, Schema.fromJson(s.toJson()));
  }

  @Test
  void aCellIsOneValueSearchedAtTheRoot() {
    String split = tmp.resolve("j.split").toString();
    try (IndexWriter w = IndexWriter.create(tmp.resolve("idx").toString(), Schema.fromJson(SCHEMA));
        VectorSchemaRoot root = batch(CELLS)) {
      assertEquals(CELLS.length, w.addBatch(root, allocator));
      w.commit();
      w.writeSplit(split);
    }
    try (Split s = Split.open(split); Searcher searcher = s.newSearcher()) {
      assertEquals(2, searcher.count("tags:fox"));  // rows 0 and 1; row 3's fox is at path name
      assertEquals(1, searcher.count("tags:\"fox trot\""));
      assertEquals(0, searcher.count("tags:\"red fox\""));  // two leaves of one array: no phrase across them
      assertEquals(2, searcher.count("tags:fo*"));
      assertEquals(1, searcher.count("tags:[1 TO 5]"));  // row 2; row 3's n is a path
      assertEquals(1, searcher.count("tags:deep AND tags:true"));
      assertEquals(1, searcher.count("tags.name:fox"));
      assertEquals(1, searcher.count("tags.k:1"));
      assertEquals(6, searcher.count("tags:*"));  // every row but the null cell; the text null is a value
      assertEquals(2, searcher.count("fox", new QueryOptions().defaultFields("tags")));

      // Stored as written (not minified), one value per cell; an array value prints as [value].
      List<String> stored = new ArrayList<>();
      try (ArrowSearchResult res = searcher.searchToArrow("*", Searcher.ALL_MATCHES, new String[] {"tags"},
          new ArrowSearchOptions().allocator(allocator))) {
        while (res.loadNextBatch()) {
          VarCharVector v = (VarCharVector) res.getRoot().getVector("tags");
          for (int i = 0; i < res.getRoot().getRowCount(); i++) {
            stored.add(v.isNull(i) ? null : v.getObject(i).toString());
          }
        }
      }
      assertEquals(Arrays.asList("[\"red\",\"fox\"]", " \"fox trot\" ", "3", "{\"name\":\"fox\",\"n\":3}", null, "null",
          "[[\"deep\"],{\"k\":1},true]"), stored);
      String doc0 = searcher.documentJson(0);
      assertTrue(doc0.contains("\"tags\":[[\"red\",\"fox\"]]"), doc0);
    }
  }

  @Test
  void numberTextIsKeptExactly() {
    String split = tmp.resolve("n.split").toString();
    String cell = "{\"d\": -99999999999999999999999999999999999999.0, \"x\": [1.50, 12345678901234567.891]}";
    try (IndexWriter w = IndexWriter.create(tmp.resolve("idx-n").toString(), Schema.fromJson(SCHEMA));
        VectorSchemaRoot root = batch(cell)) {
      w.addBatch(root, allocator);
      w.commit();
      w.writeSplit(split);
    }
    try (Split s = Split.open(split); Searcher searcher = s.newSearcher()) {
      assertEquals(1, searcher.count("tags.x:1.5"));
      assertEquals(1, searcher.count("tags.d:[* TO -1e37]"));
      try (ArrowSearchResult res = searcher.searchToArrow("*", Searcher.ALL_MATCHES, new String[] {"tags"},
          new ArrowSearchOptions().allocator(allocator))) {
        assertTrue(res.loadNextBatch());
        assertEquals(cell, ((VarCharVector) res.getRoot().getVector("tags")).getObject(0).toString());
      }
    }
  }

  @Test
  void textThatIsNotJsonIsADocumentError() {
    for (String bad : new String[] {"[1,", "", "fox", "{\"a..b\":1}", "[99999999999999999999999]"}) {
      try (IndexWriter w = IndexWriter.create(tmp.resolve("bad-" + System.nanoTime()).toString(), Schema.fromJson(SCHEMA));
          VectorSchemaRoot root = batch("1", bad)) {
        NeedleException e = assertThrows(NeedleException.class, () -> w.addBatch(root, allocator), bad);
        assertEquals(ErrorCode.DOCUMENT, e.code(), bad);
        assertTrue(e.getMessage().contains("tags"), e.getMessage());
      }
    }
  }
}
