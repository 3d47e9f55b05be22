package io.needle.spark.connector

import java.nio.file.{Files, Path => NioPath}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.conf.Configuration
import org.apache.spark.sql.{DataFrame, Row, SparkSession}
import org.apache.spark.sql.types._
import org.scalatest.{BeforeAndAfterAll, Suite}

import io.needle.spark.log.{NeedleLog, Snapshot}
import io.needle.spark.log.LogTestSupport

/** The SparkSession every connector suite shares: `local[2]`, with needle's SQL extension
  * (`needle_match`, `indexquery`) and the needle native library
  * loaded from the needle-java jar on the test class path (java/target, built by `make java`);
  * set NEEDLE_NATIVE_LIB_PATH to test another build of the library. */
object TestSpark {
  lazy val root: NioPath = Files.createTempDirectory("needle-spark-test")

  lazy val session: SparkSession = {
    val s = SparkSession.builder()
      .master("local[2]")
      .appName("needle-connector-tests")
      .config("spark.ui.enabled", "false")
      .config("spark.sql.shuffle.partitions", "2")
      .config("spark.default.parallelism", "2")
      .config("spark.sql.warehouse.dir", root.resolve("warehouse").toString)
      .config("spark.local.dir", root.resolve("local").toString)
      .config("spark.sql.session.timeZone", "UTC")
      .config("spark.sql.extensions", "io.needle.spark.sql.NeedleSparkSessionExtensions")
      .getOrCreate()
    sys.addShutdownHook {
      s.stop()
      LogTestSupport.deleteRecursively(root)
    }
    s
  }
}

trait NeedleSparkSuite extends BeforeAndAfterAll { self: Suite =>
  def spark: SparkSession = TestSpark.session

  private var counter = 0

  /** A new, not yet existing folder for a table. */
  def newTablePath(name: String = "t"): String = synchronized {
    counter += 1
    TestSpark.root.resolve(s"${getClass.getSimpleName}-$name-$counter-${System.nanoTime()}").toString
  }

  def readNeedle(path: String, options: (String, String)*): DataFrame =
    spark.read.format("needle").options(options.toMap).load(path)

  def logOf(path: String): NeedleLog =
    NeedleLog.forTable(new org.apache.hadoop.fs.Path(path), new Configuration())

  def snapshotOf(path: String): Snapshot = logOf(path).snapshot()

  /** How many input partitions (splits to search) the scan of `df` plans. */
  def numInputPartitions(df: DataFrame): Int = {
    df.queryExecution.executedPlan.collect {
      case b: org.apache.spark.sql.execution.datasources.v2.BatchScanExec => b.inputPartitions.size
    }.sum
  }

  /** Every `.split` file under the table folder, relative to it. */
  def splitFilesOnDisk(path: String): Set[String] = {
    val base = new java.io.File(path).toPath
    if (!Files.exists(base)) Set.empty
    else {
      val s = Files.walk(base)
      try s.iterator().asScala.filter(_.toString.endsWith(".split")).map(p => base.relativize(p).toString).toSet
      finally s.close()
    }
  }

  /** Rows as comparable strings: doubles and floats by their bits (so -0.0, NaN and every bit
    * count), decimals by their exact text, binary as hex, nested values recursively. */
  def canon(v: Any): String = v match {
    case null => "null"
    case d: Double => s"d${java.lang.Long.toHexString(java.lang.Double.doubleToRawLongBits(d))}"
    case f: Float => s"f${Integer.toHexString(java.lang.Float.floatToRawIntBits(f))}"
    case b: java.math.BigDecimal => s"bd${b.toPlainString}"
    case b: Array[Byte] => b.map(x => f"${x & 0xff}%02x").mkString("x", "", "")
    case r: Row => r.toSeq.map(canon).mkString("{", ",", "}")
    case s: scala.collection.Seq[_] => s.map(canon).mkString("[", ",", "]")
    case m: scala.collection.Map[_, _] => m.toSeq.map { case (k, x) => canon(k) + "->" + canon(x) }.sorted.mkString("<", ",", ">")
    case other => s"${other.getClass.getSimpleName}:$other"
  }

  def canonRows(df: DataFrame): Seq[String] = df.collect().toSeq.map(canon).sorted

  /** Nullable columns of every atomic Spark type but string, as the suites name them: `b sh i l
    * f d`, then the given decimal columns, then `bool date ts ntz bin`. */
  def atomicFields(decimals: StructField*): Seq[StructField] =
    Seq(
      StructField("b", ByteType),
      StructField("sh", ShortType),
      StructField("i", IntegerType),
      StructField("l", LongType),
      StructField("f", FloatType),
      StructField("d", DoubleType)) ++ decimals ++ Seq(
      StructField("bool", BooleanType),
      StructField("date", DateType),
      StructField("ts", TimestampType),
      StructField("ntz", TimestampNTZType),
      StructField("bin", BinaryType))
}
