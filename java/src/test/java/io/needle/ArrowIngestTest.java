package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.apache.arrow.c.ArrowArray;
import org.apache.arrow.c.ArrowSchema;
import org.apache.arrow.c.Data;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DecimalVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.FixedSizeBinaryVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.IntVector;
import org.apache.arrow.vector.LargeVarBinaryVector;
import org.apache.arrow.vector.LargeVarCharVector;
import org.apache.arrow.vector.SmallIntVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.TimeStampMicroVector;
import org.apache.arrow.vector.TimeStampMilliTZVector;
import org.apache.arrow.vector.TimeStampNanoVector;
import org.apache.arrow.vector.TinyIntVector;
import org.apache.arrow.vector.UInt4Vector;
import org.apache.arrow.vector.UInt8Vector;
import org.apache.arrow.vector.VarBinaryVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.LargeListVector;
import org.apache.arrow.vector.complex.ListVector;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Arrow record batches of every supported type in, Arrow batches of stored fields out. */
class ArrowIngestTest {
  @TempDir Path tmp;
  BufferAllocator allocator;

  @BeforeEach
  void setUp() {
    allocator = new RootAllocator();
  }

  @AfterEach
  void tearDown() {
    allocator.close();  // also proves every exported batch was released by the native side
  }

  /** needle field -> its type; one field per Arrow type (or conversion) under test. */
  static final String[][] FIELDS = {
    {"s_utf8", "string"}, {"s_large", "string"}, {"t_text", "text"},
    {"i_8", "i64"}, {"i_16", "i64"}, {"i_32", "i64"}, {"i_64", "i64"}, {"i_u32", "i64"}, {"dec_i", "i64"},
    {"d32_i", "i64"},
    {"u_64", "u64"}, {"u_i32", "u64"},
    {"f_32", "f64"}, {"f_64", "f64"}, {"f_i64", "f64"}, {"dec_f", "f64"},
    {"b", "bool"}, {"dec_s", "string"},
    {"d32", "timestamp"}, {"ts_us", "timestamp"}, {"ts_tz", "timestamp"}, {"ts_ms", "timestamp"},
    {"ts_ns", "timestamp"}, {"ts_i", "timestamp"}, {"ts_s", "timestamp"},
    {"bin", "bytes"}, {"lbin", "bytes"}, {"fbin", "bytes"},
    {"ip_s", "ip"}, {"ip_b", "ip"},
    {"tags", "string"}, {"nums", "i64"}, {"ltags", "string"},
  };

  static String schemaJson() {
    StringBuilder sb = new StringBuilder("{\"fields\":[");
    for (int i = 0; i < FIELDS.length; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"name\":\"").append(FIELDS[i][0]).append("\",\"type\":\"")
          .append(FIELDS[i][1]).append("\",\"stored\":true}");
    }
    return sb.append("]}").toString();
  }

  static final long DAYS = LocalDate.of(2024, 5, 1).toEpochDay();
  static final long US = 1714557600123456L;  // 2024-05-01T10:00:00.123456Z

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Three rows: values, all null, other values (empty list, a null inside a list). */
  VectorSchemaRoot batch() {
    List<FieldVector> v = new ArrayList<>();
    VarCharVector sUtf8 = new VarCharVector("s_utf8", allocator);
    sUtf8.allocateNew();
    sUtf8.setSafe(0, utf8("h\u00e9llo \ud83d\ude00"));
    sUtf8.setNull(1);
    sUtf8.setSafe(2, utf8(""));
    v.add(sUtf8);
    LargeVarCharVector sLarge = new LargeVarCharVector("s_large", allocator);
    sLarge.allocateNew();
    sLarge.setSafe(0, utf8("large"));
    sLarge.setNull(1);
    sLarge.setSafe(2, utf8("L2"));
    v.add(sLarge);
    VarCharVector text = new VarCharVector("t_text", allocator);
    text.allocateNew();
    text.setSafe(0, utf8("quick brown fox"));
    text.setNull(1);
    text.setSafe(2, utf8("second row"));
    v.add(text);
    TinyIntVector i8 = new TinyIntVector("i_8", allocator);
    i8.allocateNew();
    i8.set(0, -128);
    i8.setNull(1);
    i8.set(2, 127);
    v.add(i8);
    SmallIntVector i16 = new SmallIntVector("i_16", allocator);
    i16.allocateNew();
    i16.set(0, -32768);
    i16.setNull(1);
    i16.set(2, 32767);
    v.add(i16);
    IntVector i32 = new IntVector("i_32", allocator);
    i32.allocateNew();
    i32.set(0, Integer.MIN_VALUE);
    i32.setNull(1);
    i32.set(2, Integer.MAX_VALUE);
    v.add(i32);
    BigIntVector i64 = new BigIntVector("i_64", allocator);
    i64.allocateNew();
    i64.set(0, Long.MIN_VALUE);
    i64.setNull(1);
    i64.set(2, Long.MAX_VALUE);
    v.add(i64);
    UInt4Vector iu32 = new UInt4Vector("i_u32", allocator);
    iu32.allocateNew();
    iu32.set(0, -1);  // 4294967295
    iu32.setNull(1);
    iu32.set(2, 0);
    v.add(iu32);
    DecimalVector decI = new DecimalVector("dec_i", allocator, 20, 0);
    decI.allocateNew();
    decI.set(0, new BigDecimal("-123456789012345678"));
    decI.setNull(1);
    decI.set(2, new BigDecimal("7"));
    v.add(decI);
    DateDayVector d32i = new DateDayVector("d32_i", allocator);
    d32i.allocateNew();
    d32i.set(0, (int) DAYS);
    d32i.setNull(1);
    d32i.set(2, -1);
    v.add(d32i);
    UInt8Vector u64 = new UInt8Vector("u_64", allocator);
    u64.allocateNew();
    u64.set(0, -1L);  // 2^64 - 1
    u64.setNull(1);
    u64.set(2, 0L);
    v.add(u64);
    IntVector ui32 = new IntVector("u_i32", allocator);
    ui32.allocateNew();
    ui32.set(0, 7);
    ui32.setNull(1);
    ui32.set(2, 0);
    v.add(ui32);
    Float4Vector f32 = new Float4Vector("f_32", allocator);
    f32.allocateNew();
    f32.set(0, 1.1f);
    f32.setNull(1);
    f32.set(2, Float.MAX_VALUE);
    v.add(f32);
    Float8Vector f64 = new Float8Vector("f_64", allocator);
    f64.allocateNew();
    f64.set(0, Math.PI);
    f64.setNull(1);
    f64.set(2, -2.5e-300);
    v.add(f64);
    BigIntVector fi64 = new BigIntVector("f_i64", allocator);
    fi64.allocateNew();
    fi64.set(0, (1L << 53) + 1);
    fi64.setNull(1);
    fi64.set(2, -3);
    v.add(fi64);
    DecimalVector decF = new DecimalVector("dec_f", allocator, 10, 2);
    decF.allocateNew();
    decF.set(0, new BigDecimal("-0.05"));
    decF.setNull(1);
    decF.set(2, new BigDecimal("12345678.90"));
    v.add(decF);
    BitVector b = new BitVector("b", allocator);
    b.allocateNew();
    b.set(0, 1);
    b.setNull(1);
    b.set(2, 0);
    v.add(b);
    DecimalVector decS = new DecimalVector("dec_s", allocator, 12, 3);
    decS.allocateNew();
    decS.set(0, new BigDecimal("-0.005"));
    decS.setNull(1);
    decS.set(2, new BigDecimal("123456789.120"));
    v.add(decS);
    DateDayVector d32 = new DateDayVector("d32", allocator);
    d32.allocateNew();
    d32.set(0, (int) DAYS);
    d32.setNull(1);
    d32.set(2, -1);
    v.add(d32);
    TimeStampMicroVector tsUs = new TimeStampMicroVector("ts_us", allocator);
    tsUs.allocateNew();
    tsUs.set(0, US);
    tsUs.setNull(1);
    tsUs.set(2, -1);
    v.add(tsUs);
    TimeStampMicroTZVector tsTz = new TimeStampMicroTZVector("ts_tz", allocator, "UTC");
    tsTz.allocateNew();
    tsTz.set(0, US);
    tsTz.setNull(1);
    tsTz.set(2, 0);
    v.add(tsTz);
    TimeStampMilliTZVector tsMs = new TimeStampMilliTZVector("ts_ms", allocator, "+02:00");
    tsMs.allocateNew();
    tsMs.set(0, US / 1000);
    tsMs.setNull(1);
    tsMs.set(2, -1);
    v.add(tsMs);
    TimeStampNanoVector tsNs = new TimeStampNanoVector("ts_ns", allocator);
    tsNs.allocateNew();
    tsNs.set(0, US * 1000 + 789);
    tsNs.setNull(1);
    tsNs.set(2, -1);  // floors to -1 microsecond
    v.add(tsNs);
    BigIntVector tsI = new BigIntVector("ts_i", allocator);
    tsI.allocateNew();
    tsI.set(0, 42);
    tsI.setNull(1);
    tsI.set(2, US);
    v.add(tsI);
    VarCharVector tsS = new VarCharVector("ts_s", allocator);
    tsS.allocateNew();
    tsS.setSafe(0, utf8("2024-05-01T12:00:00.123456+02:00"));
    tsS.setNull(1);
    tsS.setSafe(2, utf8("1970-01-01"));
    v.add(tsS);
    VarBinaryVector bin = new VarBinaryVector("bin", allocator);
    bin.allocateNew();
    bin.setSafe(0, new byte[] {0, 1, 2, (byte) 255});
    bin.setNull(1);
    bin.setSafe(2, new byte[] {});
    v.add(bin);
    LargeVarBinaryVector lbin = new LargeVarBinaryVector("lbin", allocator);
    lbin.allocateNew();
    lbin.setSafe(0, new byte[] {9});
    lbin.setNull(1);
    lbin.setSafe(2, new byte[] {8, 7});
    v.add(lbin);
    FixedSizeBinaryVector fbin = new FixedSizeBinaryVector("fbin", allocator, 3);
    fbin.allocateNew();
    fbin.set(0, new byte[] {1, 2, 3});
    fbin.setNull(1);
    fbin.set(2, new byte[] {4, 5, 6});
    v.add(fbin);
    VarCharVector ipS = new VarCharVector("ip_s", allocator);
    ipS.allocateNew();
    ipS.setSafe(0, utf8("2001:DB8::1"));
    ipS.setNull(1);
    ipS.setSafe(2, utf8("192.168.0.1"));
    v.add(ipS);
    FixedSizeBinaryVector ipB = new FixedSizeBinaryVector("ip_b", allocator, 4);
    ipB.allocateNew();
    ipB.set(0, new byte[] {10, 0, 0, 1});
    ipB.setNull(1);
    ipB.set(2, new byte[] {(byte) 255, (byte) 255, (byte) 255, (byte) 255});
    v.add(ipB);

    ListVector tags = ListVector.empty("tags", allocator);
    tags.addOrGetVector(org.apache.arrow.vector.types.pojo.FieldType.nullable(new ArrowType.Utf8()));
    tags.allocateNew();
    VarCharVector tagValues = (VarCharVector) tags.getDataVector();
    int at = tags.startNewValue(0);
    tagValues.setSafe(at, utf8("a"));
    tagValues.setSafe(at + 1, utf8("b"));
    tags.endValue(0, 2);
    tags.setNull(1);
    tags.startNewValue(2);
    tags.endValue(2, 0);  // empty list: no values
    tagValues.setValueCount(2);
    v.add(tags);

    ListVector nums = ListVector.empty("nums", allocator);
    nums.addOrGetVector(org.apache.arrow.vector.types.pojo.FieldType.nullable(new ArrowType.Int(64, true)));
    nums.allocateNew();
    BigIntVector numValues = (BigIntVector) nums.getDataVector();
    at = nums.startNewValue(0);
    numValues.setSafe(at, 1);
    numValues.setSafe(at + 1, 2);
    nums.endValue(0, 2);
    nums.setNull(1);
    at = nums.startNewValue(2);
    numValues.setSafe(at, 5);
    numValues.setNull(at + 1);  // a null element is skipped
    numValues.setSafe(at + 2, 6);
    nums.endValue(2, 3);
    numValues.setValueCount(5);
    v.add(nums);

    LargeListVector ltags = LargeListVector.empty("ltags", allocator);
    ltags.addOrGetVector(org.apache.arrow.vector.types.pojo.FieldType.nullable(new ArrowType.Utf8()));
    ltags.allocateNew();
    VarCharVector ltagValues = (VarCharVector) ltags.getDataVector();
    long lat = ltags.startNewValue(0);
    ltagValues.setSafe((int) lat, utf8("big"));
    ltags.endValue(0, 1);
    ltags.setNull(1);
    lat = ltags.startNewValue(2);
    ltagValues.setSafe((int) lat, utf8("c"));
    ltagValues.setSafe((int) lat + 1, utf8("d"));
    ltags.endValue(2, 2);
    ltagValues.setValueCount(3);
    v.add(ltags);

    Float8Vector ignored = new Float8Vector("not_in_schema", allocator);
    ignored.allocateNew();
    ignored.setValueCount(3);
    v.add(ignored);

    for (FieldVector f : v) {
      f.setValueCount(3);
    }
    VectorSchemaRoot root = new VectorSchemaRoot(v);
    root.setRowCount(3);
    return root;
  }

  static List<Integer> bytes(int... b) {
    List<Integer> out = new ArrayList<>();
    for (int x : b) {
      out.add(x);
    }
    return out;
  }

  /** Per field: the values read back for rows 0, 1 and 2. */
  static final Object[][] EXPECTED = {
    {"s_utf8", "h\u00e9llo \ud83d\ude00", null, ""},
    {"s_large", "large", null, "L2"},
    {"t_text", "quick brown fox", null, "second row"},
    {"i_8", -128L, null, 127L},
    {"i_16", -32768L, null, 32767L},
    {"i_32", (long) Integer.MIN_VALUE, null, (long) Integer.MAX_VALUE},
    {"i_64", Long.MIN_VALUE, null, Long.MAX_VALUE},
    {"i_u32", 4294967295L, null, 0L},
    {"dec_i", -123456789012345678L, null, 7L},
    {"d32_i", DAYS, null, -1L},
    {"u_64", new BigInteger("18446744073709551615"), null, BigInteger.ZERO},
    {"u_i32", BigInteger.valueOf(7), null, BigInteger.ZERO},
    {"f_32", (double) 1.1f, null, (double) Float.MAX_VALUE},
    {"f_64", Math.PI, null, -2.5e-300},
    {"f_i64", (double) ((1L << 53) + 1), null, -3.0},
    {"dec_f", -0.05, null, 12345678.90},
    {"b", true, null, false},
    {"dec_s", "-0.005", null, "123456789.120"},
    {"d32", DAYS * 86_400_000_000L, null, -86_400_000_000L},
    {"ts_us", US, null, -1L},
    {"ts_tz", US, null, 0L},
    {"ts_ms", US / 1000 * 1000, null, -1000L},
    {"ts_ns", US, null, -1L},
    {"ts_i", 42L, null, US},
    {"ts_s", US, null, 0L},
    {"bin", bytes(0, 1, 2, 255), null, bytes()},
    {"lbin", bytes(9), null, bytes(8, 7)},
    {"fbin", bytes(1, 2, 3), null, bytes(4, 5, 6)},
    {"ip_s", "2001:db8::1", null, "192.168.0.1"},
    {"ip_b", "10.0.0.1", null, "255.255.255.255"},
    {"tags", List.of("a", "b"), null, null},
    {"nums", List.of(1L, 2L), null, List.of(5L, 6L)},
    {"ltags", List.of("big"), null, List.of("c", "d")},
  };

  String writeSplit(Function<IndexWriter, Long> add, int expectedDocs) {
    String split = tmp.resolve("arrow-" + System.nanoTime() + ".split").toString();
    try (IndexWriter w = IndexWriter.create(tmp.resolve("idx-" + System.nanoTime()).toString(),
        Schema.fromJson(schemaJson()))) {
      assertEquals(expectedDocs, add.apply(w));
      w.commit();
      w.writeSplit(split);
    }
    return split;
  }

  @Test
  void everyTypeRoundTripsExactly() {
    String split;
    try (VectorSchemaRoot root = batch()) {
      split = writeSplit(w -> w.addBatch(root, allocator), 3);
    }
    String[] columns = new String[EXPECTED.length];
    for (int i = 0; i < EXPECTED.length; i++) {
      columns[i] = (String) EXPECTED[i][0];
    }
    try (Split s = Split.open(split); Searcher searcher = s.newSearcher();
        ArrowSearchResult res = searcher.searchToArrow("*", Searcher.ALL_MATCHES, columns,
            new ArrowSearchOptions().listColumns("tags", "nums", "ltags").allocator(allocator))) {
      assertEquals(3, s.numDocs());
      List<List<Object>> rows = new ArrayList<>();
      while (res.loadNextBatch()) {
        for (int i = 0; i < res.getRoot().getRowCount(); i++) {
          rows.add(JsonIndexSearchTest.row(res.getRoot(), i));
        }
      }
      assertEquals(3, rows.size());
      for (int c = 0; c < EXPECTED.length; c++) {
        for (int r = 0; r < 3; r++) {
          assertEquals(EXPECTED[c][r + 1], rows.get(r).get(c), "column " + EXPECTED[c][0] + " row " + r);
        }
      }
      // the values are indexed, not only stored
      assertEquals(1, searcher.count("t_text:fox"));
      assertEquals(1, searcher.count("u_64:18446744073709551615"));
      assertEquals(1, searcher.count("ts_ns:\"2024-05-01T10:00:00.123456Z\""));
      assertEquals(1, searcher.count("ip_b:10.0.0.0/8"));
      assertEquals(2, searcher.count("nums:[2 TO 5]"));
      assertEquals(1, searcher.count("dec_s:\"-0.005\""));
      assertEquals(2, searcher.count("s_utf8:*"));
    }
  }

  @Test
  void rawAddressesAndJsonGiveTheSameIndex() {
    // The same rows through the C Data Interface addresses directly.
    String split;
    try (VectorSchemaRoot root = batch()) {
      split = writeSplit(w -> {
        try (ArrowArray array = ArrowArray.allocateNew(allocator);
            ArrowSchema schema = ArrowSchema.allocateNew(allocator)) {
          Data.exportVectorSchemaRoot(allocator, root, null, array, schema);
          return w.addArrowBatch(array.memoryAddress(), schema.memoryAddress());
        }
      }, 3);
    }
    try (Split s = Split.open(split); Searcher searcher = s.newSearcher()) {
      assertEquals(3, s.numDocs());
      assertTrue(searcher.documentJson(0).contains("\"i_64\":-9223372036854775808"), searcher.documentJson(0));
    }
  }

  @Test
  void typeMismatchIsADocumentErrorNamingTheColumn() {
    try (IndexWriter w = IndexWriter.create(tmp.resolve("idx").toString(), Schema.fromJson(schemaJson()))) {
      try (Float8Vector wrong = new Float8Vector("s_utf8", allocator)) {
        wrong.allocateNew();
        wrong.set(0, 1.0);
        wrong.setValueCount(1);
        try (VectorSchemaRoot root = VectorSchemaRoot.of(wrong)) {
          NeedleException e = assertThrows(NeedleException.class, () -> w.addBatch(root, allocator));
          assertEquals(ErrorCode.DOCUMENT, e.code());
          assertTrue(e.getMessage().contains("'s_utf8'") && e.getMessage().contains("float64"), e.getMessage());
        }
      }
      // a list of lists, and a value out of range (with its row)
      try (BigIntVector neg = new BigIntVector("u_64", allocator)) {
        neg.allocateNew();
        neg.set(0, 5);
        neg.set(1, -1);
        neg.setValueCount(2);
        try (VectorSchemaRoot root = VectorSchemaRoot.of(neg)) {
          NeedleException e = assertThrows(NeedleException.class, () -> w.addBatch(root, allocator));
          assertEquals(ErrorCode.DOCUMENT, e.code());
          assertTrue(e.getMessage().contains("'u_64'") && e.getMessage().contains("row 1"), e.getMessage());
        }
      }
      try (VarCharVector ip = new VarCharVector("ip_s", allocator)) {
        ip.allocateNew();
        ip.setSafe(0, utf8("not-an-ip"));
        ip.setValueCount(1);
        try (VectorSchemaRoot root = VectorSchemaRoot.of(ip)) {
          NeedleException e = assertThrows(NeedleException.class, () -> w.addBatch(root, allocator));
          assertEquals(ErrorCode.DOCUMENT, e.code());
          assertTrue(e.getMessage().contains("ip_s"), e.getMessage());
        }
      }
      try (DecimalVector dec = new DecimalVector("i_64", allocator, 10, 2)) {  // scale 2 into i64
        dec.allocateNew();
        dec.setValueCount(0);
        try (VectorSchemaRoot root = VectorSchemaRoot.of(dec)) {
          assertEquals(ErrorCode.DOCUMENT, assertThrows(NeedleException.class, () -> w.addBatch(root, allocator)).code());
        }
      }
      // a batch with an error adds nothing, even its good rows
      w.commit();
      assertEquals(0, w.numDocs());
    }
  }

  @Test
  void unknownColumnsAreIgnoredOrRejected() {
    try (IndexWriter lenient = IndexWriter.create(tmp.resolve("a").toString(), Schema.fromJson(schemaJson()));
        IndexWriter strict = IndexWriter.create(tmp.resolve("b").toString(), Schema.fromJson(schemaJson()),
            IndexWriterOptions.defaults().rejectUnknownColumns(true));
        Float8Vector unknown = new Float8Vector("nope", allocator)) {
      unknown.allocateNew();
      unknown.set(0, 1.0);
      unknown.setValueCount(1);
      try (VectorSchemaRoot root = VectorSchemaRoot.of(unknown)) {
        assertEquals(1, lenient.addBatch(root, allocator));
        NeedleException e = assertThrows(NeedleException.class, () -> strict.addBatch(root, allocator));
        assertEquals(ErrorCode.DOCUMENT, e.code());
        assertTrue(e.getMessage().contains("'nope'"), e.getMessage());
      }
    }
  }

  @Test
  void exportedBatchIsReleasedEvenWhenTheWriterIsClosed() {
    IndexWriter w = IndexWriter.create(tmp.resolve("idx").toString(), Schema.fromJson(schemaJson()));
    w.close();
    try (VectorSchemaRoot root = batch()) {
      assertThrows(IllegalStateException.class, () -> w.addBatch(root, allocator));
    }
    // tearDown's allocator.close() fails if the exported buffers were not released
  }

  @Test
  void readingAMultiValuedFieldAsScalarOrAnUnknownColumnFails() {
    String split;
    try (VectorSchemaRoot root = batch()) {
      split = writeSplit(w -> w.addBatch(root, allocator), 3);
    }
    try (Split s = Split.open(split); Searcher searcher = s.newSearcher()) {
      NeedleException e = assertThrows(NeedleException.class, () -> {
        try (ArrowSearchResult r = searcher.searchToArrow("*", -1, new String[] {"tags"},
            new ArrowSearchOptions().allocator(allocator))) {
          while (r.loadNextBatch()) {
            // drain
          }
        }
      });
      assertEquals(ErrorCode.INVALID_ARGUMENT, e.code());
      assertTrue(e.getMessage().contains("'tags'") && e.getMessage().contains("list"), e.getMessage());
      for (String col : Arrays.asList("nope", "_nope")) {
        NeedleException u = assertThrows(NeedleException.class,
            () -> searcher.searchToArrow("*", 10, new String[] {col}, new ArrowSearchOptions().allocator(allocator)));
        assertEquals(ErrorCode.INVALID_ARGUMENT, u.code());
        assertTrue(u.getMessage().contains("'" + col + "'"), u.getMessage());
      }
    }
  }
}
