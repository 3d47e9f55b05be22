package io.needle.spark.catalog

import java.util.concurrent.ConcurrentHashMap

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.needle.SparkInternals

import io.needle.spark.conf.ConfResolver
import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.NeedleLog

/** What the connector reads from the active Spark session (driver side only). */
object NeedleSession {
  def active: SparkSession = SparkSession.active

  /** The session configuration (where `spark.needle.*` settings live). */
  def sessionConf: Map[String, String] = active.conf.getAll

  /** The session's Hadoop configuration with data-source `options` applied. */
  def hadoopConf(options: Map[String, String] = Map.empty): Configuration =
    SparkInternals.hadoopConf(active, options)

  /** A resolver of needle settings for an operation with `options` on a table with
    * `tableProperties`. Checks every needle key (unknown keys and bad values are errors). */
  def resolver(options: Map[String, String], tableProperties: Map[String, String]): ConfResolver = {
    val r = ConfResolver(options = options, session = sessionConf, table = tableProperties)
    r.validate()
    r
  }

  /** The `path` option, required by path-based reads and writes. */
  def requirePath(options: java.util.Map[String, String], what: String): String =
    Option(options.get("path")).orElse(Option(options.get("PATH"))).filter(_.trim.nonEmpty).getOrElse(
      throw NeedleErrors.error(ErrorId.PathRequired, "operation" -> what))
}

/** One [[NeedleLog]] handle per table folder in this process, so that snapshots are read
  * incrementally (a handle caches its latest snapshot). */
object NeedleLogs {
  private val logs = new ConcurrentHashMap[String, NeedleLog]()

  /** The qualified form of a table folder (scheme and authority added, no trailing slash). */
  def qualify(path: String, hadoopConf: Configuration): Path = {
    val p = new Path(path)
    val fs = p.getFileSystem(hadoopConf)
    new Path(fs.makeQualified(p).toString)
  }

  def forTable(path: Path, hadoopConf: Configuration): NeedleLog =
    logs.computeIfAbsent(path.toString, _ => NeedleLog.forTable(path, hadoopConf))
}
