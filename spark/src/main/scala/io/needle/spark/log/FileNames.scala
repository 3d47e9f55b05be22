package io.needle.spark.log

import org.apache.hadoop.fs.Path

/** Names of the files in `_needle_log/` (docs/format/transaction-log.md, "Layout"). */
object FileNames {
  val LogDirName = "_needle_log"
  val LastCheckpointName = "_last_checkpoint"

  private val CommitPattern = """^([0-9]{20})\.json$""".r
  private val CheckpointPattern = """^([0-9]{20})\.checkpoint\.json$""".r

  def commitName(version: Long): String = f"$version%020d.json"
  def checkpointName(version: Long): String = f"$version%020d.checkpoint.json"

  def commitFile(logDir: Path, version: Long): Path = new Path(logDir, commitName(version))
  def checkpointFile(logDir: Path, version: Long): Path = new Path(logDir, checkpointName(version))
  def lastCheckpointFile(logDir: Path): Path = new Path(logDir, LastCheckpointName)

  /** The name a file takes while it is written: hidden (leading dot), unique, `.tmp`. */
  def tempName(finalName: String): String = s".$finalName.${java.util.UUID.randomUUID()}.tmp"

  /** What a name in the log folder is; None for anything readers ignore. */
  sealed trait LogFile { def version: Long }
  final case class Commit(version: Long) extends LogFile
  final case class Checkpoint(version: Long) extends LogFile

  def parse(name: String): Option[LogFile] = name match {
    case CommitPattern(digits) => toVersion(digits).map(Commit)
    case CheckpointPattern(digits) => toVersion(digits).map(Checkpoint)
    case _ => None
  }

  private def toVersion(digits: String): Option[Long] =
    scala.util.Try(java.lang.Long.parseLong(digits)).toOption // > 2^63-1: not a version
}
