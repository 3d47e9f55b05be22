package io.needle.spark.log

import java.io.FileNotFoundException
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{FileAlreadyExistsException, Files}
import java.util.concurrent.{CountDownLatch, Executors, TimeUnit}
import java.util.concurrent.atomic.AtomicInteger

import scala.jdk.CollectionConverters._

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileSystem, Path}
import org.scalatest.funsuite.AnyFunSuite

import io.needle.spark.errors.{ErrorId, NeedleException}

/** The LogStore contract; every implementation runs it (on the local file system). */
abstract class LogStoreContractSuite extends AnyFunSuite with LogTestSupport {

  def newStore(): LogStore
  def name: String = getClass.getSimpleName

  private def logPath = new Path(tablePath, FileNames.LogDirName)
  private def file(n: String) = new Path(logPath, n)
  private def visibleNames(store: LogStore): Seq[String] =
    store.list(logPath).map(_.name).filterNot(_.endsWith(".crc"))

  test("write then read: lines come back as written; the folder is created") {
    val store = newStore()
    val lines = Seq("""{"a":1}""", "", "ünïcödé ✓", """{"b":2}""")
    store.write(file("00000000000000000000.json"), lines.iterator, overwrite = false)
    assert(store.read(file("00000000000000000000.json")) == lines)
    val bytes = Files.readAllBytes(logDir.resolve("00000000000000000000.json"))
    assert(new String(bytes, UTF_8) == lines.mkString("", "\n", "\n"))
  }

  test("create-if-absent: a second write of the same file fails and changes nothing") {
    val store = newStore()
    store.write(file("x.json"), Iterator("first"), overwrite = false)
    intercept[FileAlreadyExistsException] {
      store.write(file("x.json"), Iterator("second"), overwrite = false)
    }
    assert(store.read(file("x.json")) == Seq("first"))
    assert(visibleNames(store) == Seq("x.json"), "no temporary file is left behind")
  }

  test("overwrite replaces the content") {
    val store = newStore()
    store.write(file("_last_checkpoint"), Iterator("one"), overwrite = true)
    store.write(file("_last_checkpoint"), Iterator("two"), overwrite = true)
    assert(store.read(file("_last_checkpoint")) == Seq("two"))
  }

  test("list: files only, sorted by name; empty for a missing folder; listFrom") {
    val store = newStore()
    assert(store.list(logPath).isEmpty)
    for (n <- Seq("00000000000000000002.json", "00000000000000000000.json", "00000000000000000001.json")) {
      store.write(file(n), Iterator(n), overwrite = false)
    }
    Files.createDirectories(logDir.resolve("subfolder"))
    val listed = store.list(logPath).filterNot(_.name.endsWith(".crc"))
    assert(listed.map(_.name) == Seq("00000000000000000000.json", "00000000000000000001.json",
      "00000000000000000002.json"))
    assert(listed.forall(s => s.size == s.name.length + 1 && s.modificationTime > 0))
    assert(store.listFrom(logPath, "00000000000000000001.json").map(_.name)
      .filterNot(_.endsWith(".crc")) == Seq("00000000000000000001.json", "00000000000000000002.json"))
  }

  test("reading a missing file is FileNotFoundException") {
    intercept[FileNotFoundException](newStore().read(file("nope.json")))
  }

  test("a failed write leaves no visible file") {
    val store = newStore()
    val failing = Iterator("ok") ++ Iterator.continually[String](throw new IllegalStateException("boom")).take(1)
    intercept[IllegalStateException](store.write(file("y.json"), failing, overwrite = false))
    intercept[FileNotFoundException](store.read(file("y.json")))
    assert(visibleNames(store).isEmpty)
  }
}

class LocalLogStoreSuite extends LogStoreContractSuite {
  def newStore(): LogStore = new LocalLogStore(hadoopConf)

  test("racing creators of one file: exactly one wins, and the file holds its content") {
    val store = newStore()
    val threads = 4
    val files = 40
    val pool = Executors.newFixedThreadPool(threads)
    try {
      val wins = Array.fill(files)(new AtomicInteger())
      val start = new CountDownLatch(1)
      val futures = (0 until threads).map { t =>
        pool.submit(new Runnable {
          def run(): Unit = {
            start.await()
            for (f <- 0 until files) {
              val path = new Path(new Path(tablePath, FileNames.LogDirName), FileNames.commitName(f))
              try {
                store.write(path, Iterator(s"writer $t", "x" * 2000), overwrite = false)
                wins(f).incrementAndGet()
              } catch { case _: FileAlreadyExistsException => () }
            }
          }
        })
      }
      start.countDown()
      futures.foreach(_.get(60, TimeUnit.SECONDS))
      assert(wins.map(_.get).toSeq == Seq.fill(files)(1))
      for (f <- 0 until files) {
        val lines = store.read(new Path(new Path(tablePath, FileNames.LogDirName), FileNames.commitName(f)))
        assert(lines.size == 2 && lines.head.startsWith("writer ") && lines(1) == "x" * 2000)
      }
      assert(Files.list(logDir).iterator().asScala.forall(p => !p.getFileName.toString.endsWith(".tmp")))
    } finally pool.shutdownNow()
  }

  test("why not Hadoop's LocalFileSystem: its rename replaces an existing destination") {
    // If this ever fails, Hadoop changed; LocalLogStore's hard-link strategy stays correct.
    val fs = FileSystem.getLocal(new Configuration()).getRawFileSystem
    val a = new Path(tablePath, "a")
    val b = new Path(tablePath, "b")
    Files.write(tableDir.resolve("a"), "from a".getBytes(UTF_8))
    Files.write(tableDir.resolve("b"), "from b".getBytes(UTF_8))
    assert(fs.rename(a, b))
    assert(new String(Files.readAllBytes(tableDir.resolve("b")), UTF_8) == "from a")
  }
}

class HadoopRenameLogStoreSuite extends LogStoreContractSuite {
  // On file: the rename is checked-then-done (not atomic under races), but every sequential
  // property of the contract holds, which is what this suite checks.
  def newStore(): LogStore = new HadoopRenameLogStore(hadoopConf)
}

class LogStoreSelectionSuite extends AnyFunSuite {
  private val conf = new Configuration()

  test("file: uses the hard-link store; hdfs and viewfs the rename store") {
    assert(LogStore.forPath(new Path("file:/tmp/t/_needle_log"), conf).isInstanceOf[LocalLogStore])
    val hdfs = LogStore.forPath(new Path("hdfs://nn:8020/t/_needle_log"), conf)
    assert(hdfs.isInstanceOf[HadoopRenameLogStore] && hdfs.isAtomicCreateIfAbsent)
    assert(LogStore.forPath(new Path("viewfs://cluster/t/_needle_log"), conf).isAtomicCreateIfAbsent)
  }

  test("a scheme without a safe strategy reads but refuses to write") {
    val p = new Path("s3a://bucket/t/_needle_log/00000000000000000000.json")
    val store = LogStore.forPath(p.getParent, conf)
    assert(!store.isAtomicCreateIfAbsent)
    val e = intercept[NeedleException](store.write(p, Iterator("x"), overwrite = false))
    assert(e.errorId == ErrorId.LogStoreUnsafe)
    assert(e.getMessage.contains("scheme 's3a'"))
    assert(e.getMessage.contains("needle.logStore.s3a.class"))
    assert(e.getMessage.contains("s3a://bucket/t"))
    assert(e.sqlState == "0A000")
  }

  test("needle.logStore.<scheme>.class picks the store") {
    val c = new Configuration(false)
    c.set(LogStore.classKey("s3a"), classOf[HadoopRenameLogStore].getName)
    assert(LogStore.forPath(new Path("s3a://bucket/t/_needle_log"), c).isAtomicCreateIfAbsent)
    c.set(LogStore.classKey("file"), classOf[HadoopRenameLogStore].getName)
    assert(LogStore.forPath(new Path("file:/tmp/t/_needle_log"), c).isInstanceOf[HadoopRenameLogStore])
    c.set(LogStore.classKey("file"), classOf[String].getName)
    intercept[IllegalArgumentException](LogStore.forPath(new Path("file:/tmp/t/_needle_log"), c))
  }
}
