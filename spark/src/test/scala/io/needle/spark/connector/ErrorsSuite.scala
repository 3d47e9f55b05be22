package io.needle.spark.connector

import java.io.RandomAccessFile

import org.apache.spark.sql.AnalysisException
import org.scalatest.funsuite.AnyFunSuite

/** User errors give clear needle errors (or Spark's own, for what Spark checks), and none of them
  * brings down the JVM: the session answers the next query. */
class ErrorsSuite extends AnyFunSuite with NeedleSparkSuite {

  private lazy val path: String = {
    val p = newTablePath("errors")
    spark.range(0, 100).selectExpr("id", "concat('line ', cast(id as string)) as msg")
      .coalesce(1).write.format("needle").option("needle.field.msg.type", "text").save(p)
    p
  }

  /** The session still works (and the native library is still loaded) after an error. */
  private def stillWorks(): Unit = assert(readNeedle(path).filter("id = 42").count() == 1)

  private def messageOf(e: Throwable): String =
    Iterator.iterate(e)(_.getCause).takeWhile(_ != null).map(_.getMessage).mkString("\n")

  test("a query that does not parse names the query and the position") {
    val bad = "msg:(line AND"
    val e = intercept[Exception](readNeedle(path, "needle.read.query" -> bad).collect())
    val m = messageOf(e)
    assert(m.contains("NEEDLE_INVALID_QUERY"), m)
    assert(m.contains(s"'$bad'"), m)
    assert(m.contains("position 13"), m)
    stillWorks()
  }

  test("a query on a column the table does not have names the column") {
    val e = intercept[Exception](readNeedle(path, "needle.read.query" -> "nope:line").collect())
    val m = messageOf(e)
    assert(m.contains("NEEDLE_INVALID_QUERY") && m.contains("nope"), m)
    stillWorks()
  }

  test("an empty query is refused") {
    val e = intercept[Exception](readNeedle(path, "needle.read.query" -> "  ").collect())
    assert(messageOf(e).contains("NEEDLE_INVALID_QUERY"), messageOf(e))
  }

  test("an unknown column in a select or a filter is Spark's analysis error") {
    val e = intercept[AnalysisException](readNeedle(path).select("nope").collect())
    assert(e.getMessage.contains("nope"), e.getMessage)
    val e2 = intercept[AnalysisException](readNeedle(path).filter("nope = 1").collect())
    assert(e2.getMessage.contains("nope"), e2.getMessage)
    stillWorks()
  }

  test("unsupported column types are refused naming the column and the type") {
    val p = newTablePath("unsupported")
    val e = intercept[Exception](spark.sql("select 1 as id, interval 3 day as span").write.format("needle").save(p))
    val m = messageOf(e)
    assert(m.contains("NEEDLE_UNSUPPORTED_COLUMN") && m.contains("span") && m.contains("INTERVAL"), m)
    val e2 = intercept[Exception](spark.sql("select 1 as id, array(interval 3 day) as spans").write.format("needle").save(p))
    assert(messageOf(e2).contains("NEEDLE_UNSUPPORTED_COLUMN"), messageOf(e2))
    val e3 = intercept[Exception](spark.sql("select 1 as id, 1.5d as x").write.format("needle").partitionBy("x").save(p))
    assert(messageOf(e3).contains("NEEDLE_UNSUPPORTED_COLUMN") && messageOf(e3).contains("x"), messageOf(e3))
    assert(!logOf(p).tableExists())
    stillWorks()
  }

  test("a damaged split gives NEEDLE_SPLIT_READ_FAILED naming the file, not a crash") {
    val p = newTablePath("damaged")
    spark.range(0, 50).selectExpr("id", "cast(id as string) as s").coalesce(1).write.format("needle").save(p)
    val f = snapshotOf(p).files.head
    val file = new java.io.File(s"$p/${f.path}")
    // Zero the footer the log points at.
    val raf = new RandomAccessFile(file, "rw")
    try {
      raf.seek(f.footerOffset)
      raf.write(new Array[Byte](f.footerLength.toInt))
    } finally raf.close()
    val e = intercept[Exception](readNeedle(p).collect())
    val m = messageOf(e)
    assert(m.contains("NEEDLE_SPLIT_READ_FAILED") && m.contains(f.path), m)
    // Truncated to nothing.
    new java.io.FileOutputStream(file).close()
    val e2 = intercept[Exception](readNeedle(p).filter("id = 3").collect())
    assert(messageOf(e2).contains("NEEDLE_SPLIT_READ_FAILED"), messageOf(e2))
    stillWorks()
  }

  test("a bad tokenizer name is refused when the table is created") {
    val p = newTablePath("tokenizer")
    val e = intercept[Exception] {
      spark.range(0, 3).selectExpr("cast(id as string) as t").write.format("needle")
        .option("needle.field.t.type", "text").option("needle.field.t.tokenizer", "no_such_tokenizer").save(p)
    }
    val m = messageOf(e)
    assert(m.contains("NEEDLE_FIELD_OPTION_INVALID") && m.contains("no_such_tokenizer"), m)
    assert(!logOf(p).tableExists())
  }

  test("a value too long for a string column fails the write with the way out, nothing committed") {
    val p = newTablePath("long")
    val e = intercept[Exception] {
      spark.range(0, 2).selectExpr("id", "repeat('x', 40000) as s").coalesce(1).write.format("needle").save(p)
    }
    val m = messageOf(e)
    assert(m.contains("NEEDLE_SPLIT_WRITE_FAILED"), m)
    assert(!logOf(p).tableExists())
    assert(splitFilesOnDisk(p).isEmpty)
    stillWorks()
  }
}
