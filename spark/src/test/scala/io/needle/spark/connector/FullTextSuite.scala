package io.needle.spark.connector

import org.apache.spark.sql.{DataFrame, Row}
import org.apache.spark.sql.functions.{col, expr}
import org.scalatest.funsuite.AnyFunSuite

import io.needle.spark.functions.{needle_match, needle_match_all}
import io.needle.spark.sql.IndexQuerySql

/** Full-text filters: `col indexquery 'q'`, `_indexall indexquery 'q'` and `needle_match(col, 'q')`
  * from SQL and the DataFrame API, pushed into the needle scan; their answers are compared with
  * Spark's own evaluation of the same condition (tokens of the lower-cased text) over the same
  * rows. */
class FullTextSuite extends AnyFunSuite with NeedleSparkSuite {
  private val words = Seq("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")

  /** 400 rows: `msg` and `note` text, `host` exact, `p` a partition column. */
  private lazy val source: DataFrame = {
    val w = words.map(x => s"'$x'").mkString("array(", ",", ")")
    spark.range(0, 400).selectExpr(
      "id",
      s"concat_ws(' ', element_at($w, cast(pmod(id, 8) + 1 as int)), element_at($w, cast(pmod(id * 7, 5) + 1 as int)), " +
        "'x' || cast(pmod(id, 13) as string), if(pmod(id, 10) = 0, 'it''s \"quoted\" here', 'plain.text')) AS msg",
      s"if(pmod(id, 3) = 0, null, concat('note ', element_at($w, cast(pmod(id, 3) + 6 as int)))) AS note",
      "concat('web-', cast(pmod(id, 4) as string)) AS host",
      "cast(pmod(id, 2) as int) AS p")
  }

  private lazy val path: String = {
    val p = newTablePath("fulltext")
    source.repartition(3).write.format("needle")
      .option("needle.field.msg.type", "text").option("needle.field.note.type", "text")
      .partitionBy("p").save(p)
    // A catalog table over the folder (metadata columns such as _score need the table itself, not
    // a temporary view), a view of the path-based read, and the source rows for Spark's answers.
    spark.sql("DROP TABLE IF EXISTS ft")
    spark.sql(s"CREATE TABLE ft USING needle LOCATION '$p'")
    readNeedle(p).createOrReplaceTempView("ftv")
    source.createOrReplaceTempView("ft_spark")
    p
  }

  /** Spark's own test for "the text of `c` has the token `w`" (the default tokenizer: runs of
    * letters and digits, lower-cased). */
  private def has(c: String, w: String) = s"array_contains(split(lower(coalesce($c, '')), '[^a-z0-9]+'), '$w')"

  private def ids(df: DataFrame): Seq[Long] = df.select("id").collect().map(_.getLong(0)).toSeq.sorted
  private def ids(sql: String): Seq[Long] = ids(spark.sql(sql))

  /** No Filter left above the scan holds the full-text condition: it was pushed whole. */
  private def assertPushed(df: DataFrame): Unit = {
    val filters = df.queryExecution.optimizedPlan.collect { case f: org.apache.spark.sql.catalyst.plans.logical.Filter => f }
    assert(filters.forall(f => !f.condition.sql.contains("needle_match")), df.queryExecution.optimizedPlan)
  }

  test("col indexquery 'q' in SQL equals Spark's own evaluation, alone and ANDed with other filters") {
    path
    val cases = Seq(
      ("msg indexquery 'alpha'", has("msg", "alpha")),
      ("msg indexquery 'alpha AND x3'", s"${has("msg", "alpha")} AND ${has("msg", "x3")}"),
      ("msg indexquery 'beta OR gamma' AND host = 'web-1'", s"(${has("msg", "beta")} OR ${has("msg", "gamma")}) AND host = 'web-1'"),
      ("msg INDEXQUERY 'delta -x5' AND id < 200 AND p = 1", s"${has("msg", "delta")} AND NOT ${has("msg", "x5")} AND id < 200 AND p = 1"),
      ("NOT msg indexquery 'alpha' AND id < 100", s"NOT ${has("msg", "alpha")} AND id < 100"),
      ("msg indexquery 'alpha' OR host = 'web-2'", s"${has("msg", "alpha")} OR host = 'web-2'"),
      ("ft.msg indexquery 'eta' AND note indexquery 'eta'", s"${has("msg", "eta")} AND ${has("note", "eta")}"),
      ("_indexall indexquery 'zeta'", s"${has("msg", "zeta")} OR ${has("note", "zeta")}"),
      ("msg indexquery 'alph*'", has("msg", "alpha")))
    cases.foreach { case (needle, sparkCond) =>
      val expected = ids(s"SELECT id FROM ft_spark WHERE $sparkCond")
      assert(expected.nonEmpty, sparkCond)
      for (table <- Seq("ft", "ftv")) {
        val df = spark.sql(s"SELECT id FROM $table WHERE ${needle.replace("ft.msg", s"$table.msg")}")
        assertPushed(df)
        assert(ids(df) == expected, s"$table: $needle")
      }
    }
  }

  test("needle_match from SQL, F.expr and the Scala functions gives the same rows") {
    path
    val expected = ids(s"SELECT id FROM ft_spark WHERE ${has("msg", "gamma")} AND ${has("msg", "x1")} AND p = 0")
    assert(expected.nonEmpty)
    assert(ids("SELECT id FROM ft WHERE needle_match(msg, 'gamma AND x1') AND p = 0") == expected)
    val t = spark.table("ft")
    assert(ids(t.where(expr("needle_match(msg, 'gamma AND x1')")).where("p = 0")) == expected)
    assert(ids(t.where(needle_match(col("msg"), "gamma AND x1") && col("p") === 0)) == expected)
    assert(ids(t.where(needle_match("msg", "gamma AND x1")).filter("p = 0")) == expected)
    assert(ids(t.where("msg indexquery 'gamma AND x1' AND p = 0")) == expected)
    assert(ids(t.where(needle_match_all("gamma AND x1") && col("p") === 0)) == expected)
    // Splits of the other partition are never opened.
    assert(numInputPartitions(t.where(needle_match("msg", "gamma")).filter("p = 0")) <
      numInputPartitions(t.where(needle_match("msg", "gamma"))))
  }

  test("query strings with quotes, backslashes and other characters, escaped as SQL escapes them") {
    path
    val expected = ids(s"SELECT id FROM ft_spark WHERE msg LIKE '%it''s \"quoted\" here%'")
    assert(expected.nonEmpty)
    val phrase = "\"it's quoted\""  // the needle query: a phrase (the tokenizer drops the quotes)
    assert(ids(readNeedle(path, "needle.read.query" -> s"msg:($phrase)")) == expected)
    // In SQL: \' and \" inside '...' and "..." literals, '' doubled, and a raw literal.
    assert(ids("""SELECT id FROM ft WHERE msg indexquery '"it\'s quoted"'""") == expected)
    assert(ids("""SELECT id FROM ft WHERE msg indexquery "\"it's quoted\"" """) == expected)
    // A raw literal keeps its backslash, which escapes the '.' for the needle parser.
    assert(ids("""SELECT id FROM ft WHERE msg indexquery r'x1 AND plain\.text'""") ==
      ids(s"SELECT id FROM ft_spark WHERE ${has("msg", "x1")} AND ${has("msg", "plain")} AND ${has("msg", "text")}"))
    assert(ids("""SELECT id FROM ft WHERE needle_match(msg, '"it\'s quoted"')""") == expected)
    // Characters that need escaping in the needle language, escaped there: a literal colon and parentheses.
    val colon = ids(s"SELECT id FROM ft WHERE msg indexquery 'plain\\\\.text' AND id < 20")
    assert(colon == ids(s"SELECT id FROM ft_spark WHERE ${has("msg", "plain")} AND ${has("msg", "text")} AND id < 20"))
    // A backquoted column and comments around the operator.
    assert(ids("SELECT id FROM ft WHERE `msg` /* c */ indexquery -- c\n 'x1' AND id < 50") ==
      ids(s"SELECT id FROM ft_spark WHERE ${has("msg", "x1")} AND id < 50"))
    // Parameter markers, positional and named.
    val x1 = ids(s"SELECT id FROM ft_spark WHERE ${has("msg", "x1")} AND id < 50")
    assert(ids(spark.sql("SELECT id FROM ft WHERE msg indexquery ? AND id < 50", Array("x1"))) == x1)
    assert(ids(spark.sql("SELECT id FROM ft WHERE msg indexquery :q AND id < 50", Map("q" -> "x1"))) == x1)
    // The word inside strings and comments is left alone.
    assert(spark.sql("SELECT 'msg indexquery ''x''' AS s /* a indexquery 'b' */").head().getString(0) == "msg indexquery 'x'")
  }

  test("_score is the BM25 score of the full-text filters; other filters do not change it") {
    path
    val scored = spark.sql("SELECT id, _score FROM ft WHERE msg indexquery 'alpha OR x3'").collect()
      .map(r => r.getLong(0) -> r.getFloat(1)).toMap
    assert(scored.nonEmpty && scored.values.forall(_ > 0f))
    // Rows with both terms score more than rows with one (same document lengths up to a word).
    val both = spark.sql(s"SELECT id FROM ft_spark WHERE ${has("msg", "alpha")} AND ${has("msg", "x3")}").collect().map(_.getLong(0))
    val one = spark.sql(s"SELECT id FROM ft_spark WHERE ${has("msg", "alpha")} AND NOT ${has("msg", "x3")}").collect().map(_.getLong(0))
    assert(both.nonEmpty && one.nonEmpty)
    assert(both.map(scored).min > one.map(scored).max)
    // An extra exact filter keeps each row's score.
    val filtered = spark.sql("SELECT id, _score FROM ft WHERE msg indexquery 'alpha OR x3' AND host = 'web-0' AND id > 10")
      .collect().map(r => r.getLong(0) -> r.getFloat(1))
    assert(filtered.nonEmpty)
    filtered.foreach { case (id, s) => assert(s == scored(id), id) }
    // Without a full-text filter every row scores 0; ORDER BY _score with LIMIT keeps the best.
    assert(spark.sql("SELECT _score FROM ft WHERE host = 'web-0'").collect().forall(_.getFloat(0) == 0f))
    val top = spark.sql("SELECT _score FROM ft WHERE msg indexquery 'alpha OR x3' ORDER BY _score DESC LIMIT 3")
      .collect().map(_.getFloat(0)).toSeq
    assert(top == scored.values.toSeq.sorted.reverse.take(3))
    // _indexall selected is null.
    assert(spark.sql("SELECT _indexall FROM ft WHERE id = 1").head().isNullAt(0))
  }

  test("a bad query names the query and the position; the session goes on") {
    path
    def messageOf(e: Throwable) = Iterator.iterate(e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString("\n")
    val e = intercept[Exception](spark.sql("SELECT id FROM ft WHERE msg indexquery 'alpha AND (beta' AND id > 3").collect())
    val m = messageOf(e)
    assert(m.contains("NEEDLE_INVALID_QUERY") && m.contains("'alpha AND (beta'") && m.contains("position"), m)
    val e2 = intercept[Exception](spark.sql("SELECT id FROM ft WHERE needle_match(msg, 'nope:alpha')").collect())
    assert(messageOf(e2).contains("NEEDLE_INVALID_QUERY") && messageOf(e2).contains("nope"), messageOf(e2))
    assert(ids("SELECT id FROM ft WHERE msg indexquery 'alpha' AND id < 9") ==
      ids(s"SELECT id FROM ft_spark WHERE ${has("msg", "alpha")} AND id < 9"))
  }

  test("a full-text filter that cannot be pushed fails clearly instead of being evaluated") {
    path
    def messageOf(e: Throwable) = Iterator.iterate(e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString("\n")
    def fails(sql: String, id: String): Unit = {
      val e = intercept[Exception](spark.sql(sql).collect())
      assert(messageOf(e).contains(id), s"$sql\n${messageOf(e)}")
    }
    // On a relation that is not a needle table.
    fails("SELECT id FROM ft_spark WHERE msg indexquery 'alpha'", "NEEDLE_MATCH_NOT_PUSHED")
    val parquet = newTablePath("parquet")
    source.write.parquet(parquet)
    val e = intercept[Exception](spark.read.parquet(parquet).where(needle_match("msg", "alpha")).count())
    assert(messageOf(e).contains("NEEDLE_MATCH_NOT_PUSHED"), messageOf(e))
    // In a select list, or ORed with a condition the scan cannot take.
    fails("SELECT needle_match(msg, 'alpha') FROM ft", "NEEDLE_MATCH_NOT_PUSHED")
    fails("SELECT id FROM ft WHERE msg indexquery 'alpha' OR length(host) = 5", "NEEDLE_MATCH_NOT_PUSHED")
    // Arguments that are not a column and a constant.
    fails("SELECT id FROM ft WHERE needle_match(msg, host)", "NEEDLE_MATCH_INVALID_ARGUMENTS")
    fails("SELECT id FROM ft WHERE needle_match(upper(msg), 'alpha')", "NEEDLE_MATCH_INVALID_ARGUMENTS")
    fails("SELECT id FROM ft WHERE p indexquery '1'", "NEEDLE_MATCH_INVALID_ARGUMENTS")
    assert(ids("SELECT id FROM ft WHERE msg indexquery 'alpha' AND id < 9") ==
      ids(s"SELECT id FROM ft_spark WHERE ${has("msg", "alpha")} AND id < 9"))
  }

  test("the indexquery rewrite leaves strings, comments and other uses of the word alone") {
    val r = IndexQuerySql.rewrite _
    assert(r("SELECT * FROM t WHERE a indexquery 'x' AND b.c IndexQuery \"y\"") ==
      "SELECT * FROM t WHERE needle_match(a, 'x') AND needle_match(b.c, \"y\")")
    assert(r("SELECT * FROM t WHERE `a b` indexquery 'it\\'s' 'more'") ==
      "SELECT * FROM t WHERE needle_match(`a b`, 'it\\'s' 'more')")
    assert(r("SELECT * FROM t WHERE _indexall indexquery :q") == "SELECT * FROM t WHERE needle_match(_indexall, :q)")
    assert(r("SELECT * FROM t WHERE a indexquery ?") == "SELECT * FROM t WHERE needle_match(a, ?)")
    Seq(
      "SELECT 'a indexquery ''b''' FROM t",
      "SELECT a FROM t -- a indexquery 'b'",
      "SELECT a /* x /* a indexquery 'b' */ */ FROM t",
      "SELECT indexquery FROM t",
      "SELECT a AS indexquery FROM t",
      "SELECT `a indexquery 'b'` FROM t").foreach(s => assert(r(s) == s, s))
  }
}
