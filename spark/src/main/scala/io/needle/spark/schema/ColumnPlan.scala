package io.needle.spark.schema

import java.util.Locale

import com.fasterxml.jackson.databind.node.JsonNodeFactory

import org.apache.spark.sql.types._

import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.FieldOptions

/** How the values of one Spark column are kept in a split: the needle field type, and how they
  * are converted on the way in and out. Every atomic Spark type round-trips exactly:
  *
  * | Spark type | needle field | in the split |
  * |---|---|---|
  * | boolean | bool | the value |
  * | byte, short, int, long | i64 | the value |
  * | float, double | f64 | the value (a float widened exactly) |
  * | decimal(p ≤ 18, s) | i64 | the unscaled value (so ranges are exact) |
  * | decimal(p > 18, s) | string | the exact text with s decimals (`-12.50`) |
  * | string | text, string or json | the value (json: the JSON text as written) |
  * | binary | bytes | the value |
  * | date | timestamp | midnight UTC of the day |
  * | timestamp, timestamp_ntz | timestamp | the microseconds (an NTZ value as if it were UTC) |
  * | struct, array, map | json | JSON text ([[JsonValues]]); its leaves indexed by path |
  *
  * A json field indexes every leaf of the value under its path inside the column
  * (`payload.user.name:alice` for a struct column `payload`); the leaves of an array column, and
  * of a map with non-string keys (an array of `[key, value]` pairs), are at the column's root
  * (`tags:alice`). */
sealed abstract class ColumnKind(val needleType: String) extends Serializable

object ColumnKind {
  case object Bool extends ColumnKind("bool")
  /** byte, short, int or long. */
  final case class Integral(dataType: DataType) extends ColumnKind("i64")
  case object Float32 extends ColumnKind("f64")
  case object Float64 extends ColumnKind("f64")
  final case class DecimalLong(precision: Int, scale: Int) extends ColumnKind("i64")
  final case class DecimalText(precision: Int, scale: Int) extends ColumnKind("string")
  /** `mode`: text, string or json. `binaryOrder`: the column's collation compares bytes (the
    * default UTF8_BINARY), so exact terms and term ranges mean what Spark's comparisons mean. */
  final case class Str(mode: String, binaryOrder: Boolean) extends ColumnKind(mode)
  case object Binary extends ColumnKind("bytes")
  case object Date extends ColumnKind("timestamp")
  case object Timestamp extends ColumnKind("timestamp")
  case object TimestampNtz extends ColumnKind("timestamp")
  final case class Complex(dataType: DataType) extends ColumnKind("json")

  /** The largest decimal precision kept as an unscaled i64. */
  val MaxLongDecimalPrecision = 18
}

/** One data column (not a partition column) of a table and how it is stored. */
final case class ColumnPlan(
    name: String,
    dataType: DataType,
    kind: ColumnKind,
    indexed: Boolean,
    stored: Boolean,
    fast: Boolean,
    tokenizer: Option[String],
    record: Option[String]) {
  import ColumnKind._

  /** The Spark type handed to Spark's ArrowWriter (and so the Arrow type given to the engine). */
  def storageType: DataType = kind match {
    case DecimalLong(_, _) => LongType
    case Complex(_) => StringType
    case Str(_, _) => StringType // collations do not matter to storage
    case _ => dataType
  }

  /** Whether a row's value must be converted before Spark's ArrowWriter sees it. */
  def convertsOnWrite: Boolean = kind match {
    case DecimalLong(_, _) | Complex(_) => true
    case _ => false
  }

  /** The field's entry in the needle schema JSON. */
  def needleField: com.fasterxml.jackson.databind.node.ObjectNode = {
    val n = JsonNodeFactory.instance.objectNode()
    n.put("name", name)
    n.put("type", kind.needleType)
    n.put("indexed", indexed)
    n.put("stored", stored)
    n.put("fast", fast)
    tokenizer.foreach(t => n.put("tokenizer", t))
    record.foreach(r => n.put("record", r))
    n
  }
}

/** The Spark and needle sides of a table: its schema, partition columns, per-column options and
  * the plan of every data column. Built from the log's metadata or from a new table's schema. */
final case class TablePlan(
    schema: StructType,
    partitionColumns: Seq[String],
    fieldOptions: Map[String, FieldOptions],
    columns: Seq[ColumnPlan]) {

  lazy val partitionFields: Seq[StructField] =
    partitionColumns.map(p => schema.fields.find(_.name == p).get)

  def column(name: String): Option[ColumnPlan] = columns.find(_.name == name)

  /** The schema of the data columns (what splits hold), in table order. */
  lazy val dataSchema: StructType = StructType(schema.fields.filterNot(f => partitionColumns.contains(f.name)))

  /** What Spark's ArrowWriter fills: the data columns with their storage types. */
  lazy val storageSchema: StructType =
    StructType(columns.map(c => StructField(c.name, c.storageType, nullable = true)))

  /** The needle schema JSON (not yet canonical: [[io.needle.Schema]] makes it so). */
  def needleSchemaJson: String = {
    val root = JsonNodeFactory.instance.objectNode()
    val fields = root.putArray("fields")
    columns.foreach(c => fields.add(c.needleField))
    Json.mapper.writeValueAsString(root)
  }
}

object TablePlan {
  val ScoreColumn = "_score"
  private val ReservedNames = Set("_doc", "_score", "_indexall")
  private val ForbiddenChars = ":\\\"()^~*"

  /** Plans a table. `fieldOptions` are the explicitly set options (absent means default).
    * Fails with `NEEDLE_UNSUPPORTED_COLUMN` or `NEEDLE_FIELD_OPTION_INVALID`. */
  def apply(
      schema: StructType,
      partitionColumns: Seq[String],
      fieldOptions: Map[String, FieldOptions]): TablePlan = {
    partitionColumns.foreach { p =>
      val f = schema.fields.find(_.name == p).getOrElse(
        throw NeedleErrors.error(
          ErrorId.UnsupportedColumn,
          "column" -> p,
          "type" -> "(absent)",
          "reason" -> s"it is named as a partition column but the table has no such column (columns: ${schema.fieldNames.mkString(", ")})"))
      checkPartitionType(f)
      fieldOptions.get(p).filterNot(_.isEmpty).foreach { _ =>
        throw NeedleErrors.error(
          ErrorId.FieldOptionInvalid,
          "column" -> p,
          "option" -> "needle.field.*",
          "reason" -> "it is a partition column: its values live in the transaction log, not in splits, so they are not indexed")
      }
    }
    val columns = schema.fields.toSeq.filterNot(f => partitionColumns.contains(f.name)).map { f =>
      plan(f, fieldOptions.getOrElse(f.name, FieldOptions.Empty))
    }
    TablePlan(schema, partitionColumns, fieldOptions, columns)
  }

  private def checkName(name: String): Unit = {
    val problem =
      if (name.isEmpty || name.getBytes("UTF-8").length > 255) Some("it must be 1 to 255 bytes long")
      else if (ReservedNames.contains(name)) Some(s"$name is reserved by the engine")
      else if (name.exists(c => c.isWhitespace || c.isControl || ForbiddenChars.indexOf(c) >= 0)) {
        Some("needle field names cannot hold white space, control characters or any of : \\ \" ( ) ^ ~ *")
      } else None
    problem.foreach { reason =>
      throw NeedleErrors.error(ErrorId.UnsupportedColumn, "column" -> name, "type" -> "(any)", "reason" -> reason)
    }
  }

  private def plan(f: StructField, o: FieldOptions): ColumnPlan = {
    import ColumnKind._
    checkName(f.name)
    def invalid(option: String, reason: String) =
      NeedleErrors.error(ErrorId.FieldOptionInvalid, "column" -> f.name, "option" -> option, "reason" -> reason)
    val kind: ColumnKind = f.dataType match {
      case BooleanType => Bool
      case ByteType | ShortType | IntegerType | LongType => Integral(f.dataType)
      case FloatType => Float32
      case DoubleType => Float64
      case d: DecimalType if d.scale < 0 =>
        throw unsupported(f, "decimals with a negative scale are not supported")
      case d: DecimalType if d.precision <= MaxLongDecimalPrecision => DecimalLong(d.precision, d.scale)
      case d: DecimalType => DecimalText(d.precision, d.scale)
      case s: StringType => Str(o.fieldType.getOrElse("string"), org.apache.spark.sql.needle.SparkInternals.isBinaryString(s))
      case BinaryType => Binary
      case DateType => Date
      case TimestampType => Timestamp
      case TimestampNTZType => TimestampNtz
      case st: StructType => checkNested(f, st); Complex(st)
      case at: ArrayType => checkNested(f, at); Complex(at)
      case mt: MapType => checkNested(f, mt); Complex(mt)
      case other => throw unsupported(f, s"needle stores no values of type ${other.sql}")
    }
    o.fieldType.foreach { t =>
      kind match {
        case Str(_, _) => ()
        case Complex(_) if t == "json" => ()
        case Complex(_) => throw invalid("type", s"a ${f.dataType.simpleString} column is a json field; only type json applies")
        case _ => throw invalid("type", s"type $t applies to string columns, and this column is ${f.dataType.simpleString}")
      }
    }
    // Text and json fields analyze their (string) values with a tokenizer and may keep positions.
    val analyzed = kind match {
      case Str("text", _) | Str("json", _) | Complex(_) => true
      case _ => false
    }
    if (o.tokenizer.isDefined && !analyzed) {
      throw invalid("tokenizer", "tokenizers apply to text and json columns (needle.field.<column>.type = text or json)")
    }
    o.record.foreach { r =>
      if (r == "position" && !analyzed) throw invalid("record", "positions are kept only for text and json columns")
    }
    ColumnPlan(
      name = f.name,
      dataType = f.dataType,
      kind = kind,
      indexed = true,
      stored = o.stored.getOrElse(true),
      fast = o.fast.getOrElse(false),
      tokenizer = if (analyzed) Some(o.tokenizer.getOrElse("default")) else None,
      record = o.record)
  }

  private def unsupported(f: StructField, reason: String) =
    NeedleErrors.error(ErrorId.UnsupportedColumn, "column" -> f.name, "type" -> f.dataType.sql, "reason" -> reason)

  /** Struct, array and map columns are stored as JSON: every type inside must have a JSON form. */
  private def checkNested(f: StructField, dt: DataType): Unit = dt match {
    case BooleanType | ByteType | ShortType | IntegerType | LongType | FloatType | DoubleType |
        BinaryType | DateType | TimestampType | TimestampNTZType => ()
    case _: StringType | _: DecimalType => ()
    case st: StructType => st.fields.foreach(x => checkNested(f, x.dataType))
    case ArrayType(e, _) => checkNested(f, e)
    case MapType(k, v, _) => checkNested(f, k); checkNested(f, v)
    case other => throw unsupported(f, s"it holds values of type ${other.sql}, which have no JSON form in needle")
  }

  /** Partition values are kept as text in the log: only types with an exact text form qualify. */
  private def checkPartitionType(f: StructField): Unit = f.dataType match {
    case BooleanType | ByteType | ShortType | IntegerType | LongType | DateType | TimestampType |
        TimestampNTZType => ()
    case _: StringType | _: DecimalType => ()
    case other =>
      throw NeedleErrors.error(
        ErrorId.UnsupportedColumn,
        "column" -> f.name,
        "type" -> other.sql,
        "reason" -> ("partition columns must be string, boolean, an integer type, decimal, date, " +
          "timestamp or timestamp_ntz"))
  }

  /** Lower-cases a field-option type name as the log stores it. */
  def normalizeType(t: String): String = t.toLowerCase(Locale.ROOT)
}
