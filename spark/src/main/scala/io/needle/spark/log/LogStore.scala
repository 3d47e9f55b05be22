package io.needle.spark.log

import java.io.FileNotFoundException
import java.nio.charset.StandardCharsets.UTF_8

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path

import io.needle.spark.errors.{ErrorId, NeedleErrors}

/** A file of the log folder as listed. */
final case class LogFileStatus(path: Path, name: String, size: Long, modificationTime: Long)

/** How log files are read, listed and (atomically) written on one kind of storage. The log's
  * correctness rests on [[write]] with `overwrite = false`: of any writers racing to create one
  * file, exactly one succeeds, and no reader ever sees a partial file.
  *
  * Implementations are thread-safe and must have a public constructor taking a Hadoop
  * `Configuration` (they are chosen by [[LogStore.forPath]]). */
trait LogStore {

  /** The lines of a file (UTF-8, split on `\n`). Throws `FileNotFoundException` if absent. */
  def read(path: Path): Seq[String]

  /** Writes `lines`, each followed by `\n`, as the complete content of `path`, atomically.
    * With `overwrite = false`, throws `java.nio.file.FileAlreadyExistsException` if `path`
    * exists, and at most one of concurrent callers for one path succeeds. Creates the folder
    * when missing. */
  def write(path: Path, lines: Iterator[String], overwrite: Boolean): Unit

  /** The files (not folders) directly in `dir`, sorted by name; empty when `dir` is absent. */
  def list(dir: Path): Seq[LogFileStatus]

  /** The files of `dir` whose names sort at or after `fromName`. Stores that can list from a
    * key (object stores) override this. */
  def listFrom(dir: Path, fromName: String): Seq[LogFileStatus] =
    list(dir).filter(_.name >= fromName)

  /** Whether [[write]] without overwrite is a real atomic create-if-absent under concurrency. */
  def isAtomicCreateIfAbsent: Boolean
}

object LogStore {

  /** Hadoop configuration key naming the LogStore class for a scheme. */
  def classKey(scheme: String): String = s"needle.logStore.$scheme.class"

  /** Schemes whose rename (Hadoop FileContext, Rename.NONE) is atomic and never overwrites. */
  val AtomicRenameSchemes: Set[String] = Set("hdfs", "viewfs")

  /** The store for a log folder: the class configured for its scheme, else the built-in choice
    * (docs/format/transaction-log.md, "Atomic create-if-absent, by file system"). */
  def forPath(logDir: Path, hadoopConf: Configuration): LogStore = {
    val scheme = Option(logDir.toUri.getScheme)
      .getOrElse(logDir.getFileSystem(hadoopConf).getUri.getScheme)
      .toLowerCase(java.util.Locale.ROOT)
    Option(hadoopConf.get(classKey(scheme))).map(_.trim).filter(_.nonEmpty) match {
      case Some(className) => instantiate(className, hadoopConf)
      case None if scheme == "file" => new LocalLogStore(hadoopConf)
      case None if AtomicRenameSchemes(scheme) => new HadoopRenameLogStore(hadoopConf)
      case None => new HadoopRenameLogStore(hadoopConf, writable = false)
    }
  }

  private def instantiate(className: String, hadoopConf: Configuration): LogStore = {
    val cls = Class.forName(className, true, Thread.currentThread().getContextClassLoader)
    val store =
      try cls.getConstructor(classOf[Configuration]).newInstance(hadoopConf)
      catch { case _: NoSuchMethodException => cls.getConstructor().newInstance() }
    store match {
      case s: LogStore => s
      case _ => throw new IllegalArgumentException(s"$className is not a ${classOf[LogStore].getName}")
    }
  }

  private[log] def encode(lines: Iterator[String]): Array[Byte] = {
    val sb = new java.lang.StringBuilder()
    lines.foreach { l =>
      require(l.indexOf('\n') < 0, "a log line must not contain a newline")
      sb.append(l).append('\n')
    }
    sb.toString.getBytes(UTF_8)
  }

  private[log] def decode(bytes: Array[Byte]): Seq[String] =
    new String(bytes, UTF_8).split("\n", -1).toSeq match {
      case init :+ "" => init // the final newline
      case all => all
    }

  private[log] def tableOf(path: Path): Path = {
    val dir = path.getParent
    if (dir != null && dir.getName == FileNames.LogDirName && dir.getParent != null) dir.getParent
    else dir
  }

  private[log] def notFound(path: Path) = new FileNotFoundException(s"$path does not exist")

  private[log] def unsafe(path: Path) =
    NeedleErrors.error(
      ErrorId.LogStoreUnsafe,
      "table" -> tableOf(path),
      "scheme" -> Option(path.toUri.getScheme).getOrElse("?"))
}
