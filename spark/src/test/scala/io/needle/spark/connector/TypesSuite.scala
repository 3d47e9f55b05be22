package io.needle.spark.connector

import java.math.{BigDecimal => JBigDecimal}
import java.sql.{Date, Timestamp}
import java.time.{Instant, LocalDate, LocalDateTime}

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.Row
import org.apache.spark.sql.types._
import org.scalatest.funsuite.AnyFunSuite

class TypesSuite extends AnyFunSuite with NeedleSparkSuite {

  private val atomic = StructType(
    Seq(StructField("id", IntegerType, nullable = false), StructField("s", StringType)) ++
      atomicFields(StructField("dec", DecimalType(18, 4)), StructField("dec38", DecimalType(38, 10)),
        StructField("dec0", DecimalType(10, 0))))

  private def ts(s: String) = Timestamp.from(Instant.parse(s))

  private val atomicRows: Seq[Row] = Seq(
    Row(0, "plain", 1.toByte, 2.toShort, 3, 4L, 1.5f, 2.25, new JBigDecimal("12345678901234.5678"),
      new JBigDecimal("1234567890123456789012345678.0123456789"), new JBigDecimal("-9999999999"), true,
      Date.valueOf("2024-05-01"), ts("2024-05-01T10:00:00.123456Z"), LocalDateTime.parse("2024-05-01T10:00:00.000001"),
      Array[Byte](0, 1, 2, -1)),
    Row(1, "", Byte.MinValue, Short.MinValue, Int.MinValue, Long.MinValue, Float.MinValue, Double.MinValue,
      new JBigDecimal("-99999999999999.9999"), new JBigDecimal("-0.0000000001"), new JBigDecimal("0"), false,
      Date.valueOf("0001-01-01"), ts("0001-01-01T00:00:00Z"), LocalDateTime.parse("1900-01-01T00:00:00"),
      Array.emptyByteArray),
    Row(2, "ünïcødé 東京 \uD83D\uDE00 \"q\" \\ : * ( ) a\tb", Byte.MaxValue, Short.MaxValue, Int.MaxValue, Long.MaxValue,
      Float.MaxValue, Double.MaxValue, new JBigDecimal("0.0001"), new JBigDecimal("9999999999999999999999999999.9999999999"),
      new JBigDecimal("9999999999"), true, Date.valueOf("9999-12-31"), ts("9999-12-31T23:59:59.999999Z"),
      LocalDateTime.parse("9999-12-31T23:59:59.999999"), Array.fill[Byte](300)(7)),
    Row(3, "x", 0.toByte, 0.toShort, 0, 0L, -0.0f, -0.0, new JBigDecimal("0.0000"), new JBigDecimal("0E-10"),
      new JBigDecimal("1"), false, Date.valueOf("1969-12-31"), ts("1969-12-31T23:59:59.999999Z"),
      LocalDateTime.parse("1969-12-31T23:59:59.999999"), Array[Byte](-128)),
    Row(4, "nan", -1.toByte, -1.toShort, -1, -1L, Float.NaN, Double.NaN, new JBigDecimal("-0.0001"), new JBigDecimal("1"),
      new JBigDecimal("-1"), true, Date.valueOf("2000-02-29"), ts("2000-02-29T12:00:00Z"),
      LocalDateTime.parse("2000-02-29T12:00:00"), Array[Byte](1)),
    Row(5, "inf", 5.toByte, 5.toShort, 5, 5L, Float.PositiveInfinity, Double.NegativeInfinity, new JBigDecimal("1.1000"),
      new JBigDecimal("0.5"), new JBigDecimal("2"), false, Date.valueOf("2024-01-01"), ts("2024-01-01T00:00:00Z"),
      LocalDateTime.parse("2024-01-01T00:00:00"), Array[Byte](0)),
    Row(6, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null),
    Row(7, "tiny", 7.toByte, 7.toShort, 7, 7L, Float.MinPositiveValue, java.lang.Double.MIN_VALUE,
      new JBigDecimal("0.0001"), new JBigDecimal("0.0000000001"), new JBigDecimal("3"), true,
      Date.valueOf("1582-10-10"), ts("1582-10-10T00:00:00Z"), LocalDateTime.parse("1582-10-10T00:00:00"), Array[Byte](9)))

  test("every atomic type round-trips exactly, nulls included") {
    val path = newTablePath("atomic")
    val df = spark.createDataFrame(atomicRows.asJava, atomic)
    df.repartition(2).write.format("needle").save(path)
    val back = readNeedle(path)
    assert(back.schema.map(f => (f.name, f.dataType)) == atomic.map(f => (f.name, f.dataType)))
    assert(canonRows(back) == canonRows(df))
    // Column pruning and reordering keep every value.
    val cols = Seq("ntz", "dec38", "id", "bin", "f")
    assert(canonRows(back.select(cols.map(back(_)): _*)) == canonRows(df.select(cols.map(df(_)): _*)))
    // Count without columns.
    assert(back.count() == atomicRows.size)
  }

  private val nested = StructType(Seq(
    StructField("id", IntegerType),
    StructField("st", StructType(Seq(
      StructField("name", StringType), StructField("n", LongType), StructField("d", DoubleType),
      StructField("when", TimestampType), StructField("inner", StructType(Seq(StructField("x", DecimalType(30, 3)), StructField("y", DecimalType(38, 0)))))))),
    StructField("arr", ArrayType(IntegerType)),
    StructField("arrs", ArrayType(StringType)),
    StructField("m", MapType(StringType, DoubleType)),
    StructField("mi", MapType(IntegerType, ArrayType(DateType))),
    StructField("bins", ArrayType(BinaryType)),
    StructField("ntzs", ArrayType(TimestampNTZType))))

  test("struct, array and map columns are json fields and read back exactly") {
    val rows = Seq(
      Row(1, Row("alice", 5L, Double.NaN, ts("2024-05-01T10:00:00.000001Z"), Row(new JBigDecimal("123456789012345678901234567.891"), new JBigDecimal("-99999999999999999999999999999999999999"))),
        Seq(1, null, 3), Seq("a", "", null, "\"quoted\""), Map("k" -> 1.5, "n" -> Double.NegativeInfinity, "z" -> null),
        Map(1 -> Seq(Date.valueOf("2024-05-01"), null), -2 -> null), Seq(Array[Byte](1, 2), null),
        Seq(LocalDateTime.parse("2024-05-01T10:00:00.5"))),
      Row(2, Row(null, null, -0.0, null, null), Seq.empty[Int], null, Map.empty[String, Double], Map.empty[Int, Seq[Date]],
        Seq.empty[Array[Byte]], null),
      Row(3, null, null, null, null, null, null, null))
    val path = newTablePath("nested")
    val df = spark.createDataFrame(rows.asJava, nested)
    df.write.format("needle").save(path)
    val back = readNeedle(path)
    assert(back.schema.map(_.dataType) == nested.map(_.dataType))
    assert(canonRows(back) == canonRows(df))
    assert(canonRows(back.select("arr", "id")) == canonRows(df.select("arr", "id")))
    // Null tests on JSON columns are answered by the engine.
    assert(back.filter("st is null").select("id").collect().map(_.getInt(0)).toSeq == Seq(3))
    assert(back.filter("m is not null").count() == 2)
  }

  test("the log keeps the Spark schema, the needle schema and the per-column options") {
    val s = spark
    import s.implicits._
    val path = newTablePath("meta")
    Seq(("a b", "h1", LocalDate.of(2024, 5, 1)), ("c", "h2", LocalDate.of(2024, 5, 2))).toDF("body", "host", "day")
      .coalesce(1).write.format("needle").option("needle.field.body.type", "text").option("needle.field.body.tokenizer", "default")
      .save(path)
    val m = snapshotOf(path).metadata
    assert(m.fieldOptions("body").fieldType.contains("text"))
    assert(m.fieldOptions.get("host").forall(_.isEmpty))
    assert(m.schemaJson.contains("\"name\":\"body\",\"type\":\"text\""))
    assert(m.schemaJson.contains("\"name\":\"host\",\"type\":\"string\""))
    assert(m.schemaJson.contains("\"name\":\"day\",\"type\":\"timestamp\""))
    assert(m.sparkSchemaJson.exists(_.contains("\"date\"")))
    val add = snapshotOf(path).files.head
    assert(add.footerOffset > 0 && add.footerLength > 0 && add.footerOffset + add.footerLength < add.size)
    val stats = add.stats.get
    assert(stats.minValues("day").asText() == "2024-05-01" && stats.maxValues("day").asText() == "2024-05-02")
    assert(stats.minValues("host").asText() == "h1" && !stats.minValues.contains("body"))
    assert(stats.nullCount("body") == 0)
  }

  test("unsupported columns and options are refused before anything is written") {
    val s = spark
    import s.implicits._
    val path = newTablePath("bad")
    val e1 = intercept[Exception](Seq((1, "x")).toDF("n", "s").write.format("needle").option("needle.field.n.type", "text").save(path))
    assert(e1.getMessage.contains("NEEDLE_FIELD_OPTION_INVALID"), e1.getMessage)
    val e2 = intercept[Exception](Seq((1, "x")).toDF("n", "s").write.format("needle").option("needle.field.nope.type", "text").save(path))
    assert(e2.getMessage.contains("NEEDLE_FIELD_OPTION_UNKNOWN_COLUMN"), e2.getMessage)
    val e3 = intercept[Exception](Seq((1, "x")).toDF("my col", "s").write.format("needle").save(path))
    assert(e3.getMessage.contains("NEEDLE_UNSUPPORTED_COLUMN"), e3.getMessage)
    val e4 = intercept[Exception](spark.sql("select interval 1 day as i").write.format("needle").save(path))
    assert(e4.getMessage.contains("NEEDLE_UNSUPPORTED_COLUMN"), e4.getMessage)
    assert(!logOf(path).tableExists())
    assert(splitFilesOnDisk(path).isEmpty)
  }
}
