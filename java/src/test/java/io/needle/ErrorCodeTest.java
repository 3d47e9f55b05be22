package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ErrorCodeTest {
  @Test
  void javaEnumMirrorsTheEngineCodes() {
    NativeLoader.load();
    for (ErrorCode c : ErrorCode.values()) {
      assertEquals(c.name(), NativeLibrary.errorCodeName(c.value()), "code " + c.value());
      assertEquals(c, ErrorCode.fromValue(c.value()));
    }
    // The next number is not a code yet: if the engine appends one, this test names it.
    assertEquals("UNKNOWN", NativeLibrary.errorCodeName(ErrorCode.values().length));
    assertEquals(ErrorCode.INTERNAL, ErrorCode.fromValue(999));
  }

  @Test
  void exceptionCarriesCodeAndMessage() {
    NeedleException e = new NeedleException(4, "query 'x': position 1: bad", null);
    assertEquals(ErrorCode.QUERY_PARSE, e.code());
    assertEquals(4, e.rawCode());
    assertEquals("QUERY_PARSE: query 'x': position 1: bad", e.getMessage());
    assertEquals("query 'x': position 1: bad", e.detail());
  }
}
