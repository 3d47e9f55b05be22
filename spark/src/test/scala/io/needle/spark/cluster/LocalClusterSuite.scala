package io.needle.spark.cluster

import java.io.File
import java.nio.file.Files

import org.apache.spark.sql.{DataFrame, SparkSession}
import org.scalatest.{BeforeAndAfterAll, Tag}
import org.scalatest.funsuite.AnyFunSuite

import io.needle.spark.log.LogTestSupport

/** The connector on `local-cluster[2,1,1024]`: two executors, each a separate JVM started from a
  * Spark distribution (SPARK_HOME: the PySpark package of build/pyspark-venv), that get the
  * connector only from the bundle jar on `spark.jars` and load the native library from it
  * themselves.
  *
  * Runs in its own JVM after `package` (Maven's integration-test phase, execution `local-cluster`
  * in spark/pom.xml), since the bundle jar must exist and a JVM holds one SparkContext. Needs the
  * system properties `needle.spark.home` (a Spark 4.2.0 home) and `needle.bundle.jar`. */
object LocalCluster extends Tag("io.needle.spark.LocalCluster")

class LocalClusterSuite extends AnyFunSuite with BeforeAndAfterAll {
  private lazy val sparkHome = required("needle.spark.home")
  private lazy val bundle = required("needle.bundle.jar")
  private lazy val root = Files.createTempDirectory("needle-local-cluster")
  private var session: SparkSession = _

  private def required(key: String): String = {
    val v = System.getProperty(key, "")
    assert(v.nonEmpty, s"system property $key is not set (make test-spark sets it)")
    assert(new File(v).exists(), s"$key = $v does not exist")
    v
  }

  override def beforeAll(): Unit = {
    super.beforeAll()
    session = SparkSession.builder()
      .master("local-cluster[2,1,1024]")
      .appName("needle-local-cluster")
      .config("spark.test.home", sparkHome)
      .config("spark.jars", bundle)
      .config("spark.ui.enabled", "false")
      .config("spark.sql.shuffle.partitions", "4")
      .config("spark.local.dir", root.resolve("local").toString)
      .config("spark.sql.session.timeZone", "UTC")
      .config("spark.sql.extensions", "io.needle.spark.sql.NeedleSparkSessionExtensions")
      .getOrCreate()
  }

  override def afterAll(): Unit = {
    try if (session != null) session.stop()
    finally {
      LogTestSupport.deleteRecursively(root)
      super.afterAll()
    }
  }

  private def rows(n: Int): DataFrame = session.range(0, n, 1, 4).selectExpr(
    "id",
    "concat('event ', element_at(array('disk', 'login', 'timeout', 'backup'), cast(pmod(id, 4) + 1 as int)), " +
      "' on host-', cast(pmod(id, 7) as string)) AS msg",
    "cast(pmod(id, 3) as int) AS shard")

  test("two executor JVMs write and search a needle table with the bundle jar", LocalCluster) {
    val spark = session
    // The executors are two processes other than this one (no test code runs in them: they have
    // only Spark and the bundle jar, so this asks with a SQL expression).
    val commands = spark.sql("SELECT DISTINCT reflect('java.lang.System', 'getProperty', 'sun.java.command') " +
      "FROM range(0, 64, 1, 16)").collect().map(_.getString(0)).toSet
    assert(commands.size == 2 && commands.forall(_.contains("CoarseGrainedExecutorBackend")), commands)

    val path = root.resolve("events").toString
    rows(4000).write.format("needle").option("needle.field.msg.type", "text").partitionBy("shard").save(path)
    val t = spark.read.format("needle").load(path)
    assert(t.count() == 4000)
    // Splits were written by both executors (4 tasks × 3 shards, at most).
    val files = Files.walk(new File(path).toPath).filter(_.toString.endsWith(".split")).count()
    assert(files >= 6, files)

    t.createOrReplaceTempView("events")
    rows(4000).createOrReplaceTempView("events_spark")
    val needle = spark.sql("SELECT id FROM events WHERE msg indexquery 'timeout AND \"host-3\"' AND shard = 1")
      .collect().map(_.getLong(0)).sorted.toSeq
    val expected = spark.sql("SELECT id FROM events_spark WHERE msg LIKE '%timeout on host-3' AND shard = 1")
      .collect().map(_.getLong(0)).sorted.toSeq
    assert(expected.nonEmpty)
    assert(needle == expected)
    // _score comes from the engine in the executors.
    val scores = t.where(io.needle.spark.functions.needle_match("msg", "backup")).select("_score").collect().map(_.getFloat(0))
    assert(scores.length == 1000 && scores.forall(_ > 0f))
    // A bad query fails cleanly, and the executors are still there.
    val e = intercept[Exception](spark.sql("SELECT id FROM events WHERE msg indexquery 'timeout AND'").collect())
    assert(Iterator.iterate[Throwable](e)(_.getCause).takeWhile(_ != null).exists(_.getMessage.contains("NEEDLE_INVALID_QUERY")))
    assert(t.where("shard = 2").count() == rows(4000).where("shard = 2").count())
  }
}
