package io.needle.spark.schema

import java.io.StringWriter
import java.time.{LocalDate, LocalDateTime, ZoneOffset}
import java.util.Base64

import scala.collection.mutable.ArrayBuffer

import com.fasterxml.jackson.core.{JsonFactory, JsonGenerator, JsonParser, JsonToken}

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow
import org.apache.spark.sql.catalyst.util.{ArrayBasedMapData, ArrayData, GenericArrayData, MapData}
import org.apache.spark.sql.types._
import org.apache.spark.unsafe.types.UTF8String

/** The JSON form of struct, array and map values (Spark's internal representation), exact in
  * both directions:
  *
  *  - struct: an object of its fields, in order; array: an array;
  *  - map: an object when the key type is string, else an array of `[key, value]` pairs;
  *  - integers and decimals: JSON numbers (decimals exactly, never in exponent form; a whole
  *    decimal beyond 64 bits with a `.0`, since JSON parsers refuse such integer literals);
  *  - float and double: JSON numbers, the shortest text that reads back to the same value;
  *    `"NaN"`, `"Infinity"` and `"-Infinity"` as strings;
  *  - binary: base64 text; date: `yyyy-MM-dd`; timestamp: RFC 3339 UTC (`...Z`) with the
  *    microseconds; timestamp_ntz: `yyyy-MM-ddTHH:mm:ss.ffffff` without a zone;
  *  - null: `null`.
  *
  * The engine keeps this text as written (so decimals of any precision come back exactly) and
  * indexes its leaves by path (`payload.user.name:alice`): numbers as numbers (a decimal beyond
  * the range of a double's exact integers is indexed as the nearest double), strings analyzed by
  * the column's tokenizer. */
object JsonValues {
  private val factory = new JsonFactory()

  def write(value: Any, dataType: DataType): String = {
    val out = new StringWriter(64)
    val g = factory.createGenerator(out)
    g.enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN)
    writeValue(g, value, dataType)
    g.close()
    out.toString
  }

  private def writeValue(g: JsonGenerator, v: Any, dt: DataType): Unit =
    if (v == null) g.writeNull()
    else dt match {
      case BooleanType => g.writeBoolean(v.asInstanceOf[Boolean])
      case ByteType => g.writeNumber(v.asInstanceOf[Byte].toInt)
      case ShortType => g.writeNumber(v.asInstanceOf[Short])
      case IntegerType => g.writeNumber(v.asInstanceOf[Int])
      case LongType => g.writeNumber(v.asInstanceOf[Long])
      case FloatType =>
        val f = v.asInstanceOf[Float]
        if (f.isNaN || f.isInfinite) g.writeString(java.lang.Float.toString(f)) else g.writeNumber(f)
      case DoubleType =>
        val d = v.asInstanceOf[Double]
        if (d.isNaN || d.isInfinite) g.writeString(java.lang.Double.toString(d)) else g.writeNumber(d)
      case _: DecimalType =>
        val d = v.asInstanceOf[Decimal].toJavaBigDecimal
        // JSON parsers (the engine's too) refuse integer literals beyond 64 bits: such a value is
        // written with a fraction (`...999.0`), which reads back as the same decimal.
        if (d.scale <= 0 && d.toBigInteger.bitLength > 63) g.writeNumber(d.toPlainString + ".0")
        else g.writeNumber(d)
      case _: StringType => g.writeString(v.asInstanceOf[UTF8String].toString)
      case BinaryType => g.writeString(Base64.getEncoder.encodeToString(v.asInstanceOf[Array[Byte]]))
      case DateType => g.writeString(LocalDate.ofEpochDay(v.asInstanceOf[Int].toLong).toString)
      case TimestampType => g.writeString(formatInstant(v.asInstanceOf[Long]))
      case TimestampNTZType => g.writeString(formatLocal(v.asInstanceOf[Long]))
      case st: StructType =>
        val row = v.asInstanceOf[InternalRow]
        g.writeStartObject()
        var i = 0
        while (i < st.length) {
          val f = st.fields(i)
          g.writeFieldName(f.name)
          writeValue(g, if (row.isNullAt(i)) null else row.get(i, f.dataType), f.dataType)
          i += 1
        }
        g.writeEndObject()
      case ArrayType(et, _) =>
        val a = v.asInstanceOf[ArrayData]
        g.writeStartArray()
        var i = 0
        while (i < a.numElements()) {
          writeValue(g, if (a.isNullAt(i)) null else a.get(i, et), et)
          i += 1
        }
        g.writeEndArray()
      case MapType(kt, vt, _) =>
        val m = v.asInstanceOf[MapData]
        val keys = m.keyArray()
        val values = m.valueArray()
        if (kt.isInstanceOf[StringType]) {
          g.writeStartObject()
          var i = 0
          while (i < m.numElements()) {
            g.writeFieldName(keys.getUTF8String(i).toString)
            writeValue(g, if (values.isNullAt(i)) null else values.get(i, vt), vt)
            i += 1
          }
          g.writeEndObject()
        } else {
          g.writeStartArray()
          var i = 0
          while (i < m.numElements()) {
            g.writeStartArray()
            writeValue(g, keys.get(i, kt), kt)
            writeValue(g, if (values.isNullAt(i)) null else values.get(i, vt), vt)
            g.writeEndArray()
            i += 1
          }
          g.writeEndArray()
        }
      case other => throw new IllegalArgumentException(s"no JSON form for ${other.sql}")
    }

  /** RFC 3339 in UTC with exactly six fractional digits: `2024-05-01T10:00:00.000000Z`. */
  def formatInstant(micros: Long): String = formatLocal(micros) + "Z"

  /** `2024-05-01T10:00:00.000000`: the wall-clock time of `micros` after the epoch in UTC. */
  def formatLocal(micros: Long): String = {
    val secs = Math.floorDiv(micros, 1000000L)
    val frac = Math.floorMod(micros, 1000000L)
    val t = LocalDateTime.ofEpochSecond(secs, 0, ZoneOffset.UTC)
    f"${t.toLocalDate}T${t.getHour}%02d:${t.getMinute}%02d:${t.getSecond}%02d.$frac%06d"
  }

  def parseInstant(s: String): Long = {
    val i = java.time.OffsetDateTime.parse(s).toInstant
    Math.addExact(Math.multiplyExact(i.getEpochSecond, 1000000L), (i.getNano / 1000).toLong)
  }

  def parseLocal(s: String): Long = {
    val t = LocalDateTime.parse(s)
    Math.addExact(Math.multiplyExact(t.toEpochSecond(ZoneOffset.UTC), 1000000L), (t.getNano / 1000).toLong)
  }

  def read(text: String, dataType: DataType): Any = {
    val p = factory.createParser(text)
    try {
      p.nextToken()
      readValue(p, dataType)
    } finally p.close()
  }

  private def fail(p: JsonParser, dt: DataType): Nothing =
    throw new IllegalArgumentException(
      s"JSON value ${p.currentToken()} '${p.getText}' does not fit type ${dt.simpleString}")

  private def readValue(p: JsonParser, dt: DataType): Any =
    if (p.currentToken() == JsonToken.VALUE_NULL) null
    else dt match {
      case BooleanType => p.getBooleanValue
      case ByteType => p.getByteValue
      case ShortType => p.getShortValue
      case IntegerType => p.getIntValue
      case LongType => p.getLongValue
      case FloatType => java.lang.Float.parseFloat(p.getText)
      case DoubleType => java.lang.Double.parseDouble(p.getText)
      case d: DecimalType =>
        val dec = Decimal(new java.math.BigDecimal(p.getText), d.precision, d.scale)
        dec
      case _: StringType => UTF8String.fromString(p.getText)
      case BinaryType => Base64.getDecoder.decode(p.getText)
      case DateType => LocalDate.parse(p.getText).toEpochDay.toInt
      case TimestampType => parseInstant(p.getText)
      case TimestampNTZType => parseLocal(p.getText)
      case st: StructType =>
        if (p.currentToken() != JsonToken.START_OBJECT) fail(p, dt)
        val values = new Array[Any](st.length)
        val assigned = new Array[Boolean](st.length)
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          val name = p.currentName()
          p.nextToken()
          // the first field of that name not yet read (struct field names may repeat)
          var i = 0
          while (i < st.length && (assigned(i) || st.fields(i).name != name)) i += 1
          if (i < st.length) {
            values(i) = readValue(p, st.fields(i).dataType)
            assigned(i) = true
          } else p.skipChildren()
        }
        new GenericInternalRow(values)
      case ArrayType(et, _) =>
        if (p.currentToken() != JsonToken.START_ARRAY) fail(p, dt)
        val out = ArrayBuffer.empty[Any]
        while (p.nextToken() != JsonToken.END_ARRAY) out += readValue(p, et)
        new GenericArrayData(out.toArray)
      case MapType(kt, vt, _) =>
        val keys = ArrayBuffer.empty[Any]
        val values = ArrayBuffer.empty[Any]
        if (kt.isInstanceOf[StringType]) {
          if (p.currentToken() != JsonToken.START_OBJECT) fail(p, dt)
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            keys += UTF8String.fromString(p.currentName())
            p.nextToken()
            values += readValue(p, vt)
          }
        } else {
          if (p.currentToken() != JsonToken.START_ARRAY) fail(p, dt)
          while (p.nextToken() == JsonToken.START_ARRAY) {
            p.nextToken()
            keys += readValue(p, kt)
            p.nextToken()
            values += readValue(p, vt)
            if (p.nextToken() != JsonToken.END_ARRAY) fail(p, dt)
          }
        }
        ArrayBasedMapData(keys.toArray, values.toArray)
      case other => throw new IllegalArgumentException(s"no JSON form for ${other.sql}")
    }
}
