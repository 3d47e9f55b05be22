package io.needle.spark.connector

import org.apache.spark.sql.DataFrame
import org.scalatest.funsuite.AnyFunSuite

/** Struct, array and map columns (and string columns of type json) are json fields: their values
  * read back exactly, and their leaves are searched by path. Every full-text answer is compared
  * with Spark's own evaluation of the same condition over the same rows. */
class NestedSuite extends AnyFunSuite with NeedleSparkSuite {
  private val words = Seq("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")
  private def arr(xs: Seq[String]) = xs.map(x => s"'$x'").mkString("array(", ",", ")")
  private def pick(xs: Seq[String], e: String) = s"element_at(${arr(xs)}, cast(pmod($e, ${xs.size}) + 1 as int))"

  /** 300 rows with a struct, an array of strings, a map, an array of structs and a JSON string. */
  private lazy val source: DataFrame = spark.range(0, 300).selectExpr(
    "id",
    s"""if(pmod(id, 13) = 0, null, named_struct(
         'user', named_struct(
           'name', ${pick(Seq("Alice", "bob", "carol", "dave", "erin"), "id")},
           'id', cast(pmod(id, 17) as bigint),
           'bio', concat_ws(' ', ${pick(words, "id")}, ${pick(words, "id * 3")}, ${pick(words, "id * 5")})),
         'ok', pmod(id, 3) = 0)) AS payload""",
    s"""if(pmod(id, 7) = 0, null, if(pmod(id, 11) = 0, cast(array() as array<string>),
         slice(${arr(Seq("db", "prod", "web", "cache", "eu"))}, cast(pmod(id, 4) + 1 as int), 2))) AS tags""",
    s"""map('region', ${pick(Seq("eu-west", "us-east", "ap-south"), "id")}, 'tier', cast(pmod(id, 4) as string)) AS attrs""",
    "transform(sequence(0, cast(pmod(id, 3) as int)), i -> named_struct('code', 200 + 100 * cast(pmod(id + i, 4) as int))) AS events",
    s"to_json(named_struct('level', ${pick(Seq("info", "warn", "error"), "id")}, 'n', pmod(id, 5))) AS doc")

  private lazy val path: String = {
    val p = newTablePath("nested")
    source.repartition(2).write.format("needle").option("needle.field.doc.type", "json").save(p)
    spark.sql("DROP TABLE IF EXISTS nested_t")
    spark.sql(s"CREATE TABLE nested_t USING needle LOCATION '$p'")
    source.createOrReplaceTempView("nested_spark")
    p
  }

  /** Spark's test for "the text `e` has the token `w`" (the default tokenizer). */
  private def has(e: String, w: String) = s"array_contains(split(lower(coalesce($e, '')), '[^a-z0-9]+'), '$w')"

  private def ids(sql: String): Seq[Long] = spark.sql(sql).select("id").collect().map(_.getLong(0)).toSeq.sorted

  test("nested columns read back exactly, and the table keeps them as json fields") {
    path
    assert(canonRows(readNeedle(path)) == canonRows(source))
    val schema = snapshotOf(path).metadata.schemaJson
    Seq("payload", "tags", "attrs", "events", "doc").foreach { c =>
      assert(schema.contains("\"name\":\"" + c + "\",\"type\":\"json\""), schema)
    }
    // The JSON string column comes back as it was written.
    assert(canonRows(readNeedle(path).select("id", "doc")) == canonRows(source.select("id", "doc")))
  }

  test("leaves are searched by path and the answers equal Spark's") {
    path
    val cases = Seq(
      ("_indexall indexquery 'payload.user.name:alice'", has("payload.user.name", "alice")),
      ("needle_match(payload, 'payload.user.name:bob OR payload.user.name:carol')",
        s"${has("payload.user.name", "bob")} OR ${has("payload.user.name", "carol")}"),
      ("payload indexquery 'payload.user.id:[5 TO 10]'", "payload.user.id BETWEEN 5 AND 10"),
      ("payload indexquery 'payload.user.id:{5 TO 10] AND payload.ok:true'", "payload.user.id > 5 AND payload.user.id <= 10 AND payload.ok"),
      ("payload indexquery 'payload.user.bio:\"beta delta\"'", "concat(' ', payload.user.bio, ' ') LIKE '% beta delta %'"),
      ("payload indexquery 'payload.user.bio:alpha -payload.user.name:erin'",
        s"${has("payload.user.bio", "alpha")} AND NOT ${has("payload.user.name", "erin")}"),
      ("payload indexquery 'payload:*'", "payload IS NOT NULL"),
      ("tags indexquery 'db'", s"exists(tags, t -> ${has("t", "db")})"),
      ("tags indexquery 'prod AND NOT web'", s"exists(tags, t -> ${has("t", "prod")}) AND NOT exists(tags, t -> ${has("t", "web")})"),
      ("tags indexquery 'tags:*'", "tags IS NOT NULL"),
      ("attrs indexquery 'attrs.region:eu'", has("attrs['region']", "eu")),
      ("attrs indexquery 'attrs.tier:2 OR attrs.tier:3'", "attrs['tier'] IN ('2', '3')"),
      ("events indexquery 'events.code:300'", "exists(events, e -> e.code = 300)"),
      ("events indexquery 'events.code:[400 TO *]' AND id < 100", "exists(events, e -> e.code >= 400) AND id < 100"),
      ("doc indexquery 'doc.level:error'", "get_json_object(doc, '$.level') = 'error'"),
      ("doc indexquery 'doc.n:[2 TO 3]' OR attrs indexquery 'attrs.region:ap'",
        s"cast(get_json_object(doc, '$$.n') as int) BETWEEN 2 AND 3 OR ${has("attrs['region']", "ap")}"))
    cases.foreach { case (needle, sparkCond) =>
      val expected = ids(s"SELECT id FROM nested_spark WHERE $sparkCond")
      assert(expected.nonEmpty && expected.size < 300, s"$sparkCond: ${expected.size} rows")
      assert(ids(s"SELECT id FROM nested_t WHERE $needle") == expected, needle)
    }
  }

  test("filters on nested fields are left to Spark and stay exact; null tests on the column are pushed") {
    path
    val t = readNeedle(path)
    val cases = Seq(
      "payload.user.name = 'Alice'",
      "payload.user.id > 12 AND tags IS NULL",
      "try_element_at(tags, 1) = 'web'",
      "attrs['tier'] = '1' AND payload IS NOT NULL",
      "size(events) = 2")
    cases.foreach { c =>
      assert(t.filter(c).select("id").collect().map(_.getLong(0)).toSeq.sorted == ids(s"SELECT id FROM nested_spark WHERE $c"), c)
    }
  }

  test("a value that cannot be indexed fails the write with a clear error, and nothing is visible") {
    val s = spark
    import s.implicits._
    val p = newTablePath("badkey")
    val e = intercept[Exception](Seq((1, Map("" -> 1))).toDF("id", "m").write.format("needle").save(p))
    val msg = Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" | ")
    assert(msg.contains("'m'") && msg.contains("key"), msg)
    assert(!logOf(p).tableExists() || snapshotOf(p).files.isEmpty)
    val p2 = newTablePath("badjson")
    val e2 = intercept[Exception](Seq((1, "{not json")).toDF("id", "j").write.format("needle").option("needle.field.j.type", "json").save(p2))
    val msg2 = Iterator.iterate[Throwable](e2)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString(" | ")
    assert(msg2.contains("'j'") && msg2.contains("not valid JSON"), msg2)
  }
}
