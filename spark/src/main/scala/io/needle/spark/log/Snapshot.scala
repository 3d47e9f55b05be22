package io.needle.spark.log

import org.apache.hadoop.fs.Path

/** The state of a table at one version: protocol, metadata, live files and tombstones
  * (docs/format/transaction-log.md, "Table state and replay"). Immutable. */
final class Snapshot private[log] (
    val tablePath: Path,
    val version: Long,
    val protocol: Protocol,
    val metadata: Metadata,
    private[log] val liveFiles: Map[String, AddFile],
    private[log] val tombstoneFiles: Map[String, RemoveFile],
    /** `commit_info.timestamp` of this version (the file's modification time without one). */
    val timestamp: Long) {

  /** The live splits, sorted by path. */
  lazy val files: Seq[AddFile] = liveFiles.values.toVector.sortBy(_.path)

  /** Removed splits not added again, sorted by path (what a clean-up may delete later). */
  lazy val tombstones: Seq[RemoveFile] = tombstoneFiles.values.toVector.sortBy(_.path)

  def file(path: String): Option[AddFile] = liveFiles.get(path)

  def numFiles: Int = liveFiles.size
  lazy val sizeInBytes: Long = liveFiles.valuesIterator.map(_.size).sum
  lazy val numRecords: Long = liveFiles.valuesIterator.map(_.numRecords).sum

  /** Where a file of this table is: relative paths resolve against the table folder. */
  def absolutePath(path: String): Path = Snapshot.absolutePath(tablePath, path)

  override def toString: String =
    s"Snapshot($tablePath, version=$version, files=$numFiles, records=$numRecords)"
}

object Snapshot {
  def absolutePath(tablePath: Path, path: String): Path =
    if (path.contains("://")) new Path(new java.net.URI(path))
    else new Path(tablePath, new Path(null, null, path)) // keeps ':' inside names literal
}

/** Replays actions onto a state (mutable while it is built, then frozen into a Snapshot). */
private[log] final class ReplayState(
    var protocol: Option[Protocol],
    var metadata: Option[Metadata],
    var live: Map[String, AddFile],
    var tombstones: Map[String, RemoveFile]) {

  def apply(action: Action): Unit = action match {
    case p: Protocol => protocol = Some(p)
    case m: Metadata => metadata = Some(m)
    case a: AddFile =>
      live = live.updated(a.path, a)
      tombstones = tombstones - a.path
    case r: RemoveFile =>
      live = live - r.path
      tombstones = tombstones.updated(r.path, r)
    case _: CommitInfo | _: UnknownAction => ()
  }
}

private[log] object ReplayState {
  def empty: ReplayState = new ReplayState(None, None, Map.empty, Map.empty)
  def of(s: Snapshot): ReplayState =
    new ReplayState(Some(s.protocol), Some(s.metadata), s.liveFiles, s.tombstoneFiles)
}
