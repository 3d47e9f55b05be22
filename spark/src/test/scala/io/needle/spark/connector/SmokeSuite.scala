package io.needle.spark.connector

import org.scalatest.funsuite.AnyFunSuite

import io.needle.spark.read.SplitCache

class SmokeSuite extends AnyFunSuite with NeedleSparkSuite {
  test("write and read back") {
    val s = spark
    import s.implicits._
    val path = newTablePath()
    Seq((1, "a"), (2, "b"), (3, null)).toDF("n", "s").write.format("needle").save(path)
    val df = readNeedle(path)
    assert(df.schema.fieldNames.toSeq == Seq("n", "s"))
    assert(canonRows(df) == canonRows(Seq((1, "a"), (2, "b"), (3, null)).toDF("n", "s")))
    assert(readNeedle(path).filter($"n" > 1).count() == 2)
    assert(readNeedle(path).filter($"s" === "b").collect().map(_.getInt(0)).toSeq == Seq(2))
  }

  test("the executor's split cache (needle.read.cacheSize) opens a split once; 0 turns it off") {
    val path = newTablePath("cache")
    spark.range(0, 300, 1, 3).selectExpr("id", "cast(id % 7 as string) as s").write.format("needle").save(path)
    val splits = snapshotOf(path).files.size
    assert(splits == 3)
    def run(options: (String, String)*): Long =
      readNeedle(path, options: _*).filter("s = '3'").select("id").collect().length.toLong
    val want = (0 until 300).count(_ % 7 == 3).toLong

    SplitCache.clear()
    val opens0 = SplitCache.openCount
    assert(run() == want)
    assert(SplitCache.openCount - opens0 == splits)
    val hits0 = SplitCache.hitCount
    assert(run() == want)
    assert(SplitCache.openCount - opens0 == splits) // nothing opened again
    assert(SplitCache.hitCount - hits0 == splits)

    // Off: every read opens every split.
    val opens1 = SplitCache.openCount
    assert(run("needle.read.cacheSize" -> "0") == want)
    assert(run("needle.read.cacheSize" -> "0") == want)
    assert(SplitCache.openCount - opens1 == 2 * splits)

    // A cache smaller than two footers keeps at most one split; answers stay right.
    val footer = snapshotOf(path).files.map(_.footerLength).max
    SplitCache.clear()
    val opens2 = SplitCache.openCount
    assert(run("needle.read.cacheSize" -> (footer + 1).toString) == want)
    assert(run("needle.read.cacheSize" -> (footer + 1).toString) == want)
    assert(SplitCache.openCount - opens2 >= splits + 2)
  }
}
