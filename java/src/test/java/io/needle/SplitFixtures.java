package io.needle;

import java.nio.file.Path;
import java.util.List;

/** Builds small splits for the tests. */
final class SplitFixtures {
  private SplitFixtures() {}

  /** Every field type; `tags` and `nums` are used multi-valued. */
  static final String ALL_TYPES_SCHEMA =
      "{\"fields\":["
          + "{\"name\":\"body\",\"type\":\"text\",\"stored\":true},"
          + "{\"name\":\"tag\",\"type\":\"string\",\"stored\":true},"
          + "{\"name\":\"n\",\"type\":\"i64\",\"stored\":true},"
          + "{\"name\":\"u\",\"type\":\"u64\",\"stored\":true},"
          + "{\"name\":\"x\",\"type\":\"f64\",\"stored\":true},"
          + "{\"name\":\"flag\",\"type\":\"bool\",\"stored\":true},"
          + "{\"name\":\"ts\",\"type\":\"timestamp\",\"stored\":true},"
          + "{\"name\":\"raw\",\"type\":\"bytes\",\"stored\":true},"
          + "{\"name\":\"addr\",\"type\":\"ip\",\"stored\":true},"
          + "{\"name\":\"tags\",\"type\":\"string\",\"stored\":true},"
          + "{\"name\":\"nums\",\"type\":\"i64\",\"stored\":true},"
          + "{\"name\":\"secret\",\"type\":\"string\"}"
          + "]}";

  static final List<String> ALL_TYPES_DOCS = List.of(
      "{\"body\":\"disk failure on web-1 \u00e9t\u00e9 \ud83d\ude00\",\"tag\":\"a\",\"n\":-5,"
          + "\"u\":18446744073709551615,\"x\":1.5,\"flag\":true,\"ts\":\"2024-05-01T10:00:00Z\","
          + "\"raw\":\"AAEC/w==\",\"addr\":\"10.0.0.1\",\"tags\":[\"x\",\"y\"],\"nums\":[1,2,3],\"secret\":\"s\"}",
      "{\"body\":\"powershell spawned cmd\",\"tag\":null,\"n\":9223372036854775807,\"x\":-0.25,"
          + "\"flag\":false,\"ts\":\"2024-05-01T11:30:00.123456Z\",\"addr\":\"2001:db8::1\","
          + "\"tags\":[\"z\"],\"nums\":[]}",
      "{\"body\":\"disk ok\",\"tag\":\"b\",\"n\":-9223372036854775808,\"u\":0,\"ts\":-1,\"tags\":null}");

  static Path writeSplit(Path tmp, String schemaJson, List<String> docs) {
    Path split = tmp.resolve("s-" + System.nanoTime() + ".split");
    try (IndexWriter w = IndexWriter.create(tmp.resolve("idx-" + System.nanoTime()).toString(),
        Schema.fromJson(schemaJson))) {
      for (String d : docs) {
        w.addDocumentJson(d);
      }
      w.commit();
      w.writeSplit(split.toString());
    }
    return split;
  }
}
