package io.needle.spark.log

import java.io.File
import java.nio.file.Files
import java.util.concurrent.{Callable, CyclicBarrier, Executors, TimeUnit}
import java.util.concurrent.atomic.{AtomicBoolean, AtomicReference}

import scala.jdk.CollectionConverters._
import scala.util.Try

import org.apache.hadoop.fs.Path
import org.scalatest.funsuite.AnyFunSuite

import io.needle.spark.errors.{ErrorId, NeedleConcurrentModificationException}

class ConcurrencySuite extends AnyFunSuite with LogTestSupport {

  private def conflictOf(body: => Any): NeedleConcurrentModificationException =
    intercept[NeedleConcurrentModificationException](body)

  /** Commits whose transaction read an older version than the one before it: they lost at
    * least one race, re-read the winners and retried. */
  private def retriedCommits(log: NeedleLog): Int =
    log.history(1).count { case (v, c) => c.readVersion.exists(_ < v - 1) }

  /** Every commit file after version 0 holds the actions of exactly one transaction. */
  private def addsPerCommit(log: NeedleLog): Seq[Seq[String]] =
    (1L to log.latestVersion()).map(v => log.readCommit(v).get.collect { case a: AddFile => a.path })

  /** Two writer threads (one log handle each, as two processes would have) append `n` files
    * each while a third thread keeps reading snapshots; returns the number of retried commits.
    * `lockstep`: both writers read the same version, then both commit, so every round has a
    * loser that must re-read the winner's commit and retry. */
  private def raceAppends(n: Int, lockstep: Boolean): Int = {
    createTable()
    val pool = Executors.newFixedThreadPool(3)
    val barrier = new CyclicBarrier(2)
    val done = new AtomicBoolean(false)
    val readerError = new AtomicReference[Throwable]()
    try {
      val writers = (0 until 2).map { w =>
        pool.submit(new Runnable {
          def run(): Unit = {
            val log = newLog()
            barrier.await(60, TimeUnit.SECONDS)
            (0 until n).foreach { i =>
              val txn = log.startTransaction()
              if (lockstep) barrier.await(60, TimeUnit.SECONDS)
              txn.commit(Seq(addFile(s"w$w-$i")), "WRITE", Map("mode" -> "Append"))
            }
          }
        })
      }
      val reader = pool.submit(new Runnable {
        def run(): Unit = {
          val log = newLog()
          var last = -1L
          while (!done.get()) {
            try {
              val s = log.snapshot()
              assert(s.version >= last && s.numFiles == s.version, s"version ${s.version}, ${s.numFiles} files")
              last = s.version
            } catch { case t: Throwable => readerError.compareAndSet(null, t); done.set(true) }
          }
        }
      })
      writers.foreach(_.get(120, TimeUnit.SECONDS))
      done.set(true)
      reader.get(30, TimeUnit.SECONDS)
    } finally pool.shutdownNow()
    assert(readerError.get() == null, Option(readerError.get()).map(_.toString).getOrElse(""))

    val s = newLog().snapshot()
    val expected = (for (w <- 0 until 2; i <- 0 until n) yield s"w$w-$i.split").toSet
    assert(s.version == 2 * n)
    assert(paths(s) == expected)
    val perCommit = addsPerCommit(newLog())
    assert(perCommit.forall(_.size == 1))
    assert(perCommit.flatten.size == 2 * n && perCommit.flatten.toSet == expected)
    // Each writer's own files are in its commit order.
    for (w <- 0 until 2) {
      val mine = perCommit.flatten.filter(_.startsWith(s"w$w-")).map(_.stripPrefix(s"w$w-").stripSuffix(".split").toInt)
      assert(mine == (0 until n))
    }
    retriedCommits(newLog())
  }

  test("two threads racing N blind appends each: none lost, none duplicated, readers never see a partial commit") {
    val retried = raceAppends(60, lockstep = false)
    info(s"$retried of 120 commits lost a race and were retried")
  }

  test("two threads in lockstep (every round has a lost race): none lost, none duplicated") {
    val retried = raceAppends(40, lockstep = true)
    assert(retried >= 40, "at least one loser per round")
    info(s"$retried of 80 commits lost a race and were retried")
  }

  test("both remove the same file: the second fails with a clear conflict after re-reading") {
    val log = createTable(files = Seq(addFile("a"), addFile("b")))
    val t1 = newLog().startTransaction()
    val t2 = newLog().startTransaction()
    val a = t1.snapshot.get.file("a.split").get
    t1.readFiles(Seq(a))
    t2.readFiles(Seq(a))
    assert(t1.commit(Seq(a.remove(), addFile("a2")), "DELETE") == 1)
    val e = conflictOf(t2.commit(Seq(a.remove(), addFile("a3")), "DELETE"))
    assert(e.errorId == ErrorId.ConcurrentDeleteDelete)
    assert(e.sqlState == "40001")
    assert(e.getMessage.contains("version 1 (DELETE)"))
    assert(e.getMessage.contains("removed the file a.split"))
    assert(e.getMessage.contains("read version 0"))
    assert(e.getMessage.contains("Retry the operation"))
    assert(paths(log.snapshot()) == Set("a2.split", "b.split"))
    assert(log.latestVersion() == 1)
  }

  test("both remove the same file, racing from two threads: exactly one wins") {
    for (round <- 0 until 5) {
      val log = NeedleLog.forTable(new Path(tableDir.resolve(s"r$round").toUri), hadoopConf)
      createTable(log, files = Seq(addFile("a")))
      val barrier = new CyclicBarrier(2)
      val pool = Executors.newFixedThreadPool(2)
      val results = try {
        (0 until 2).map { w =>
          pool.submit(new Callable[Try[Long]] {
            def call(): Try[Long] = {
              val txn = NeedleLog.forTable(log.tablePath, hadoopConf).startTransaction()
              val a = txn.snapshot.get.file("a.split").get
              txn.readFiles(Seq(a))
              barrier.await()
              Try(txn.commit(Seq(a.remove(), addFile(s"rewrite-$w")), "DELETE"))
            }
          })
        }.map(_.get(60, TimeUnit.SECONDS))
      } finally pool.shutdownNow()
      assert(results.count(_.isSuccess) == 1)
      val failure = results.find(_.isFailure).get.failed.get
      assert(failure.isInstanceOf[NeedleConcurrentModificationException])
      assert(failure.asInstanceOf[NeedleConcurrentModificationException].errorId == ErrorId.ConcurrentDeleteDelete)
      assert(log.snapshot().numFiles == 1 && log.latestVersion() == 1)
    }
  }

  test("a file this transaction read was removed concurrently: NEEDLE_CONCURRENT_DELETE_READ") {
    createTable(files = Seq(addFile("a"), addFile("b")))
    val t1 = newLog().startTransaction()
    val t2 = newLog().startTransaction()
    t1.readFiles(t1.snapshot.get.files.filter(_.path == "a.split"))
    t2.commit(Seq(t2.snapshot.get.file("a.split").get.remove()), "DELETE")
    val e = conflictOf(t1.commit(Seq(addFile("derived")), "MERGE"))
    assert(e.errorId == ErrorId.ConcurrentDeleteRead)
    assert(e.getMessage.contains("removed the file a.split that this transaction read"))
  }

  test("compaction (data_change false) does not invalidate reads, but still conflicts with a remove of the same file") {
    createTable(files = Seq(addFile("a"), addFile("b")))
    val reader = newLog().startTransaction()
    val remover = newLog().startTransaction()
    reader.readFiles(reader.snapshot.get.files)
    val compaction = newLog().startTransaction()
    val files = compaction.snapshot.get.files
    compaction.commit(files.map(_.remove(dataChange = false)) :+ addFile("ab", dataChange = false), "OPTIMIZE")
    assert(reader.commit(Seq(addFile("derived")), "INSERT SELECT") == 2)
    val e = conflictOf(remover.commit(Seq(remover.snapshot.get.file("b.split").get.remove()), "DELETE"))
    assert(e.errorId == ErrorId.ConcurrentDeleteDelete)
  }

  test("blind appends never conflict with concurrent deletes or appends") {
    val log = createTable(files = Seq(addFile("a")))
    val appender = newLog().startTransaction()
    val deleter = newLog().startTransaction()
    val other = newLog().startTransaction()
    deleter.readWholeTable()
    deleter.commit(Seq(deleter.snapshot.get.file("a.split").get.remove()), "DELETE")
    other.commit(Seq(addFile("o")), "WRITE")
    assert(appender.commit(Seq(addFile("n")), "WRITE") == 3)
    assert(paths(log.snapshot()) == Set("o.split", "n.split"))
  }

  test("an overwrite (whole table read) conflicts with a concurrent delete, not with a concurrent append") {
    createTable(files = Seq(addFile("a"), addFile("b")))
    val overwrite1 = newLog().startTransaction()
    overwrite1.readWholeTable()
    newLog().startTransaction().commit(Seq(addFile("late")), "WRITE")
    val v = overwrite1.commit(overwrite1.snapshot.get.files.map(_.remove()) :+ addFile("new"), "WRITE",
      Map("mode" -> "Overwrite"))
    assert(v == 2)
    assert(paths(newLog().snapshot()) == Set("late.split", "new.split"))

    val overwrite2 = newLog().startTransaction()
    overwrite2.readWholeTable()
    val d = newLog().startTransaction()
    d.commit(Seq(d.snapshot.get.file("late.split").get.remove()), "DELETE")
    // overwrite2 does not remove late.split itself, yet it read it.
    val e = conflictOf(overwrite2.commit(Seq(overwrite2.snapshot.get.file("new.split").get.remove()), "WRITE"))
    assert(e.errorId == ErrorId.ConcurrentDeleteRead)
  }

  test("a concurrent metadata or protocol change fails even a blind append") {
    val log = createTable()
    val appender = newLog().startTransaction()
    val alter = newLog().startTransaction()
    alter.commit(Seq(alter.metadata.get.copy(configuration = Map("k" -> "v"))), "SET TBLPROPERTIES")
    val e = conflictOf(appender.commit(Seq(addFile("x")), "WRITE"))
    assert(e.errorId == ErrorId.ConcurrentMetadataChange)
    assert(e.getMessage.contains("SET TBLPROPERTIES"))

    val appender2 = newLog().startTransaction()
    newLog().startTransaction().commit(Seq(Protocol.initial), "UPGRADE PROTOCOL")
    assert(conflictOf(appender2.commit(Seq(addFile("y")), "WRITE")).errorId == ErrorId.ConcurrentProtocolChange)
    assert(log.snapshot().files.isEmpty)
  }

  test("two writers creating the same table: one gets NEEDLE_CONCURRENT_TABLE_CREATE") {
    val t1 = newLog().startTransaction()
    val t2 = newLog().startTransaction()
    assert(t1.readVersion == -1 && t2.readVersion == -1)
    t1.commit(Seq(metadata()), "CREATE TABLE")
    val e = conflictOf(t2.commit(Seq(metadata(), addFile("x")), "CREATE TABLE"))
    assert(e.errorId == ErrorId.ConcurrentTableCreate)
    assert(e.getMessage.contains("another writer created it"))
  }

  test("two writers adding the same path: NEEDLE_CONCURRENT_ADD_ADD") {
    createTable()
    val t1 = newLog().startTransaction()
    val t2 = newLog().startTransaction()
    t1.commit(Seq(addFile("same")), "WRITE")
    assert(conflictOf(t2.commit(Seq(addFile("same")), "WRITE")).errorId == ErrorId.ConcurrentAddAdd)
  }

  test("retries are bounded: NEEDLE_COMMIT_RETRIES_EXHAUSTED") {
    createTable()
    // Read version 0, then two others commit: attempt 1 loses version 1, checks 1 and 2 (no
    // conflict), attempt 2 takes version 3.
    val t = newLog(LogOptions(maxCommitAttempts = Some(2))).startTransaction()
    append(newLog(), addFile("x"))
    append(newLog(), addFile("y"))
    assert(t.commit(Seq(addFile("v")), "WRITE") == 3)

    val once = newLog(LogOptions(maxCommitAttempts = Some(1))).startTransaction()
    append(newLog(), addFile("u"))
    val e = conflictOf(once.commit(Seq(addFile("t")), "WRITE"))
    assert(e.errorId == ErrorId.CommitRetriesExhausted)
    assert(e.getMessage.contains("after 1 attempts"))
    assert(e.getMessage.contains("needle.log.maxCommitAttempts"))
    assert(newLog().snapshot().file("t.split").isEmpty)
  }

  test("a retried commit still writes the checkpoint due at its version") {
    createTable(configuration = Map("needle.log.checkpointInterval" -> "2"))
    val t = newLog().startTransaction()
    append(newLog(), addFile("x"))
    assert(t.commit(Seq(addFile("y")), "WRITE") == 2)
    assert(Files.exists(logDir.resolve(FileNames.checkpointName(2))))
    val cp = readLogFile(FileNames.checkpointName(2)).map(ActionCodec.fromJson)
    assert(cp.collect { case a: AddFile => a.path }.toSet == Set("x.split", "y.split"))
  }

  test("the table property needle.log.maxCommitAttempts bounds retries too") {
    val log = createTable(configuration = Map("needle.log.maxCommitAttempts" -> "1"))
    val t = newLog().startTransaction()
    append(log, addFile("x"))
    assert(conflictOf(t.commit(Seq(addFile("y")), "WRITE")).errorId == ErrorId.CommitRetriesExhausted)
  }

  test("two JVM processes racing blind appends: none lost, none duplicated") {
    val n = 30
    createTable()
    val java = new File(new File(System.getProperty("java.home"), "bin"), "java").getPath
    val classpath = System.getProperty("java.class.path")
    val processes = (0 until 2).map { w =>
      new ProcessBuilder(java, "-Xmx256m", "-cp", classpath, ConcurrentWriterMain.getClass.getName.stripSuffix("$"),
        tablePath.toString, s"p$w", n.toString, tableDir.toString)
        .redirectErrorStream(true)
        .redirectOutput(tableDir.resolve(s"writer-$w.out").toFile)
        .start()
    }
    // Start both writers together once both JVMs are up, so that they really race.
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120)
    while ((0 until 2).exists(w => !Files.exists(tableDir.resolve(s"ready-p$w"))) && System.nanoTime() < deadline &&
      processes.forall(_.isAlive)) {
      Thread.sleep(20)
    }
    Files.createFile(tableDir.resolve("go"))
    processes.zipWithIndex.foreach { case (p, w) =>
      assert(p.waitFor(180, TimeUnit.SECONDS), s"writer $w timed out")
      val out = Files.readAllLines(tableDir.resolve(s"writer-$w.out")).asScala.mkString("\n")
      assert(p.exitValue() == 0, out)
      assert(out.contains(s"committed $n"), out)
    }
    val s = newLog().snapshot()
    val expected = (for (w <- 0 until 2; i <- 0 until n) yield s"p$w-$i.split").toSet
    assert(s.version == 2 * n && paths(s) == expected)
    assert(addsPerCommit(newLog()).forall(_.size == 1))
    info(s"${retriedCommits(newLog())} of ${2 * n} commits lost a race and were retried")
  }
}

/** A writer process for the two-JVM test: `ConcurrentWriterMain <table> <name> <n> <dir>`
  * creates `<dir>/ready-<name>`, waits for `<dir>/go`, then appends n files named
  * `<name>-<i>.split`, one commit each. */
object ConcurrentWriterMain {
  def main(args: Array[String]): Unit = {
    val Array(table, name, count, dir) = args
    val log = NeedleLog.forTable(table, new org.apache.hadoop.conf.Configuration())
    log.snapshot() // load classes and the table before the start signal
    val n = count.toInt
    val sync = java.nio.file.Paths.get(dir)
    Files.createFile(sync.resolve(s"ready-$name"))
    val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120)
    while (!Files.exists(sync.resolve("go")) && System.nanoTime() < deadline) Thread.sleep(5)
    for (i <- 0 until n) {
      val add = AddFile(s"$name-$i.split", 4096, 10, Map.empty, 3000, 1080, System.currentTimeMillis())
      log.startTransaction().commit(Seq(add), "WRITE", Map("mode" -> "Append"))
    }
    println(s"committed $n")
  }
}
