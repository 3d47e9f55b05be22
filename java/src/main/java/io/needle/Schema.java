package io.needle;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * An index schema: its fields and their options (docs/format/schema.md). An immutable value,
 * validated by the engine; no native resources are held.
 */
public final class Schema {
  /** One field of the schema. {@code id} is its position in {@link #fields()}. */
  public record Field(
      int id,
      String name,
      FieldType type,
      boolean indexed,
      boolean stored,
      boolean fast,
      String tokenizer,
      String record,
      boolean fieldnorms) {}

  private final String json;
  private final List<Field> fields;

  private Schema(String canonicalJson) {
    this.json = canonicalJson;
    String[] d = NativeSchema.describe(canonicalJson);
    int stride = NativeSchema.FIELD_STRIDE;
    List<Field> list = new ArrayList<>(d.length / stride);
    for (int i = 0; i + stride <= d.length; i += stride) {
      list.add(new Field(
          i / stride,
          d[i],
          FieldType.fromJsonName(d[i + 1]),
          d[i + 2].equals("1"),
          d[i + 3].equals("1"),
          d[i + 4].equals("1"),
          d[i + 5],
          d[i + 6],
          d[i + 7].equals("1")));
    }
    this.fields = Collections.unmodifiableList(list);
  }

  /** Parses and validates schema JSON. Throws NeedleException(SCHEMA) naming the problem. */
  public static Schema fromJson(String json) {
    Objects.requireNonNull(json, "json");
    return new Schema(NativeSchema.canonicalJson(json));
  }

  /** The canonical JSON (every option explicit), as splits store it. */
  public String toJson() {
    return json;
  }

  public List<Field> fields() {
    return fields;
  }

  /** The field with this name, or null. */
  public Field field(String name) {
    for (Field f : fields) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Schema && ((Schema) o).json.equals(json);
  }

  @Override
  public int hashCode() {
    return json.hashCode();
  }

  @Override
  public String toString() {
    return json;
  }
}
