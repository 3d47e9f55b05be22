package io.needle.spark.log

import java.io.IOException
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.Files

import scala.jdk.CollectionConverters._

import org.apache.hadoop.fs.Path
import org.scalatest.funsuite.AnyFunSuite

import io.needle.spark.NeedleVersion
import io.needle.spark.errors.ErrorId

class NeedleLogSuite extends AnyFunSuite with LogTestSupport {

  test("a folder without commits is not a table") {
    val log = newLog()
    assert(log.latestVersion() == -1 && !log.tableExists() && log.snapshotOption().isEmpty)
    val e = assertError(ErrorId.TableNotFound)(log.snapshot())
    assert(e.getMessage.contains(tablePath.toString) && e.sqlState == "42P01")
    assert(e.getMessage.startsWith("[NEEDLE_TABLE_NOT_FOUND] "))
  }

  test("round trip: create, append, remove; every version's snapshot is what its commits say") {
    val log = newLog()
    val a = addFile("a", Map("day" -> Some("2024-05-01")))
    val b = addFile("b", Map("day" -> None))
    val c = addFile("c", Map("day" -> Some("2024-05-02")))
    val meta = metadata(partitionColumns = Seq("day"))
    assert(log.startTransaction().commit(Seq(meta, a), "CREATE TABLE") == 0)
    assert(log.startTransaction().commit(Seq(b, c), "WRITE") == 1)
    assert(log.startTransaction().commit(Seq(a.remove(123L)), "DELETE") == 2)
    val replaced = c.copy(numRecords = 9)
    assert(log.startTransaction().commit(Seq(replaced, b.remove(124L, dataChange = false)), "OPTIMIZE") == 3)

    val fresh = newLog() // no cache: everything from the files
    for (l <- Seq(log, fresh)) {
      assert(l.snapshotAt(0).files == Seq(a))
      assert(l.snapshotAt(1).files == Seq(a, b, c))
      assert(l.snapshotAt(2).files == Seq(b, c))
      assert(l.snapshotAt(2).tombstones.map(_.path) == Seq("a.split"))
      val s3 = l.snapshot()
      assert(s3.version == 3 && s3.files == Seq(replaced))
      assert(s3.tombstones.map(_.path) == Seq("a.split", "b.split"))
      assert(s3.metadata == meta && s3.protocol == Protocol.initial)
      assert(s3.numRecords == 9 && s3.sizeInBytes == 4096 && s3.numFiles == 1)
      assert(s3.absolutePath("c.split") == new Path(tablePath, "c.split"))
    }
  }

  test("commit files: commit_info first, then protocol and metadata, then removes and adds") {
    val log = createTable()
    append(log, addFile("a"))
    val v0 = readLogFile(FileNames.commitName(0)).map(ActionCodec.fromJson)
    assert(v0.map(_.getClass.getSimpleName) == Seq("CommitInfo", "Protocol", "Metadata"))
    val info0 = v0.head.asInstanceOf[CommitInfo]
    assert(info0.operation == "CREATE TABLE" && info0.readVersion.isEmpty)
    assert(info0.engineVersion == NeedleVersion.engineVersion && info0.engineVersion.startsWith("needle 0."))
    assert(info0.isBlindAppend.contains(false) && info0.txnId.isDefined)
    val info1 = readLogFile(FileNames.commitName(1)).map(ActionCodec.fromJson).head.asInstanceOf[CommitInfo]
    assert(info1.readVersion.contains(0) && info1.isBlindAppend.contains(true))
    assert(info1.operationParameters == Map("mode" -> "Append"))
    assert(log.history().map { case (v, c) => v -> c.operation } == Seq(0L -> "CREATE TABLE", 1L -> "WRITE"))
  }

  test("time travel outside the log's versions is NEEDLE_VERSION_NOT_FOUND") {
    val log = createTable()
    append(log, addFile("a"))
    for (v <- Seq(-1L, 2L, 100L)) {
      val e = assertError(ErrorId.VersionNotFound)(log.snapshotAt(v))
      assert(e.getMessage.contains("versions that can be read are 0 to 1"))
    }
  }

  test("readers ignore unknown members and unknown action types") {
    writeLogFile(FileNames.commitName(0),
      """{"commit_info":{"timestamp":5,"operation":"CREATE TABLE","engine_version":"needle 9.0","future":1}}""",
      """{"protocol":{"min_reader_version":1,"min_writer_version":1,"reader_features":[],"writer_features":[],"note":"x"}}""",
      """{"metadata":{"id":"t1","schema":{"fields":[]},"partition_columns":[],"configuration":{},"created_time":1,"owner":{"team":"sec"}}}""",
      "",
      """{"domain_metadata":{"domain":"x","configuration":"{}"}}""",
      """{"add":{"path":"a.split","size":10,"num_records":1,"footer_offset":2,"footer_length":3,"modification_time":4,"data_change":true,"deletion_vector":null,"clustering":["x"]}}""")
    writeLogFile(FileNames.commitName(1),
      """{"txn":{"app_id":"stream","version":3}}""",
      """{"remove":{"path":"a.split","deletion_timestamp":6,"data_change":true,"extended":true}}""",
      """{"add":{"path":"b.split","size":10,"num_records":1,"footer_offset":2,"footer_length":3,"modification_time":4,"data_change":true}}""")
    val log = newLog()
    assert(paths(log.snapshotAt(0)) == Set("a.split"))
    val s = log.snapshot()
    assert(s.version == 1 && paths(s) == Set("b.split") && s.metadata.id == "t1")
    assert(s.timestamp > 0)
    // And such a table can still be written by this implementation.
    assert(append(log, addFile("c")) == 2)
  }

  test("a reader feature this needle does not implement stops readers and writers") {
    writeLogFile(FileNames.commitName(0),
      """{"protocol":{"min_reader_version":1,"min_writer_version":1,"reader_features":["vectors"],"writer_features":["vectors"]}}""",
      """{"metadata":{"id":"t1","schema":{"fields":[]}}}""")
    val e = assertError(ErrorId.UnsupportedReaderProtocol)(newLog().snapshot())
    assert(e.getMessage.contains("features [vectors]") && e.getMessage.contains("Upgrade needle"))
    assertError(ErrorId.UnsupportedReaderProtocol)(newLog().startTransaction())
  }

  test("a higher reader version stops readers") {
    writeLogFile(FileNames.commitName(0),
      """{"protocol":{"min_reader_version":2,"min_writer_version":2}}""",
      """{"metadata":{"id":"t1","schema":{"fields":[]}}}""")
    assertError(ErrorId.UnsupportedReaderProtocol)(newLog().snapshotAt(0))
  }

  test("a writer feature this needle does not implement stops writers only") {
    val log = createTable(files = Seq(addFile("a")))
    log.startTransaction().commit(Seq(Protocol(1, 1, Set.empty, Set.empty)), "UPGRADE")
    writeLogFile(FileNames.commitName(2),
      """{"protocol":{"min_reader_version":1,"min_writer_version":1,"writer_features":["appendOnly"]}}""")
    val fresh = newLog()
    assert(paths(fresh.snapshot()) == Set("a.split"))
    val e = assertError(ErrorId.UnsupportedWriterProtocol)(fresh.startTransaction())
    assert(e.getMessage.contains("cannot write table") && e.getMessage.contains("[appendOnly]"))
    // A writer may not put an unsupported protocol in place either.
    assertError(ErrorId.UnsupportedWriterProtocol) {
      val l = NeedleLog.forTable(new Path(tableDir.resolve("other").toUri), hadoopConf)
      l.startTransaction().commit(Seq(metadata(), Protocol(1, 2)), "CREATE TABLE")
    }
  }

  test("a line that is not JSON is NEEDLE_LOG_CORRUPT naming the file and line") {
    val log = createTable()
    writeLogFile(FileNames.commitName(1), """{"add":{"path":"a.split",""")
    val e = assertError(ErrorId.LogCorrupt)(newLog().snapshot())
    assert(e.getMessage.contains("line 1: not valid JSON"))
    assert(e.getMessage.contains(FileNames.commitName(1)))
    assert(e.sqlState == "XX001")
    assertError(ErrorId.LogCorrupt)(log.snapshot()) // the cached handle too
    assert(newLog().snapshotAt(0).version == 0) // earlier versions stay readable
  }

  test("a missing version between existing ones is NEEDLE_LOG_CORRUPT") {
    val log = createTable()
    append(log, addFile("a"))
    append(log, addFile("b"))
    Files.delete(logDir.resolve(FileNames.commitName(1)))
    val e = assertError(ErrorId.LogCorrupt)(newLog().snapshot())
    assert(e.getMessage.contains("version 1 is missing"))
  }

  test("a half-written commit (temporary file) never becomes visible") {
    val log = createTable()
    append(log, addFile("a"))
    // A writer that died while writing version 2 leaves its temporary file behind.
    writeLogFile(FileNames.tempName(FileNames.commitName(2)),
      """{"commit_info":{"timestamp":1,"operation":"WRITE","engine_version":"x"}}""",
      """{"add":{"path":"ghost.split","size":10,"num""")
    for (l <- Seq(log, newLog())) {
      assert(l.latestVersion() == 1)
      assert(paths(l.snapshot()) == Set("a.split"))
    }
    assert(append(log, addFile("b")) == 2)
    assert(paths(newLog().snapshot()) == Set("a.split", "b.split"))
  }

  test("a commit whose write fails midway is not visible, and the next one takes its version") {
    val log = createTable()
    val failing = new LocalLogStore(hadoopConf) {
      override def write(path: Path, lines: Iterator[String], overwrite: Boolean): Unit =
        super.write(path, lines.take(2) ++ Iterator.continually[String](throw new IOException("disk gone")).take(1), overwrite)
    }
    val broken = newLog(store = Some(failing))
    val e = assertError(ErrorId.LogIo)(broken.startTransaction().commit(Seq(addFile("x")), "WRITE"))
    assert(e.getMessage.contains("disk gone"))
    assert(log.latestVersion() == 0)
    assert(Files.list(logDir).iterator().asScala.map(_.getFileName.toString).toSeq.sorted ==
      Seq(FileNames.commitName(0)))
    assert(append(log, addFile("y")) == 1)
  }

  test("a store that says 'exists' for the transaction's own write: recognized by txn_id") {
    val log = createTable()
    val echoing = new LocalLogStore(hadoopConf) {
      override def write(path: Path, lines: Iterator[String], overwrite: Boolean): Unit = {
        super.write(path, lines, overwrite)
        if (!overwrite) throw new java.nio.file.FileAlreadyExistsException(path.toString)
      }
    }
    val l = newLog(store = Some(echoing))
    assert(l.startTransaction().commit(Seq(addFile("x")), "WRITE") == 1)
    assert(log.latestVersion() == 1 && paths(newLog().snapshot()) == Set("x.split"))
  }

  test("an I/O error after the commit landed is recognized by txn_id and reported as success") {
    val log = createTable()
    val flaky = new LocalLogStore(hadoopConf) {
      override def write(path: Path, lines: Iterator[String], overwrite: Boolean): Unit = {
        super.write(path, lines, overwrite)
        throw new IOException("connection reset after write")
      }
    }
    val l = newLog(store = Some(flaky))
    assert(l.startTransaction().commit(Seq(addFile("x")), "WRITE") == 1)
    assert(paths(newLog().snapshot()) == Set("x.split"))
  }

  test("checkpoints: written every N versions, used by readers, equal to replay") {
    val log = createTable(configuration = Map("needle.log.checkpointInterval" -> "3"))
    val files = (1 to 10).map(i => addFile(s"f$i"))
    files.zipWithIndex.foreach { case (f, i) =>
      if (i % 4 == 3) log.startTransaction().commit(Seq(files(i - 1).remove(7L), f), "REPLACE")
      else append(log, f)
    }
    val names = Files.list(logDir).iterator().asScala.map(_.getFileName.toString).toSet
    assert(Seq(3L, 6L, 9L).forall(v => names(FileNames.checkpointName(v))))
    assert(!names(FileNames.checkpointName(10)))
    assert(LastCheckpoint.fromJson(readLogFile(FileNames.LastCheckpointName).mkString).map(_.version)
      .contains(9L))
    val cp = readLogFile(FileNames.checkpointName(9)).map(ActionCodec.fromJson)
    assert(cp.head.isInstanceOf[Protocol] && cp(1).isInstanceOf[Metadata])
    assert(!cp.exists(_.isInstanceOf[CommitInfo]))

    val expected = (0L to 10L).map(v => v -> log.snapshotAt(v)).toMap
    // Replay alone (all checkpoints removed) gives the same states.
    val copy = Files.createTempDirectory("needle-log-copy")
    try {
      Files.createDirectories(copy.resolve(FileNames.LogDirName))
      Files.list(logDir).iterator().asScala.filter(p => FileNames.parse(p.getFileName.toString).exists(
        _.isInstanceOf[FileNames.Commit])).foreach { p =>
        Files.copy(p, copy.resolve(FileNames.LogDirName).resolve(p.getFileName))
      }
      val replayOnly = NeedleLog.forTable(new Path(copy.toUri), hadoopConf)
      for (v <- 0L to 10L) {
        val a = expected(v)
        val b = replayOnly.snapshotAt(v)
        assert(a.files == b.files && a.tombstones == b.tombstones && a.metadata == b.metadata, s"version $v")
      }
    } finally LogTestSupport.deleteRecursively(copy)
    // A reader whose commits before the checkpoint are gone still rebuilds from it.
    (0 until 9).foreach(v => Files.delete(logDir.resolve(FileNames.commitName(v))))
    val fromCheckpoint = newLog()
    assert(fromCheckpoint.snapshot().files == expected(10L).files)
    assert(fromCheckpoint.snapshotAt(9).files == expected(9L).files)
    val e = assertError(ErrorId.VersionNotFound)(fromCheckpoint.snapshotAt(8))
    assert(e.getMessage.contains("9 to 10"))
  }

  test("a damaged checkpoint or _last_checkpoint is ignored in favour of replay") {
    val log = createTable(configuration = Map("needle.log.checkpointInterval" -> "2"))
    (1 to 5).foreach(i => append(log, addFile(s"f$i")))
    val expected = log.snapshot().files
    // Truncate the newest checkpoint: the action count no longer matches the hint.
    val cp4 = readLogFile(FileNames.checkpointName(4))
    writeLogFile(FileNames.checkpointName(4), cp4.dropRight(1): _*)
    assert(newLog().snapshot().files == expected)
    writeLogFile(FileNames.checkpointName(4), "garbage")
    assert(newLog().snapshot().files == expected)
    writeLogFile(FileNames.LastCheckpointName, "{not json")
    assert(newLog().snapshot().files == expected)
    writeLogFile(FileNames.LastCheckpointName, """{"version":40,"num_actions":3}""") // stale/wrong
    assert(newLog().snapshot().files == expected)
  }

  test("checkpointInterval 0 turns checkpoints off") {
    val log = createTable(configuration = Map("needle.log.checkpointInterval" -> "0"))
    (1 to 12).foreach(i => append(log, addFile(s"f$i")))
    assert(!Files.list(logDir).iterator().asScala.exists(_.getFileName.toString.contains("checkpoint")))
  }

  test("a cached handle picks up commits made through another handle") {
    val a = createTable()
    val b = newLog()
    assert(b.snapshot().version == 0)
    append(a, addFile("x"))
    append(a, addFile("y"))
    val s = b.snapshot()
    assert(s.version == 2 && paths(s) == Set("x.split", "y.split"))
    // Deleting and recreating the table under a cached handle is noticed.
    LogTestSupport.deleteRecursively(logDir)
    createTable(newLog(), files = Seq(addFile("z")))
    assert(paths(b.snapshot()) == Set("z.split"))
  }

  test("invalid commits are refused before anything is written") {
    val log = createTable()
    append(log, addFile("a"))
    def refused(actions: Seq[Action], detail: String): Unit = {
      val e = assertError(ErrorId.InvalidCommit)(log.startTransaction().commit(actions, "WRITE"))
      assert(e.getMessage.contains(detail), e.getMessage)
    }
    refused(Seq(addFile("p", Map("day" -> Some("x")))), "partition values for [day]")
    refused(Seq(addFile("b"), addFile("b")), "appears in more than one")
    refused(Seq(addFile("a").remove(), addFile("a")), "appears in more than one")
    refused(Seq(addFile("nope").remove()), "not part of the table at version 1")
    refused(Seq(CommitInfo(1, "X", engineVersion = "y")), "commit_info is written by the transaction")
    refused(Seq(UnknownAction("txn", "{}")), "action type 'txn'")
    refused(Seq(addFile("a").copy(footerOffset = 4000)), "is not inside the file")
    refused(Seq(addFile("../escape")), "'..' path segment")
    refused(Seq(addFile("x").copy(path = "/abs/x.split")), "must not start with '/'")
    refused(Seq(metadata()), "metadata.id changes")
    refused(Seq(Protocol.initial, Protocol.initial), "more than one protocol")
    refused(Seq(log.snapshot().metadata.copy(schemaJson = "[]")), "metadata.schema: not a JSON object")
    refused(Seq(log.snapshot().metadata.copy(partitionColumns = Seq("day", "nope"))),
      "partition columns [nope] are not columns of the table [body, host, day]")
    refused(Seq(log.snapshot().metadata.copy(partitionColumns = Seq("day", "day"))), "partition columns repeat")
    assert(log.latestVersion() == 1)

    val empty = NeedleLog.forTable(new Path(tableDir.resolve("t2").toUri), hadoopConf)
    val e = assertError(ErrorId.InvalidCommit)(empty.startTransaction().commit(Seq(addFile("a")), "WRITE"))
    assert(e.getMessage.contains("must hold its metadata"))
  }

  test("absolute URIs are accepted as paths") {
    val log = createTable()
    val other = tableDir.resolve("elsewhere.split").toUri.toString
    append(log, addFile("x").copy(path = other))
    val s = newLog().snapshot()
    assert(s.files.map(_.path) == Seq(other))
    assert(s.absolutePath(other).toUri.getPath == tableDir.resolve("elsewhere.split").toString)
  }

  test("table folders with spaces, percent signs and non-ASCII names") {
    val dir = tableDir.resolve("my table %20 ü")
    Files.createDirectories(dir)
    for (table <- Seq(new Path(dir.toUri), new Path(dir.toString))) {
      val log = NeedleLog.forTable(table, hadoopConf)
      if (!log.tableExists()) createTable(log)
      append(log, addFile(s"f${log.latestVersion()}"))
      assert(Files.exists(dir.resolve(FileNames.LogDirName).resolve(FileNames.commitName(log.latestVersion()))))
      assert(NeedleLog.forTable(table.toString, hadoopConf).snapshot().numFiles == log.latestVersion())
    }
  }

  test("a transaction commits once") {
    val log = createTable()
    val txn = log.startTransaction()
    txn.commit(Seq(addFile("a")), "WRITE")
    intercept[IllegalStateException](txn.commit(Seq(addFile("b")), "WRITE"))
  }

  test("metadata changes replace the whole metadata") {
    val log = createTable()
    val m = log.snapshot().metadata
    val changed = m.copy(configuration = Map("needle.write.batchSize" -> "10"), description = Some("d"))
    assert(log.startTransaction().commit(Seq(changed), "SET TBLPROPERTIES") == 1)
    assert(newLog().snapshot().metadata == changed)
    assert(newLog().snapshotAt(0).metadata == m)
    val raw = new String(Files.readAllBytes(logDir.resolve(FileNames.commitName(1))), UTF_8)
    assert(raw.contains("\"needle.write.batchSize\":\"10\""))
  }
}
