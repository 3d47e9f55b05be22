package io.needle.spark.connector

import java.math.{BigDecimal => JBigDecimal}
import java.sql.{Date, Timestamp}
import java.time.{Instant, LocalDateTime}

import scala.jdk.CollectionConverters._

import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.execution.FilterExec
import org.apache.spark.sql.execution.datasources.v2.BatchScanExec
import org.apache.spark.sql.types._
import org.scalatest.funsuite.AnyFunSuite

/** Filters, limits and `_score` on a table of every atomic type with nulls, compared with
  * Spark's own answers over the same rows (an in-memory DataFrame). Filters needle evaluates
  * exactly must leave no Filter in the plan; the others must still give complete answers. */
class PushdownSuite extends AnyFunSuite with NeedleSparkSuite {

  private val schema = StructType(
    Seq(StructField("id", IntegerType, nullable = false), StructField("s", StringType), StructField("body", StringType)) ++
      atomicFields(StructField("dec", DecimalType(10, 2)), StructField("dec38", DecimalType(38, 6))) :+
      StructField("p", StringType))

  private val words = Seq("alpha", "beta", "gamma", "delta", "error", "warn")

  /** Small value domains so that equality and IN hit rows; about one value in six is null. */
  private lazy val rows: Seq[Row] = {
    val r = new scala.util.Random(20240501)
    def maybe[T](v: => T): Any = if (r.nextInt(6) == 0) null else v
    (0 until 400).map { id =>
      Row(
        id,
        maybe(Seq("a", "ab", "abc", "b", "", "z\"q", "web-1", "web-10")(r.nextInt(8))),
        maybe(Seq.fill(1 + r.nextInt(3))(words(r.nextInt(words.size))).mkString(" ")),
        maybe((r.nextInt(7) - 3).toByte),
        maybe((r.nextInt(7) - 3).toShort),
        maybe(r.nextInt(20) - 10),
        maybe(r.nextInt(20).toLong * 1000000007L - 5000000000L),
        maybe(Seq(0.0f, -0.0f, 1.5f, -2.25f, Float.NaN, Float.PositiveInfinity, 3.0f)(r.nextInt(7))),
        maybe(Seq(0.0, -0.0, 1.5, -2.25, Double.NaN, Double.NegativeInfinity, 1e300)(r.nextInt(7))),
        maybe(new JBigDecimal(r.nextInt(2000) - 1000).movePointLeft(2)),
        maybe(new JBigDecimal(BigInt(r.nextLong()).bigInteger).multiply(new JBigDecimal("1000000000000")).movePointLeft(6)
          .add(new JBigDecimal(r.nextInt(3)))),
        maybe(r.nextBoolean()),
        maybe(Date.valueOf(java.time.LocalDate.of(2024, 1 + r.nextInt(3), 1 + r.nextInt(3)))),
        maybe(Timestamp.from(Instant.parse("2024-05-01T00:00:00Z").plusSeconds(r.nextInt(5) * 3600L).plusNanos(r.nextInt(3) * 1000L))),
        maybe(LocalDateTime.parse("2024-05-01T00:00:00").plusHours(r.nextInt(5))),
        maybe(Array.fill(r.nextInt(3))(r.nextInt(3).toByte)),
        maybe(Seq("x", "y", "z")(r.nextInt(3))))
    }
  }

  // Not cached: the batch pruning of Spark's in-memory cache drops NaN for `= NaN` and `>= NaN`
  // (its statistics leave NaN out), and this is the reference.
  private lazy val expected: DataFrame = spark.createDataFrame(rows.asJava, schema)

  private lazy val path: String = {
    val p = newTablePath("pushdown")
    expected.repartition(3).write.format("needle")
      .option("needle.field.body.type", "text")
      .partitionBy("p")
      .save(p)
    p
  }

  private def table: DataFrame = readNeedle(path)

  private def filters(df: DataFrame): Seq[FilterExec] =
    df.queryExecution.executedPlan.collect { case f: FilterExec => f }

  private def scans(df: DataFrame): Seq[BatchScanExec] =
    df.queryExecution.executedPlan.collect { case b: BatchScanExec => b }

  /** The filter gives Spark's rows; when `pushed`, needle evaluates all of it (no Filter left). */
  private def check(condition: String, pushed: Boolean): Unit = {
    val got = table.filter(condition)
    assert(canonRows(got) == canonRows(expected.filter(condition)), s"rows of $condition")
    if (pushed) assert(filters(got).isEmpty, s"$condition should be evaluated by needle:\n${got.queryExecution.executedPlan}")
  }

  private val exact: Seq[String] = Seq(
    // strings (exact terms), with quotes and the empty string
    "s = 'ab'", "s = ''", "s = 'z\"q'", "s <=> 'abc'", "s <=> NULL", "s <> 'a'", "s < 'ab'", "s <= 'ab'",
    "s > 'b'", "s >= 'web-1'", "s IN ('a', 'web-10', 'nope')", "s IN ('a', NULL)", "s IS NULL", "s IS NOT NULL",
    "startswith(s, 'ab')", "s LIKE 'web-1%'", "startswith(s, '')", "NOT (s = 'a')", "NOT (s IN ('a', 'b'))",
    // integers of every width
    "b = 1", "b < 0", "b >= -1", "sh <=> NULL", "sh > 2", "sh IN (1, 2, 3)", "i <= -5", "i IN (0, 3, 9)",
    "NOT (i > 0)", "l = -5000000000", "l > 0", "l < 4000000000", "l IS NULL",
    // floats and doubles: NaN, -0.0, infinities under Spark's rules
    "f = 0.0", "f = cast('NaN' as float)", "f > 1.0", "f >= 'Infinity'", "f < 1.5", "f <= cast('NaN' as float)",
    "d = 0.0", "d = -0.0", "d = cast('NaN' as double)", "d > 1.0", "d < 0", "d > cast('NaN' as double)",
    "d >= cast('NaN' as double)", "d IN (1.5, cast('NaN' as double))", "NOT (d < 1.5)",
    // decimals (unscaled i64 and text)
    "dec = 1.5", "dec > -2.25", "dec <= 0", "dec IN (0.01, -9.99)", "dec38 IS NOT NULL", "dec38 = 1",
    // booleans, dates, timestamps, binary
    "bool = true", "bool <=> NULL", "NOT bool", "date = DATE'2024-02-02'", "date > DATE'2024-02-01'",
    "ts >= TIMESTAMP'2024-05-01 02:00:00'", "ts = TIMESTAMP'2024-05-01 01:00:00.000001'",
    "ntz < TIMESTAMP_NTZ'2024-05-01 02:00:00'", "ntz = TIMESTAMP_NTZ'2024-05-01 03:00:00'",
    "bin = X'0102'", "bin = X''", "bin IS NULL",
    // the partition column
    "p = 'x'", "p IS NULL", "p IN ('y', 'z')", "p > 'x'", "startswith(p, 'y')",
    // text columns: null tests only
    "body IS NULL", "body IS NOT NULL",
    // combinations
    "s = 'a' AND i > 0", "s = 'a' OR i > 0", "NOT (s = 'a' OR i > 0)", "(p = 'x' OR l > 0) AND NOT (bool = false)",
    "NOT (s <=> NULL) AND (d < 0 OR dec > 5)", "i > 0 AND i < 0")

  private val notPushed: Seq[String] = Seq(
    // text columns are tokenized: the whole value or a word is for Spark to test
    "body = 'alpha'", "body LIKE '%error%'", "startswith(body, 'alpha')", "body IN ('alpha beta', 'warn')",
    // expressions over columns
    "i + 1 = 3", "length(s) = 2", "lower(s) = 'ab'", "s = body", "i = b",
    // mixed: the part needle can do narrows the search, Spark checks the rest
    "s = 'a' AND body LIKE '%alpha%'", "s = 'a' OR body = 'warn'", "NOT (body = 'alpha') AND i > 2",
    "bin > X'01'", "bool > false", "dec38 > 1")

  exact.foreach { c =>
    test(s"pushed down exactly: $c")(check(c, pushed = true))
  }

  test("random AND/OR/NOT trees of exact and inexact filters give Spark's rows") {
    val r = new scala.util.Random(7)
    val leaves = exact.filterNot(_.contains(" AND ")).filterNot(_.contains(" OR ")) ++ notPushed.take(4)
    def tree(depth: Int): String =
      if (depth == 0 || r.nextInt(3) == 0) leaves(r.nextInt(leaves.size))
      else r.nextInt(3) match {
        case 0 => s"(${tree(depth - 1)}) AND (${tree(depth - 1)})"
        case 1 => s"(${tree(depth - 1)}) OR (${tree(depth - 1)})"
        case _ => s"NOT (${tree(depth - 1)})"
      }
    val conditions = Seq.fill(40)(tree(3))
    conditions.foreach { c =>
      assert(canonRows(table.filter(c)) == canonRows(expected.filter(c)), s"rows of $c")
    }
  }

  test(s"left to Spark, results complete: ${notPushed.size} filters") {
    notPushed.foreach(c => check(c, pushed = false))
  }

  test("the table has rows in every partition and several splits") {
    assert(table.count() == rows.size)
    val snap = snapshotOf(path)
    assert(snap.files.size >= 6, snap.files)
    assert(snap.files.exists(_.partitionValues("p").isEmpty))
  }

  test("limits are pushed to each split when every filter is exact") {
    val l = table.filter("i > 0").limit(7)
    val got = l.collect()
    assert(got.length == 7)
    assert(got.forall(r => r.getAs[Int]("i") > 0))
    assert(scans(l).exists(_.scan.description().contains("limit=7")), l.queryExecution.executedPlan)
    // Not pushed with a filter Spark evaluates; the answer is still right.
    val m = table.filter("body LIKE '%alpha%'").limit(5)
    assert(m.collect().length == 5)
    assert(!scans(m).exists(_.scan.description().contains("limit=")), m.queryExecution.executedPlan)
    // A limit larger than the table returns every row.
    assert(table.limit(100000).count() == rows.size)
    assert(canonRows(table.filter("s = 'ab'").limit(100000)) == canonRows(expected.filter("s = 'ab'")))
  }

  test("_score: the BM25 score of the needle.read.query, 0 without a query") {
    val q = readNeedle(path, "needle.read.query" -> "body:error")
    val scored = q.select("id", "body", "_score").collect()
    val want = expected.filter("body IS NOT NULL").collect()
      .filter(_.getAs[String]("body").split(" ").contains("error")).map(_.getAs[Int]("id")).toSet
    assert(scored.map(_.getInt(0)).toSet == want)
    assert(scored.forall(_.getFloat(2) > 0f))
    // Within one split, more occurrences of the term in a field of equal length score higher.
    val byBody = scored.groupBy(_.getString(1)).view.mapValues(_.map(_.getFloat(2)).max).toMap
    byBody.get("error error").zip(byBody.get("error alpha")).foreach { case (two, one) => assert(two > 0f && one > 0f) }
    // The query ANDs with filters, which do not change the score.
    val both = readNeedle(path, "needle.read.query" -> "body:error").filter("i > 0").select("id", "_score").collect()
    val scoreOf = scored.map(r => r.getInt(0) -> r.getFloat(2)).toMap
    assert(both.map(_.getInt(0)).toSet == want.intersect(expected.filter("i > 0").collect().map(_.getAs[Int]("id")).toSet))
    both.foreach(r => assert(r.getFloat(1) == scoreOf(r.getInt(0))))
    // Ordering by score works through Spark.
    val top = q.orderBy(org.apache.spark.sql.functions.col("_score").desc).limit(3).select("_score").collect().map(_.getFloat(0))
    assert(top.toSeq == scored.map(_.getFloat(2)).sorted(Ordering[Float].reverse).take(3).toSeq)
    // Without a query every row scores 0; _score is not part of select *.
    assert(table.select("_score").collect().forall(_.getFloat(0) == 0f))
    assert(!table.columns.contains("_score"))
  }

  test("full-text query forms through needle.read.query") {
    def ids(query: String): Set[Int] =
      readNeedle(path, "needle.read.query" -> query).select("id").collect().map(_.getInt(0)).toSet
    def bodyHas(p: Seq[String] => Boolean): Set[Int] =
      expected.filter("body IS NOT NULL").collect().filter(r => p(r.getAs[String]("body").split(" ").toSeq))
        .map(_.getAs[Int]("id")).toSet
    assert(ids("body:alpha AND body:beta") == bodyHas(w => w.contains("alpha") && w.contains("beta")))
    assert(ids("body:alpha OR body:warn") == bodyHas(w => w.contains("alpha") || w.contains("warn")))
    assert(ids("body:\"alpha beta\"") == bodyHas(w => w.sliding(2).exists(_ == Seq("alpha", "beta"))))
    assert(ids("body:gam*") == bodyHas(_.contains("gamma")))
    assert(ids("s:\"web-1\"") == expected.filter("s = 'web-1'").collect().map(_.getAs[Int]("id")).toSet)
  }
}
