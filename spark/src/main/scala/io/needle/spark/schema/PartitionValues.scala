package io.needle.spark.schema

import java.time.LocalDate

import org.apache.spark.sql.types._
import org.apache.spark.unsafe.types.UTF8String

/** Partition values as the transaction log keeps them (text; docs/format/transaction-log.md,
  * "add"): integers in decimal, booleans `true`/`false`, dates `yyyy-MM-dd`, timestamps RFC 3339
  * in UTC with microseconds, timestamp_ntz the same without a zone, decimals in plain notation,
  * strings as they are. Values are Spark's internal ones (UTF8String, days, microseconds, ...). */
object PartitionValues {

  /** The folder name used for a null value (Hive's, so that tools reading folders agree). */
  val NullFolderValue = "__HIVE_DEFAULT_PARTITION__"

  def format(value: Any, dataType: DataType): Option[String] =
    if (value == null) None
    else Some(dataType match {
      case BooleanType => value.toString
      case ByteType | ShortType | IntegerType | LongType => value.toString
      case DateType => LocalDate.ofEpochDay(value.asInstanceOf[Int].toLong).toString
      case TimestampType => JsonValues.formatInstant(value.asInstanceOf[Long])
      case TimestampNTZType => JsonValues.formatLocal(value.asInstanceOf[Long])
      case _: DecimalType => value.asInstanceOf[Decimal].toJavaBigDecimal.toPlainString
      case _: StringType => value.toString
      case other => throw new IllegalArgumentException(s"not a partition type: ${other.sql}")
    })

  def parse(text: Option[String], dataType: DataType): Any = text match {
    case None => null
    case Some(s) =>
      dataType match {
        case BooleanType => s.toBoolean
        case ByteType => s.toByte
        case ShortType => s.toShort
        case IntegerType => s.toInt
        case LongType => s.toLong
        case DateType => LocalDate.parse(s).toEpochDay.toInt
        case TimestampType => JsonValues.parseInstant(s)
        case TimestampNTZType => JsonValues.parseLocal(s)
        case d: DecimalType => Decimal(new java.math.BigDecimal(s), d.precision, d.scale)
        case _: StringType => UTF8String.fromString(s)
        case other => throw new IllegalArgumentException(s"not a partition type: ${other.sql}")
      }
  }

  /** `column=value` for a folder name, escaping as Hive does (`%XX` for characters that are
    * special in paths). */
  def folderName(column: String, value: Option[String]): String =
    escape(column) + "=" + value.map(escape).getOrElse(NullFolderValue)

  private val Special: Set[Char] = "\"#%'*/:=?\\{[]^".toSet

  def escape(s: String): String = {
    val b = new StringBuilder(s.length)
    s.foreach { c =>
      if (c < ' ' || c == '\u007f' || Special.contains(c)) b.append(f"%%${c.toInt}%02X")
      else b.append(c)
    }
    if (b.isEmpty) "%" + "00" else b.toString // an empty string must not make an empty segment
  }
}
