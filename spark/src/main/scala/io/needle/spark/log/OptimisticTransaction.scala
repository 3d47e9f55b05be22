package io.needle.spark.log

import java.io.{FileNotFoundException, IOException}
import java.nio.file.FileAlreadyExistsException
import java.util.UUID

import scala.collection.mutable

import org.slf4j.LoggerFactory

import io.needle.spark.NeedleVersion
import io.needle.spark.conf.{ConfResolver, NeedleConf}
import io.needle.spark.errors.{ErrorId, NeedleErrors, NeedleException}

/** One optimistic transaction on a table (docs/format/transaction-log.md, "Committing"). It
  * reads a snapshot, records what it read, and commits once: if other writers committed first,
  * it checks their commits for conflicts and takes the next free version. Thread-safe; commit
  * at most once. */
final class OptimisticTransaction private[log] (
    val log: NeedleLog,
    /** The snapshot read; None when the table did not exist (this transaction creates it). */
    val snapshot: Option[Snapshot]) {
  import OptimisticTransaction._

  /** The version read, -1 when creating the table. */
  val readVersion: Long = snapshot.map(_.version).getOrElse(-1L)

  /** Written into `commit_info.txn_id`. */
  val txnId: String = UUID.randomUUID().toString

  def metadata: Option[Metadata] = snapshot.map(_.metadata)
  def protocol: Option[Protocol] = snapshot.map(_.protocol)

  private val readPaths = mutable.HashSet.empty[String]
  private var readAll = false
  private var committed = false

  /** Records that the result of this transaction depends on the contents of `files` (e.g. the
    * files a DELETE scanned). A concurrent commit that changes any of them makes this one fail
    * with `NEEDLE_CONCURRENT_DELETE_READ`. */
  def readFiles(files: Iterable[AddFile]): Unit = synchronized {
    files.foreach(f => readPaths += f.path)
  }

  /** Records that the result depends on the whole table as of [[readVersion]] (an overwrite). */
  def readWholeTable(): Unit = synchronized { readAll = true }

  /** Commits `actions` (protocol, metadata, add and remove; `commit_info` is written by the
    * transaction) and returns the version committed. Fails with a
    * `NeedleConcurrentModificationException` when a concurrent commit conflicts, and with
    * `NEEDLE_INVALID_COMMIT` when the actions are not a valid commit. */
  def commit(
      actions: Seq[Action],
      operation: String,
      operationParameters: Map[String, String] = Map.empty): Long = {
    val (reads, wholeTable) = synchronized {
      if (committed) throw new IllegalStateException("this transaction has already committed")
      committed = true
      (readPaths.toSet, readAll)
    }
    val prepared = prepare(actions)
    val blindAppend = reads.isEmpty && !wholeTable && prepared.removes.isEmpty &&
      prepared.protocol.isEmpty && prepared.metadata.isEmpty && readVersion >= 0
    val commitTime = System.currentTimeMillis()
    val info = CommitInfo(
      timestamp = commitTime,
      operation = operation,
      operationParameters = operationParameters,
      user = Option(System.getProperty("user.name")),
      engineVersion = NeedleVersion.engineVersion,
      readVersion = Some(readVersion).filter(_ >= 0),
      isBlindAppend = Some(blindAppend),
      txnId = Some(txnId))
    val all: Seq[Action] = info +: prepared.ordered
    val lines = all.map(ActionCodec.toJson)

    val checker = new ConflictChecker(this, reads, wholeTable, prepared)
    val maxAttempts = log.options.maxCommitAttempts.getOrElse(
      ConfResolver.forTable(prepared.effectiveMetadata.configuration)
        .get(NeedleConf.LogMaxCommitAttempts))
    var version = readVersion + 1
    var attempt = 1
    while (true) {
      if (tryWrite(version, lines)) {
        log.postCommit(version, all, commitTime)
        if (attempt > 1) {
          logger.info(s"Committed version $version of ${log.tablePath} after $attempt attempts")
        }
        return version
      }
      // Lost the race for `version`: check every commit that won since, then try after them.
      var next = version
      var winner = log.readCommit(next)
      if (winner.exists(isOurs)) {
        // The store reported "exists" for our own write (e.g. a retried request on NFS).
        log.postCommit(version, all, commitTime)
        return version
      }
      while (winner.isDefined) {
        checker.check(next, winner.get)
        next += 1
        winner = log.readCommit(next)
      }
      if (attempt >= maxAttempts) {
        throw NeedleErrors.conflict(
          ErrorId.CommitRetriesExhausted,
          "table" -> log.tablePath,
          "attempts" -> attempt,
          "version" -> version)
      }
      version = math.max(next, version + 1)
      attempt += 1
      if (attempt > 3) Thread.sleep(math.min(100L, (attempt - 3) * 5L))
    }
    throw new IllegalStateException("unreachable")
  }

  /** Writes the commit file of `version`; false when it already exists. When the outcome is
    * unknown (an I/O error after the write may have happened), looks for this transaction's
    * `txn_id` in the file before failing. */
  private def tryWrite(version: Long, lines: Seq[String]): Boolean = {
    val file = FileNames.commitFile(log.logPath, version)
    try {
      log.store.write(file, lines.iterator, overwrite = false)
      true
    } catch {
      case _: FileAlreadyExistsException => false
      case e: IOException =>
        val landed =
          try log.readCommit(version).exists(isOurs)
          catch { case _: IOException | _: NeedleException => false }
        if (landed) true
        else {
          throw NeedleErrors.error(
            ErrorId.LogIo,
            e,
            "action" -> s"committing version $version to",
            "table" -> log.tablePath,
            "cause" -> e.toString)
        }
    }
  }

  /** Whether a commit's actions are this transaction's (its `commit_info.txn_id`). */
  private def isOurs(actions: Seq[Action]): Boolean = actions.exists {
    case c: CommitInfo => c.txnId.contains(txnId)
    case _ => false
  }

  /** Checks the actions and puts them in commit order. */
  private def prepare(actions: Seq[Action]): Prepared = {
    def invalid(detail: String) =
      NeedleErrors.error(ErrorId.InvalidCommit, "table" -> log.tablePath, "detail" -> detail)

    val protocols = actions.collect { case p: Protocol => p }
    val metadatas = actions.collect { case m: Metadata => m }
    val adds = actions.collect { case a: AddFile => a }
    val removes = actions.collect { case r: RemoveFile => r }
    actions.foreach {
      case _: CommitInfo => throw invalid("commit_info is written by the transaction, not passed in")
      case u: UnknownAction => throw invalid(s"action type '${u.actionType}' is not one this writer knows")
      case _ => ()
    }
    if (protocols.size > 1) throw invalid("more than one protocol action")
    if (metadatas.size > 1) throw invalid("more than one metadata action")

    val protocol = protocols.headOption.orElse(
      if (readVersion < 0) Some(Protocol.initial) else None)
    protocol.foreach(p => NeedleLog.checkWriterProtocol(log.tablePath, p))
    if (readVersion < 0 && metadatas.isEmpty) {
      throw invalid("the first commit of a table must hold its metadata")
    }
    val effective = metadatas.headOption.orElse(metadata).get
    metadatas.headOption.foreach { m =>
      if (m.id.isEmpty) throw invalid("metadata.id is empty")
      metadata.foreach { old =>
        if (old.id != m.id) throw invalid(s"metadata.id changes from ${old.id} to ${m.id}")
      }
      if (m.partitionColumns.distinct.size != m.partitionColumns.size) {
        throw invalid(s"partition columns repeat: ${m.partitionColumns.mkString(", ")}")
      }
      m.sparkSchemaJson.flatMap(topLevelColumns).foreach { columns =>
        val unknown = m.partitionColumns.filterNot(columns.contains)
        if (unknown.nonEmpty) {
          throw invalid(s"partition columns [${unknown.mkString(", ")}] are not columns of the " +
            s"table [${columns.mkString(", ")}]")
        }
      }
      checkJsonObject(m.schemaJson).foreach(e => throw invalid(s"metadata.schema: $e"))
      m.sparkSchemaJson.flatMap(checkJsonObject).foreach(e => throw invalid(s"metadata.spark_schema: $e"))
    }

    val seen = mutable.HashSet.empty[String]
    (adds.map(_.path) ++ removes.map(_.path)).foreach { p =>
      if (!seen.add(p)) throw invalid(s"the path $p appears in more than one add or remove")
    }
    val partitionColumns = effective.partitionColumns.toSet
    adds.foreach { a =>
      pathProblem(a.path).foreach(e => throw invalid(s"add of '${a.path}': $e"))
      if (a.partitionValues.keySet != partitionColumns) {
        throw invalid(s"add of ${a.path} has partition values for " +
          s"[${a.partitionValues.keys.toSeq.sorted.mkString(", ")}] but the table is partitioned by " +
          s"[${effective.partitionColumns.mkString(", ")}]")
      }
      if (a.size < 0 || a.numRecords < 0) throw invalid(s"add of ${a.path} has a negative size or count")
      if (a.footerOffset < 0 || a.footerLength <= 0 || a.footerOffset + a.footerLength > a.size) {
        throw invalid(s"add of ${a.path}: footer [${a.footerOffset}, +${a.footerLength}) is not " +
          s"inside the file's ${a.size} bytes")
      }
    }
    removes.foreach { r =>
      if (!snapshot.exists(_.file(r.path).isDefined)) {
        throw invalid(s"remove of ${r.path}, which is not part of the table at version $readVersion")
      }
    }
    Prepared(
      protocol = protocols.headOption.orElse(protocol.filter(_ => readVersion < 0)),
      metadata = metadatas.headOption,
      removes = removes,
      adds = adds,
      effectiveMetadata = effective)
  }
}

private[log] object OptimisticTransaction {
  private val logger = LoggerFactory.getLogger(classOf[OptimisticTransaction])

  /** A commit's actions, checked, with what conflict detection needs. */
  final case class Prepared(
      protocol: Option[Protocol],
      metadata: Option[Metadata],
      removes: Seq[RemoveFile],
      adds: Seq[AddFile],
      effectiveMetadata: Metadata) {
    lazy val removedPaths: Set[String] = removes.map(_.path).toSet
    lazy val addedPaths: Set[String] = adds.map(_.path).toSet
    def ordered: Seq[Action] = protocol.toSeq ++ metadata.toSeq ++ removes ++ adds
  }

  /** Why `path` is not a valid `path` member, if it is not. */
  def pathProblem(path: String): Option[String] =
    if (path.isEmpty) Some("empty path")
    else if (path.contains("://")) None // an absolute URI
    else if (path.startsWith("/")) Some("relative paths must not start with '/'")
    else if (path.split("/", -1).exists(s => s.isEmpty || s == "." || s == "..")) {
      Some("empty, '.' or '..' path segment")
    } else None

  /** The top-level column names of a Spark `StructType` JSON, if it parses as one. */
  private def topLevelColumns(sparkSchemaJson: String): Option[Seq[String]] =
    scala.util.Try {
      val fields = ActionCodec.mapper.readTree(sparkSchemaJson).get("fields")
      (0 until fields.size()).map(i => fields.get(i).get("name").asText())
    }.toOption

  private def checkJsonObject(json: String): Option[String] =
    try {
      val n = ActionCodec.mapper.readTree(json)
      if (n == null || !n.isObject) Some("not a JSON object") else None
    } catch { case e: Exception => Some(s"not valid JSON (${e.getMessage})") }
}

/** The conflict rules of docs/format/transaction-log.md, for one losing transaction. */
private[log] final class ConflictChecker(
    txn: OptimisticTransaction,
    readPaths: Set[String],
    readWholeTable: Boolean,
    mine: OptimisticTransaction.Prepared) {

  /** Throws a `NeedleConcurrentModificationException` when the winning commit `version`
    * (`actions`) conflicts. */
  def check(version: Long, actions: Seq[Action]): Unit = {
    val operation = actions.collectFirst { case c: CommitInfo => c.operation }.getOrElse("unknown operation")
    def conflict(id: ErrorId, extra: (String, Any)*) =
      NeedleErrors.conflict(
        id,
        (Seq[(String, Any)](
          "table" -> txn.log.tablePath,
          "readVersion" -> txn.readVersion,
          "winningVersion" -> version,
          "winningOperation" -> operation) ++ extra): _*)
    val readAtStart: String => Boolean = p =>
      readPaths.contains(p) || (readWholeTable && txn.snapshot.exists(_.file(p).isDefined))
    actions.foreach {
      case _: Metadata | _: Protocol if txn.readVersion < 0 =>
        throw conflict(ErrorId.ConcurrentTableCreate)
      case _: Protocol => throw conflict(ErrorId.ConcurrentProtocolChange)
      case _: Metadata => throw conflict(ErrorId.ConcurrentMetadataChange)
      case r: RemoveFile if mine.removedPaths.contains(r.path) =>
        throw conflict(ErrorId.ConcurrentDeleteDelete, "path" -> r.path)
      case r: RemoveFile if r.dataChange && readAtStart(r.path) =>
        throw conflict(ErrorId.ConcurrentDeleteRead, "path" -> r.path)
      case a: AddFile if mine.addedPaths.contains(a.path) =>
        throw conflict(ErrorId.ConcurrentAddAdd, "path" -> a.path)
      case _ => ()
    }
  }
}
