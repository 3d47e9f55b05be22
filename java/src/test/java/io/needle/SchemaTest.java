package io.needle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SchemaTest {
  @Test
  void parsesAndDescribesFields() {
    Schema s = Schema.fromJson(SplitFixtures.ALL_TYPES_SCHEMA);
    assertEquals(12, s.fields().size());
    Schema.Field body = s.field("body");
    assertEquals(0, body.id());
    assertEquals(FieldType.TEXT, body.type());
    assertTrue(body.stored());
    assertTrue(body.indexed());
    assertEquals("default", body.tokenizer());
    assertEquals("position", body.record());
    assertTrue(body.fieldnorms());
    assertEquals(FieldType.U64, s.field("u").type());
    assertEquals(FieldType.IP, s.field("addr").type());
    assertFalse(s.field("secret").stored());
    assertNull(s.field("nope"));
    // canonical JSON round-trips
    assertEquals(s, Schema.fromJson(s.toJson()));
  }

  @Test
  void badSchemaThrowsSchemaError() {
    NeedleException e = assertThrows(NeedleException.class,
        () -> Schema.fromJson("{\"fields\":[{\"name\":\"a\",\"type\":\"nope\"}]}"));
    assertEquals(ErrorCode.SCHEMA, e.code());
    assertTrue(e.getMessage().contains("a"), e.getMessage());
    assertEquals(ErrorCode.SCHEMA,
        assertThrows(NeedleException.class, () -> Schema.fromJson("not json")).code());
    assertEquals(ErrorCode.SCHEMA, assertThrows(NeedleException.class,
        () -> Schema.fromJson("{\"fields\":[{\"name\":\"a\",\"type\":\"text\",\"bogus\":1}]}")).code());
    assertThrows(NullPointerException.class, () -> Schema.fromJson(null));
  }
}
