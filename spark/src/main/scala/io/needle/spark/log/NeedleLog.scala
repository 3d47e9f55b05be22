package io.needle.spark.log

import java.io.{FileNotFoundException, IOException}

import scala.util.control.NonFatal

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path
import org.slf4j.LoggerFactory

import io.needle.spark.NeedleVersion
import io.needle.spark.conf.{ConfResolver, NeedleConf}
import io.needle.spark.errors.{ErrorId, NeedleErrors, NeedleException}

/** Settings of a log handle that do not come from the table. */
final case class LogOptions(
    /** Overrides the table's `needle.log.maxCommitAttempts`. */
    maxCommitAttempts: Option[Int] = None,
    /** Overrides the table's `needle.log.checkpointInterval`. */
    checkpointInterval: Option[Int] = None)

/** The transaction log of one table (`<table>/_needle_log/`, docs/format/transaction-log.md):
  * reconstructs snapshots and starts transactions. Thread-safe; one handle per table and
  * process is enough (it caches the latest snapshot). */
final class NeedleLog private (
    val tablePath: Path,
    val store: LogStore,
    val options: LogOptions) {
  import NeedleLog.log

  val logPath: Path = new Path(tablePath, FileNames.LogDirName)

  @volatile private var cached: Option[Snapshot] = None

  // ---- reading ----

  /** The latest version, or -1 when the table has no commit. Lists the log. */
  def latestVersion(): Long = {
    val commits = io("listing")(store.list(logPath)).flatMap(s => FileNames.parse(s.name)).collect {
      case FileNames.Commit(v) => v
    }
    if (commits.isEmpty) -1L else commits.max
  }

  def tableExists(): Boolean = latestVersion() >= 0

  /** The latest snapshot; `NEEDLE_TABLE_NOT_FOUND` when the table has no commit. Reads only the
    * commits after the cached snapshot. */
  def snapshot(): Snapshot = synchronized {
    val s = cached match {
      case Some(c) => update(c)
      case None => load(None)
    }
    cached = Some(s)
    s
  }

  /** The snapshot at `version` (time travel); `NEEDLE_VERSION_NOT_FOUND` outside the versions
    * the log holds. */
  def snapshotAt(version: Long): Snapshot = {
    cached.filter(_.version == version).getOrElse(load(Some(version)))
  }

  /** The latest snapshot, or None when the table does not exist yet. */
  def snapshotOption(): Option[Snapshot] =
    try Some(snapshot())
    catch { case e: NeedleException if e.errorId == ErrorId.TableNotFound => None }

  /** The actions of one commit, None when that version does not exist. */
  def readCommit(version: Long): Option[Seq[Action]] = {
    val file = FileNames.commitFile(logPath, version)
    val lines =
      try Some(io("reading")(store.read(file)))
      catch { case _: FileNotFoundException => None }
    lines.map(parse(file, _))
  }

  /** `commit_info` of every version from `from` up (newest last); versions without one are
    * left out. */
  def history(from: Long = 0L): Seq[(Long, CommitInfo)] = {
    val versions = io("listing")(store.list(logPath)).flatMap(s => FileNames.parse(s.name)).collect {
      case FileNames.Commit(v) if v >= from => v
    }.sorted
    versions.flatMap { v =>
      readCommit(v).toSeq.flatMap(_.collectFirst { case c: CommitInfo => v -> c })
    }
  }

  // ---- writing ----

  /** A transaction reading the latest snapshot (none when the table does not exist yet: its
    * first commit must hold the metadata). Fails when this implementation may not write the
    * table's protocol. */
  def startTransaction(): OptimisticTransaction = {
    val snap = snapshotOption()
    snap.foreach(s => NeedleLog.checkWriterProtocol(tablePath, s.protocol))
    new OptimisticTransaction(this, snap)
  }

  /** Called by a transaction that committed `version` with `actions`: advances the cached
    * snapshot and writes a checkpoint when one is due. Never fails: the commit has happened. */
  private[log] def postCommit(version: Long, actions: Seq[Action], commitTime: Long): Unit =
    try {
      val advanced: Option[Snapshot] = synchronized {
        val next = cached.filter(_.version == version - 1).map { prev =>
          val st = ReplayState.of(prev)
          actions.foreach(st.apply)
          freeze(st, version, commitTime, FileNames.commitFile(logPath, version))
        }
        next.foreach(s => cached = Some(s))
        next
      }
      // After a retried commit the cache is older: catch up (reads only the new commits).
      val latest = advanced.getOrElse(snapshot())
      val interval = options.checkpointInterval.getOrElse(
        ConfResolver.forTable(latest.metadata.configuration).get(NeedleConf.LogCheckpointInterval))
      if (interval > 0 && version > 0 && version % interval == 0) {
        checkpoint(if (latest.version == version) latest else snapshotAt(version))
      }
    } catch {
      case NonFatal(e) =>
        log.warn(s"Committed version $version of $tablePath, but could not write its checkpoint " +
          s"or refresh the cached snapshot; readers replay commits instead: $e")
    }

  /** Writes a checkpoint of `snapshot` and points `_last_checkpoint` at it unless it already
    * names a newer one. */
  def checkpoint(snapshot: Snapshot): Unit = {
    val actions: Seq[Action] =
      Seq(snapshot.protocol, snapshot.metadata) ++ snapshot.files ++ snapshot.tombstones
    val file = FileNames.checkpointFile(logPath, snapshot.version)
    io("writing a checkpoint of")(
      store.write(file, actions.iterator.map(ActionCodec.toJson), overwrite = true))
    val existing = readLastCheckpoint()
    if (existing.forall(_.version < snapshot.version)) {
      val hint = LastCheckpoint(snapshot.version, actions.size.toLong, snapshot.numFiles.toLong)
      io("writing _last_checkpoint of")(
        store.write(FileNames.lastCheckpointFile(logPath), Iterator(hint.toJson), overwrite = true))
    }
  }

  // ---- snapshot reconstruction ----

  private def update(c: Snapshot): Snapshot = {
    // List from the cached version itself: if its commit is gone, the table was deleted (and
    // maybe recreated) under this handle, and everything is read again.
    val listed = io("listing")(store.listFrom(logPath, FileNames.commitName(c.version)))
      .flatMap(s => FileNames.parse(s.name).map(_ -> s)).collect {
        case (FileNames.Commit(v), s) if v >= c.version => v -> s
      }.sortBy(_._1)
    if (!listed.headOption.exists(_._1 == c.version)) return load(None)
    val newer = listed.tail
    if (newer.isEmpty) c
    else {
      checkContiguous(newer.map(_._1), c.version + 1)
      val st = ReplayState.of(c)
      var last: (Long, Long) = (c.version, c.timestamp)
      newer.foreach { case (v, status) =>
        val actions = parse(status.path, io("reading")(store.read(status.path)))
        actions.foreach(st.apply)
        last = (v, commitTimestamp(actions, status.modificationTime))
      }
      val file = FileNames.commitFile(logPath, last._1)
      val s = freeze(st, last._1, last._2, file)
      NeedleLog.checkReaderProtocol(tablePath, s.protocol)
      s
    }
  }

  /** Builds the snapshot at `target` (latest when None) from the newest usable checkpoint at or
    * before it, or from version 0. `useHint`: start listing at `_last_checkpoint`'s version
    * (the hint is always used to check a checkpoint's action count). */
  private def load(target: Option[Long], useHint: Boolean = true): Snapshot = {
    val lastCheckpoint = readLastCheckpoint()
    val startHint = lastCheckpoint.filter(h => useHint && target.forall(_ >= h.version))
    val listing = startHint match {
      case Some(h) =>
        val from = io("listing")(store.listFrom(logPath, FileNames.checkpointName(h.version)))
        // The hint's checkpoint must be in the listing, else list everything.
        if (from.exists(_.name == FileNames.checkpointName(h.version))) from
        else io("listing")(store.list(logPath))
      case None => io("listing")(store.list(logPath))
    }
    val parsed = listing.flatMap(s => FileNames.parse(s.name).map(_ -> s))
    val commits = parsed.collect { case (FileNames.Commit(v), s) => v -> s }.toMap
    val checkpoints = parsed.collect { case (FileNames.Checkpoint(v), s) => v -> s }.toMap
    val partialListing = startHint.isDefined
    if (commits.isEmpty) {
      if (partialListing) return load(target, useHint = false)
      throw NeedleErrors.error(ErrorId.TableNotFound, "table" -> tablePath, "logPath" -> logPath)
    }
    val latest = commits.keys.max
    // Commits runStart..latest all exist. Older versions are rebuilt only through a checkpoint
    // at runStart-1 or later (commits before a gap are useless without one).
    var runStart = latest
    while (runStart > 0 && commits.contains(runStart - 1)) runStart -= 1
    val usable = checkpoints.keys.filter(cv => cv >= runStart - 1 && cv <= latest).toSeq
    val earliest =
      if (runStart == 0) 0L
      else if (usable.nonEmpty) usable.min
      else if (partialListing) return load(target, useHint = false)
      else {
        throw NeedleErrors.error(
          ErrorId.LogCorrupt,
          "table" -> tablePath,
          "detail" -> s"version ${runStart - 1} is missing while versions up to $latest exist",
          "file" -> FileNames.commitFile(logPath, runStart - 1))
      }
    val version = target.getOrElse(latest)
    if (version < earliest || version > latest) {
      throw NeedleErrors.error(
        ErrorId.VersionNotFound,
        "table" -> tablePath,
        "version" -> version,
        "earliest" -> earliest,
        "latest" -> latest)
    }

    // Newest readable checkpoint at or before `version`; a bad one falls back to an older one,
    // and finally to replay from version 0 when all commits are there.
    val candidates = usable.filter(_ <= version).sorted.reverse
    var base: Option[(Long, ReplayState)] = None
    val it = candidates.iterator
    while (base.isEmpty && it.hasNext) {
      val cv = it.next()
      val expected = lastCheckpoint.filter(_.version == cv).map(_.numActions)
      base = readCheckpoint(cv, expected).map(cv -> _)
    }
    if (base.isEmpty && runStart > 0) {
      if (partialListing) return load(target, useHint = false)
      throw NeedleErrors.error(
        ErrorId.LogCorrupt,
        "table" -> tablePath,
        "detail" -> (s"no readable checkpoint covers version $version, and versions before " +
          s"$runStart are missing"),
        "file" -> logPath)
    }
    val (start, state) = base.getOrElse((-1L, ReplayState.empty))
    var timestamp = base.map { case (cv, _) => checkpoints(cv).modificationTime }.getOrElse(0L)
    ((start + 1) to version).foreach { v =>
      val status = commits(v)
      val actions = parse(status.path, io("reading")(store.read(status.path)))
      actions.foreach(state.apply)
      timestamp = commitTimestamp(actions, status.modificationTime)
    }
    val s = freeze(state, version, timestamp, FileNames.commitFile(logPath, version))
    NeedleLog.checkReaderProtocol(tablePath, s.protocol)
    s
  }

  private def checkContiguous(versions: Seq[Long], from: Long): Unit =
    versions.zipWithIndex.find { case (v, i) => v != from + i }.foreach { case (_, i) =>
      throw NeedleErrors.error(
        ErrorId.LogCorrupt,
        "table" -> tablePath,
        "detail" -> s"version ${from + i} is missing while versions up to ${versions.last} exist",
        "file" -> FileNames.commitFile(logPath, from + i))
    }

  private def commitTimestamp(actions: Seq[Action], fileTime: Long): Long =
    actions.collectFirst { case c: CommitInfo => c.timestamp }.getOrElse(fileTime)

  private def freeze(st: ReplayState, version: Long, timestamp: Long, file: Path): Snapshot = {
    def corrupt(what: String) = NeedleErrors.error(
      ErrorId.LogCorrupt,
      "table" -> tablePath,
      "detail" -> s"no $what action at or before version $version",
      "file" -> file)
    val protocol = st.protocol.getOrElse(throw corrupt("protocol"))
    val metadata = st.metadata.getOrElse(throw corrupt("metadata"))
    new Snapshot(tablePath, version, protocol, metadata, st.live, st.tombstones, timestamp)
  }

  /** The state stored in a checkpoint; None when it is unreadable or incomplete (the caller
    * falls back to an older checkpoint or to replay). */
  private def readCheckpoint(version: Long, expectedActions: Option[Long]): Option[ReplayState] = {
    val file = FileNames.checkpointFile(logPath, version)
    try {
      val actions = parse(file, store.read(file))
      if (expectedActions.exists(_ != actions.size.toLong)) {
        log.warn(s"Ignoring checkpoint $file: ${actions.size} actions, _last_checkpoint says " +
          s"${expectedActions.get}")
        None
      } else {
        val st = ReplayState.empty
        actions.foreach(st.apply)
        if (st.protocol.isEmpty || st.metadata.isEmpty) {
          log.warn(s"Ignoring checkpoint $file: no protocol or metadata")
          None
        } else Some(st)
      }
    } catch {
      case e @ (_: IOException | _: NeedleException) =>
        log.warn(s"Ignoring unreadable checkpoint $file: ${e.getMessage}")
        None
    }
  }

  private def readLastCheckpoint(): Option[LastCheckpoint] = {
    val file = FileNames.lastCheckpointFile(logPath)
    try LastCheckpoint.fromJson(store.read(file).mkString("\n"))
    catch {
      case _: FileNotFoundException => None
      case NonFatal(e) =>
        log.warn(s"Ignoring unreadable $file: $e")
        None
    }
  }

  private[log] def parse(file: Path, lines: Seq[String]): Seq[Action] =
    lines.iterator.zipWithIndex.filter(_._1.trim.nonEmpty).map { case (line, i) =>
      try ActionCodec.fromJson(line)
      catch {
        case e: MalformedLogException =>
          throw NeedleErrors.error(
            ErrorId.LogCorrupt,
            e,
            "table" -> tablePath,
            "detail" -> s"line ${i + 1}: ${e.detail}",
            "file" -> file)
      }
    }.toVector

  /** Runs a store operation; I/O errors become `NEEDLE_LOG_IO` (not-found passes through). */
  private[log] def io[T](action: String)(body: => T): T =
    try body
    catch {
      case e: FileNotFoundException => throw e
      case e: java.nio.file.FileAlreadyExistsException => throw e
      case e: IOException =>
        throw NeedleErrors.error(
          ErrorId.LogIo,
          e,
          "action" -> action,
          "table" -> tablePath,
          "cause" -> e.toString)
    }
}

object NeedleLog {
  private val log = LoggerFactory.getLogger(classOf[NeedleLog])

  /** The log of the table at `tablePath` (the table's folder, not `_needle_log`). The table
    * need not exist yet. */
  def forTable(tablePath: String, hadoopConf: Configuration): NeedleLog =
    forTable(new Path(tablePath), hadoopConf)

  def forTable(
      tablePath: Path,
      hadoopConf: Configuration,
      options: LogOptions = LogOptions(),
      store: Option[LogStore] = None): NeedleLog = {
    val fs = tablePath.getFileSystem(hadoopConf)
    // Path(String) drops a trailing slash (a folder's URI has one).
    val qualified = new Path(fs.makeQualified(tablePath).toString)
    val logStore =
      store.getOrElse(LogStore.forPath(new Path(qualified, FileNames.LogDirName), hadoopConf))
    new NeedleLog(qualified, logStore, options)
  }

  private[log] def checkReaderProtocol(table: Path, p: Protocol): Unit = {
    val unsupported = p.readerFeatures -- Protocol.SupportedReaderFeatures
    if (p.minReaderVersion > Protocol.ReaderVersion || unsupported.nonEmpty) {
      throw NeedleErrors.error(
        ErrorId.UnsupportedReaderProtocol,
        "engineVersion" -> NeedleVersion.engineVersion,
        "table" -> table,
        "requiredVersion" -> p.minReaderVersion,
        "requiredFeatures" -> p.readerFeatures.toSeq.sorted.mkString(", "),
        "supportedVersion" -> Protocol.ReaderVersion,
        "supportedFeatures" -> Protocol.SupportedReaderFeatures.toSeq.sorted.mkString(", "))
    }
  }

  private[log] def checkWriterProtocol(table: Path, p: Protocol): Unit = {
    checkReaderProtocol(table, p)
    val unsupported = p.writerFeatures -- Protocol.SupportedWriterFeatures
    if (p.minWriterVersion > Protocol.WriterVersion || unsupported.nonEmpty) {
      throw NeedleErrors.error(
        ErrorId.UnsupportedWriterProtocol,
        "engineVersion" -> NeedleVersion.engineVersion,
        "table" -> table,
        "requiredVersion" -> p.minWriterVersion,
        "requiredFeatures" -> p.writerFeatures.toSeq.sorted.mkString(", "),
        "supportedVersion" -> Protocol.WriterVersion,
        "supportedFeatures" -> Protocol.SupportedWriterFeatures.toSeq.sorted.mkString(", "))
    }
  }
}

/** `_last_checkpoint`: a hint naming the newest checkpoint. */
final case class LastCheckpoint(version: Long, numActions: Long, numFiles: Long) {
  def toJson: String = s"""{"version":$version,"num_actions":$numActions,"num_files":$numFiles}"""
}

object LastCheckpoint {
  def fromJson(text: String): Option[LastCheckpoint] = {
    val node = ActionCodec.mapper.readTree(text)
    if (node == null || !node.isObject) None
    else {
      def long(name: String): Option[Long] =
        Option(node.get(name)).filter(n => n.isIntegralNumber && n.canConvertToLong).map(_.asLong())
      for (v <- long("version"); n <- long("num_actions")) yield
        LastCheckpoint(v, n, long("num_files").getOrElse(-1L))
    }
  }
}
