package io.needle.spark.log

import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path => NioPath}
import java.util.UUID
import java.util.concurrent.atomic.AtomicLong

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path
import org.scalatest.{BeforeAndAfterEach, Suite}

import io.needle.spark.errors.{ErrorId, NeedleException}

/** A fresh table folder per test, and builders for actions. */
trait LogTestSupport extends BeforeAndAfterEach { self: Suite =>

  val hadoopConf = new Configuration()
  private var dir: NioPath = _

  /** The test's table folder (exists, empty). */
  def tableDir: NioPath = dir
  def tablePath: Path = new Path(dir.toUri)
  def logDir: NioPath = dir.resolve(FileNames.LogDirName)

  override def beforeEach(): Unit = {
    dir = Files.createTempDirectory("needle-log-test")
    super.beforeEach()
  }

  override def afterEach(): Unit = {
    try super.afterEach()
    finally LogTestSupport.deleteRecursively(dir)
  }

  def newLog(options: LogOptions = LogOptions(), store: Option[LogStore] = None): NeedleLog =
    NeedleLog.forTable(tablePath, hadoopConf, options, store)

  val NeedleSchema: String =
    """{"fields":[{"name":"body","type":"text","stored":true},{"name":"host","type":"string","stored":true},{"name":"day","type":"string"}]}"""
  val SparkSchema: String =
    """{"type":"struct","fields":[{"name":"body","type":"string","nullable":true,"metadata":{}},{"name":"host","type":"string","nullable":true,"metadata":{}},{"name":"day","type":"string","nullable":true,"metadata":{}}]}"""

  def metadata(
      partitionColumns: Seq[String] = Nil,
      configuration: Map[String, String] = Map.empty,
      id: String = UUID.randomUUID().toString): Metadata =
    Metadata(
      id = id,
      schemaJson = NeedleSchema,
      sparkSchemaJson = Some(SparkSchema),
      fieldOptions = Map(
        "body" -> FieldOptions(fieldType = Some("text"), tokenizer = Some("default"), stored = Some(true)),
        "host" -> FieldOptions(fieldType = Some("string"), record = Some("basic"))),
      partitionColumns = partitionColumns,
      configuration = configuration,
      createdTime = 1714557600000L)

  private val clock = new AtomicLong(1714557600000L)

  def addFile(
      name: String,
      partitionValues: Map[String, Option[String]] = Map.empty,
      dataChange: Boolean = true): AddFile =
    AddFile(
      path = s"$name.split",
      size = 4096,
      numRecords = 10,
      partitionValues = partitionValues,
      footerOffset = 3000,
      footerLength = 1080,
      modificationTime = clock.incrementAndGet(),
      dataChange = dataChange)

  /** Creates the table (version 0) and returns the log. */
  def createTable(
      log: NeedleLog = newLog(),
      configuration: Map[String, String] = Map.empty,
      files: Seq[AddFile] = Nil): NeedleLog = {
    val v = log.startTransaction().commit(
      metadata(configuration = configuration) +: files,
      "CREATE TABLE")
    assert(v == 0)
    log
  }

  /** Appends `files` in one transaction; returns the version. */
  def append(log: NeedleLog, files: AddFile*): Long =
    log.startTransaction().commit(files, "WRITE", Map("mode" -> "Append"))

  def paths(s: Snapshot): Set[String] = s.files.map(_.path).toSet

  def writeLogFile(name: String, lines: String*): Unit = {
    Files.createDirectories(logDir)
    Files.write(logDir.resolve(name), lines.map(_ + "\n").mkString.getBytes(UTF_8))
  }

  def readLogFile(name: String): Seq[String] =
    new String(Files.readAllBytes(logDir.resolve(name)), UTF_8).split("\n").toSeq

  def errorOf(body: => Any): NeedleException =
    try {
      body
      throw new AssertionError("expected a NeedleException")
    } catch { case e: NeedleException => e }

  def assertError(id: ErrorId)(body: => Any): NeedleException = {
    val e = errorOf(body)
    assert(e.errorId == id, s"expected $id, got: ${e.getMessage}")
    e
  }
}

object LogTestSupport {
  def deleteRecursively(p: NioPath): Unit =
    if (p != null && Files.exists(p)) {
      val s = Files.walk(p)
      try s.sorted(java.util.Comparator.reverseOrder()).forEach(x => Files.deleteIfExists(x))
      finally s.close()
    }
}
