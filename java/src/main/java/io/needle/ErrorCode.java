package io.needle;

/**
 * The engine's error codes ({@code needle::ErrorCode}, engine/include/needle/common/error.h) with
 * the same numbers. The numbers cross the JNI boundary and are never renumbered, only appended.
 */
public enum ErrorCode {
  OK(0),
  /** A bad option or API argument. */
  INVALID_ARGUMENT(1),
  /** A bad schema. */
  SCHEMA(2),
  /** A document (JSON or Arrow row) that does not fit the schema. */
  DOCUMENT(3),
  /** A query string that does not parse; the message gives the byte position. */
  QUERY_PARSE(4),
  /** A query that parses but cannot run (unknown field, wrong type). */
  QUERY(5),
  /** A file whose bytes are not what its format says. */
  CORRUPT(6),
  VERSION_TOO_OLD(7),
  VERSION_TOO_NEW(8),
  /** The operating system or a range reader (a {@link RangeFetcher}) failed. */
  IO(9),
  NOT_FOUND(10),
  UNSUPPORTED(11),
  RESOURCE_EXHAUSTED(12),
  /** A bug: an invariant of needle itself was broken. */
  INTERNAL(13),
  CANCELLED(14);

  private static final ErrorCode[] BY_VALUE;

  static {
    int max = 0;
    for (ErrorCode c : values()) {
      max = Math.max(max, c.value);
    }
    BY_VALUE = new ErrorCode[max + 1];
    for (ErrorCode c : values()) {
      BY_VALUE[c.value] = c;
    }
  }

  private final int value;

  ErrorCode(int value) {
    this.value = value;
  }

  /** The numeric code, as in {@code needle::ErrorCode}. */
  public int value() {
    return value;
  }

  /** The code with this number; {@link #INTERNAL} for a number this version does not know. */
  public static ErrorCode fromValue(int value) {
    if (value >= 0 && value < BY_VALUE.length && BY_VALUE[value] != null) {
      return BY_VALUE[value];
    }
    return INTERNAL;
  }
}
