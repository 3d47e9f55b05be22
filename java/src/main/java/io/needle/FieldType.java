package io.needle;

import java.util.Locale;

/** The type of a schema field ({@code needle::FieldType}, same numbers). */
public enum FieldType {
  /** Tokenized, BM25-scored text. */
  TEXT(1, "text"),
  /** One exact, untokenized term. */
  STRING(2, "string"),
  I64(3, "i64"),
  U64(4, "u64"),
  F64(5, "f64"),
  BOOL(6, "bool"),
  /** Microseconds since the Unix epoch, UTC. */
  TIMESTAMP(7, "timestamp"),
  BYTES(8, "bytes"),
  /** IPv4 or IPv6 address. */
  IP(9, "ip"),
  /**
   * Any JSON value; every leaf is indexed under its dotted path, a scalar at the root under the
   * empty path (docs/format/schema.md, "json fields").
   */
  JSON(10, "json");

  private final int value;
  private final String jsonName;

  FieldType(int value, String jsonName) {
    this.value = value;
    this.jsonName = jsonName;
  }

  public int value() {
    return value;
  }

  /** The name used in schema JSON ("text", "i64", ...). */
  public String jsonName() {
    return jsonName;
  }

  public static FieldType fromJsonName(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    if (n.equals("date")) {
      return TIMESTAMP;
    }
    for (FieldType t : values()) {
      if (t.jsonName.equals(n)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown field type " + name);
  }
}
