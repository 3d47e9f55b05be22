package io.needle.spark.log

import java.io.FileNotFoundException

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileContext, Options, Path}

/** A log store over any Hadoop file system whose rename is atomic and refuses to replace an
  * existing destination: HDFS and viewfs (the rename happens in one NameNode operation), and,
  * when configured explicitly, stores with the same guarantee (ADLS Gen2 with hierarchical
  * namespace, Ozone).
  *
  * Create-if-absent: write a hidden temporary file, hsync and close it, then
  * `FileContext.rename(tmp, final, Rename.NONE)`, which fails if the final name exists.
  *
  * With `writable = false` (schemes with no known-safe strategy, e.g. s3a) it only reads: a
  * write fails with `NEEDLE_LOG_STORE_UNSAFE`. */
class HadoopRenameLogStore(hadoopConf: Configuration, writable: Boolean) extends LogStore {

  def this(hadoopConf: Configuration) = this(hadoopConf, writable = true)

  override def isAtomicCreateIfAbsent: Boolean = writable

  override def read(path: Path): Seq[String] = {
    val fs = path.getFileSystem(hadoopConf)
    val in = fs.open(path) // FileNotFoundException when absent
    try LogStore.decode(in.readAllBytes())
    finally in.close()
  }

  override def write(path: Path, lines: Iterator[String], overwrite: Boolean): Unit = {
    if (!writable) throw LogStore.unsafe(path)
    val fs = path.getFileSystem(hadoopConf)
    val dir = path.getParent
    fs.mkdirs(dir)
    val tmp = new Path(dir, FileNames.tempName(path.getName))
    try {
      val out = fs.create(tmp, false)
      try {
        out.write(LogStore.encode(lines))
        out.hsync()
      } finally out.close()
      val fc = FileContext.getFileContext(dir.toUri, hadoopConf)
      val mode = if (overwrite) Options.Rename.OVERWRITE else Options.Rename.NONE
      try fc.rename(tmp, path, mode)
      catch {
        case _: org.apache.hadoop.fs.FileAlreadyExistsException =>
          throw new java.nio.file.FileAlreadyExistsException(path.toString)
      }
    } finally {
      try fs.delete(tmp, false)
      catch { case _: java.io.IOException => () } // a stray .tmp is ignored by readers
    }
  }

  override def list(dir: Path): Seq[LogFileStatus] = {
    val fs = dir.getFileSystem(hadoopConf)
    val statuses =
      try fs.listStatus(dir)
      catch { case _: FileNotFoundException => Array.empty[org.apache.hadoop.fs.FileStatus] }
    statuses.toSeq.filter(_.isFile).map { s =>
      LogFileStatus(s.getPath, s.getPath.getName, s.getLen, s.getModificationTime)
    }.sortBy(_.name)
  }
}
