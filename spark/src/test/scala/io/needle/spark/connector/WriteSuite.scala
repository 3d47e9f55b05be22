package io.needle.spark.connector

import org.apache.spark.SparkException
import org.apache.spark.sql.AnalysisException
import org.apache.spark.sql.functions.{col, udf}
import org.scalatest.concurrent.Eventually._
import org.scalatest.funsuite.AnyFunSuite
import org.scalatest.time.{Millis, Seconds, Span}

class WriteSuite extends AnyFunSuite with NeedleSparkSuite {

  private def ids(path: String): Seq[Long] =
    readNeedle(path).select("id").collect().map(_.getLong(0)).toSeq.sorted

  test("save modes: errorifexists, append, overwrite, ignore") {
    val path = newTablePath("modes")
    spark.range(0, 10).selectExpr("id", "cast(id as string) as s").write.format("needle").save(path)
    assert(ids(path) == (0L until 10L))
    assert(snapshotOf(path).version == 0)

    val e = intercept[AnalysisException] {
      spark.range(100, 101).selectExpr("id", "cast(id as string) as s").write.format("needle").save(path)
    }
    assert(e.getMessage.toLowerCase.contains("already exists"), e.getMessage)
    assert(ids(path) == (0L until 10L))

    spark.range(10, 15).selectExpr("id", "cast(id as string) as s").write.format("needle").mode("append").save(path)
    assert(ids(path) == (0L until 15L))
    val afterAppend = snapshotOf(path)
    assert(afterAppend.version == 1)
    assert(logOf(path).history().last._2.isBlindAppend.contains(true))

    spark.range(100, 103).selectExpr("id", "cast(id as string) as s").write.format("needle").mode("overwrite").save(path)
    assert(ids(path) == Seq(100L, 101L, 102L))
    val afterOverwrite = snapshotOf(path)
    assert(afterOverwrite.version == 2)
    assert(afterOverwrite.tombstones.map(_.path).toSet == afterAppend.files.map(_.path).toSet)

    spark.range(500, 510).selectExpr("id", "cast(id as string) as s").write.format("needle").mode("ignore").save(path)
    assert(ids(path) == Seq(100L, 101L, 102L))
    assert(snapshotOf(path).version == 2)

    // ignore on a new folder creates the table
    val other = newTablePath("ignore-new")
    spark.range(0, 3).write.format("needle").mode("ignore").save(other)
    assert(ids(other) == Seq(0L, 1L, 2L))
  }

  test("append and overwrite to a new folder create the table; appends must fit its schema") {
    val a = newTablePath("append-new")
    spark.range(0, 4).write.format("needle").mode("append").save(a)
    assert(ids(a) == Seq(0L, 1L, 2L, 3L))
    val o = newTablePath("overwrite-new")
    spark.range(0, 2).write.format("needle").mode("overwrite").save(o)
    assert(ids(o) == Seq(0L, 1L))
    // by name, in any column order; a missing column is an error
    spark.range(7, 8).selectExpr("id").write.format("needle").mode("append").save(a)
    assert(ids(a) == Seq(0L, 1L, 2L, 3L, 7L))
    intercept[AnalysisException] {
      spark.range(0, 1).selectExpr("id", "'x' as extra").write.format("needle").mode("append").save(a)
    }
  }

  test("reading a folder without a table fails with NEEDLE_TABLE_NOT_FOUND") {
    val e = intercept[Exception](readNeedle(newTablePath("missing")).collect())
    assert(e.getMessage.contains("NEEDLE_TABLE_NOT_FOUND"), e.getMessage)
  }

  test("partitionBy writes partition folders; partition filters prune splits before any is opened") {
    val s = spark
    import s.implicits._
    val path = newTablePath("parts")
    val rows = (0 until 60).map(i => (i.toLong, s"host-${i % 3}", if (i % 4 == 0) null else s"2024-05-0${i % 4}", i % 2 == 0))
    rows.toDF("id", "host", "day", "flag").write.format("needle").partitionBy("day", "flag").save(path)
    val snap = snapshotOf(path)
    assert(snap.metadata.partitionColumns == Seq("day", "flag"))
    val dirs = snap.files.map(_.path.split("/").dropRight(1).mkString("/")).toSet
    assert(dirs.contains("day=2024-05-01/flag=false") && dirs.contains("day=__HIVE_DEFAULT_PARTITION__/flag=true"), dirs)
    snap.files.foreach { f => assert(f.partitionValues.keySet == Set("day", "flag")) }
    assert(snap.files.exists(_.partitionValues("day").isEmpty))

    val df = readNeedle(path)
    assert(df.schema.fieldNames.toSeq == Seq("id", "host", "day", "flag"))
    val expected = rows.toDF("id", "host", "day", "flag")
    assert(canonRows(df) == canonRows(expected))
    assert(canonRows(df.filter($"day" === "2024-05-02")) == canonRows(expected.filter($"day" === "2024-05-02")))
    assert(canonRows(df.filter($"day".isNull && $"host" === "host-0")) ==
      canonRows(expected.filter($"day".isNull && $"host" === "host-0")))
    assert(canonRows(df.filter($"day" === "2024-05-01" || $"id" === 8)) ==
      canonRows(expected.filter($"day" === "2024-05-01" || $"id" === 8)))

    // Pruning happens before any split is opened: delete every split outside the partition
    // asked for, and the query still works (and plans one input partition per kept split).
    val keep = snap.files.filter(f => f.partitionValues("day").contains("2024-05-03"))
    snap.files.filterNot(keep.contains).foreach(f => new java.io.File(s"$path/${f.path}").delete())
    val pruned = readNeedle(path).filter($"day" === "2024-05-03" && $"flag" === true)
    assert(canonRows(pruned) == canonRows(expected.filter($"day" === "2024-05-03" && $"flag" === true)))
    assert(numInputPartitions(pruned) == keep.count(_.partitionValues("flag").contains("true")))
    assert(readNeedle(path).filter($"day" === "2024-05-03").count() == expected.filter($"day" === "2024-05-03").count())
  }

  test("min/max statistics skip splits that cannot match") {
    val s = spark
    import s.implicits._
    val path = newTablePath("stats")
    // four splits with disjoint id ranges and host names
    (0 until 4).foreach { k =>
      (k * 100 until k * 100 + 50).map(i => (i.toLong, s"h$k-$i")).toDF("id", "host")
        .coalesce(1).write.format("needle").mode("append").save(path)
    }
    val snap = snapshotOf(path)
    assert(snap.files.size == 4)
    val df = readNeedle(path)
    assert(numInputPartitions(df.filter($"id" === 120)) == 1)
    assert(numInputPartitions(df.filter($"id" > 220)) == 2)
    assert(numInputPartitions(df.filter($"id" > 250)) == 1)
    assert(numInputPartitions(df.filter($"id" < 0)) == 0)
    assert(numInputPartitions(df.filter($"host".startsWith("h2-"))) == 1)
    assert(numInputPartitions(df.filter($"host" === "zzz")) == 0)
    assert(numInputPartitions(df.filter($"id".isin(5, 305))) == 2)
    assert(numInputPartitions(df.filter($"id".isNull)) == 0)
    assert(df.filter($"id" > 220).count() == (221 until 250).size + 50)
  }

  test("a failed write leaves nothing visible: no rows, no referenced split") {
    val path = newTablePath("fail")
    spark.range(0, 20).selectExpr("id").write.format("needle").save(path)
    val before = snapshotOf(path)
    val boom = udf { (id: Long) => if (id == 133) throw new IllegalStateException("boom") else id }
    val e = intercept[SparkException] {
      spark.range(100, 200, 1, 4).select(boom(col("id")).as("id"))
        .write.format("needle").mode("append").save(path)
    }
    assert(e.getMessage.contains("boom"))
    val after = snapshotOf(path)
    assert(after.version == before.version)
    assert(ids(path) == (0L until 20L))
    assert(after.files.forall(f => new java.io.File(s"$path/${f.path}").isFile))

    // A failing overwrite leaves the old rows.
    intercept[SparkException] {
      spark.range(100, 200, 1, 4).select(boom(col("id")).as("id"))
        .write.format("needle").mode("overwrite").save(path)
    }
    assert(snapshotOf(path).version == before.version)
    assert(ids(path) == (0L until 20L))
  }

  test("failed tasks delete the splits they had already finished") {
    def rows(fail: Boolean) = {
      val last = udf { (id: Long) =>
        if (fail && (id == 29999 || id == 59999)) throw new IllegalStateException("late boom") else id
      }
      spark.range(0, 60000, 1, 2).select(last(col("id")).as("id")).selectExpr("id", "repeat(cast(id as string), 20) as s")
    }
    def write(df: org.apache.spark.sql.DataFrame, path: String, mode: String): Unit =
      df.write.format("needle")
        .option("needle.write.targetSplitSize", "1m")
        .option("needle.write.batchSize", "1000")
        .mode(mode).save(path)
    // The premise: these rows make several splits per task.
    val ok = newTablePath("rolled")
    write(rows(fail = false), ok, "append")
    assert(snapshotOf(ok).files.size >= 4, snapshotOf(ok).files)

    // Both tasks roll several splits, then fail on their last row.
    val path = newTablePath("fail-rolled")
    spark.range(0, 10).selectExpr("id", "cast(id as string) as s").write.format("needle").save(path)
    val before = snapshotOf(path)
    val e = intercept[SparkException](write(rows(fail = true), path, "overwrite"))
    assert(e.getMessage.contains("late boom"))
    assert(snapshotOf(path).version == before.version)
    assert(ids(path) == (0L until 10L))
    // Every split on disk is one the log names (once the task Spark kills when the other one
    // fails has cleaned up: the job fails without waiting for it).
    eventually(timeout(Span(30, Seconds)), interval(Span(100, Millis))) {
      assert(splitFilesOnDisk(path) == before.files.map(_.path).toSet)
    }
  }

  test("DataFrame appends racing from two threads: every row once, one version per write") {
    val path = newTablePath("race")
    spark.range(0, 1).write.format("needle").save(path)
    val perThread = 5
    val errors = new java.util.concurrent.ConcurrentLinkedQueue[Throwable]()
    val threads = (0 until 2).map { t =>
      new Thread(() => {
        try {
          (0 until perThread).foreach { k =>
            val start = 1000L * (t * perThread + k + 1)
            spark.range(start, start + 10, 1, 1).write.format("needle").mode("append").save(path)
          }
        } catch { case e: Throwable => errors.add(e) }
      })
    }
    threads.foreach(_.start())
    threads.foreach(_.join())
    assert(errors.isEmpty, errors)
    val want = 0L +: (1 to 2 * perThread).flatMap(w => (1000L * w) until (1000L * w + 10))
    assert(ids(path) == want.sorted)
    assert(snapshotOf(path).version == 2 * perThread)
  }

  test("splits roll at the target size, rows go to the engine in batches of the configured size") {
    val path = newTablePath("roll")
    spark.range(0, 30000, 1, 1).selectExpr("id", "repeat(cast(id as string), 20) as s")
      .write.format("needle")
      .option("needle.write.targetSplitSize", "1m")
      .option("needle.write.batchSize", "777")
      .option("needle.indexing.memory", "16m")
      .save(path)
    val snap = snapshotOf(path)
    assert(snap.files.size >= 2, snap.files)
    assert(snap.numRecords == 30000)
    assert(readNeedle(path).count() == 30000)
    assert(readNeedle(path).filter("id = 29999").count() == 1)
  }

  test("bad settings are refused with the key named") {
    val path = newTablePath("conf")
    val e = intercept[Exception] {
      spark.range(0, 1).write.format("needle").option("needle.write.batchsize", "0").save(path)
    }
    assert(e.getMessage.contains("NEEDLE_INVALID_CONF_VALUE"), e.getMessage)
    val e2 = intercept[Exception] {
      spark.range(0, 1).write.format("needle").option("needle.write.bachSize", "10").save(path)
    }
    assert(e2.getMessage.contains("NEEDLE_UNKNOWN_CONF"), e2.getMessage)
    assert(!logOf(path).tableExists())
  }
}
