package io.needle.spark.log

import java.io.IOException
import java.nio.ByteBuffer
import java.nio.channels.FileChannel
import java.nio.file.{FileAlreadyExistsException, FileSystemException, Files, NoSuchFileException, Paths, StandardCopyOption, StandardOpenOption}

import scala.jdk.CollectionConverters._
import scala.util.Using

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path

import io.needle.spark.errors.{ErrorId, NeedleErrors}

/** The log store for the local file system (`file:`), through java.nio rather than Hadoop's
  * LocalFileSystem, whose rename replaces an existing destination.
  *
  * Create-if-absent: write a hidden temporary file in the same folder, fsync it, hard-link it
  * to the final name (`link(2)` fails atomically with EEXIST when the name exists), delete the
  * temporary name, fsync the folder. A reader sees the final name only once it is complete. */
class LocalLogStore(hadoopConf: Configuration) extends LogStore {

  def this() = this(new Configuration(false))

  override def isAtomicCreateIfAbsent: Boolean = true

  private def toNio(p: Path): java.nio.file.Path = {
    val uri = p.toUri
    if (uri.getScheme == null) Paths.get(uri.getPath) else Paths.get(uri)
  }

  override def read(path: Path): Seq[String] =
    try LogStore.decode(Files.readAllBytes(toNio(path)))
    catch { case _: NoSuchFileException => throw LogStore.notFound(path) }

  override def write(path: Path, lines: Iterator[String], overwrite: Boolean): Unit = {
    val target = toNio(path)
    val dir = target.getParent
    Files.createDirectories(dir)
    val tmp = dir.resolve(FileNames.tempName(target.getFileName.toString))
    try {
      Using.resource(FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ch =>
          val buf = ByteBuffer.wrap(LogStore.encode(lines))
          while (buf.hasRemaining) ch.write(buf)
          ch.force(true)
      }
      if (overwrite) {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING)
      } else {
        try Files.createLink(target, tmp)
        catch {
          case e: FileAlreadyExistsException => throw e
          case e: UnsupportedOperationException => throw noHardLinks(path, e)
          case e: FileSystemException if isNoLinkSupport(e) => throw noHardLinks(path, e)
        }
      }
      syncDir(dir)
    } finally {
      Files.deleteIfExists(tmp)
    }
  }

  private def isNoLinkSupport(e: FileSystemException): Boolean = {
    val reason = Option(e.getReason).getOrElse("").toLowerCase(java.util.Locale.ROOT)
    reason.contains("not supported") || reason.contains("not permitted")
  }

  private def noHardLinks(path: Path, cause: Throwable) =
    NeedleErrors.error(
      ErrorId.LogStoreNoHardLinks,
      cause,
      "table" -> LogStore.tableOf(path),
      "logPath" -> path.getParent,
      "cause" -> cause.toString)

  /** Makes the new directory entry durable. Not every platform can open a folder; the entry is
    * then as durable as the platform makes it. */
  private def syncDir(dir: java.nio.file.Path): Unit =
    try Using.resource(FileChannel.open(dir, StandardOpenOption.READ))(_.force(true))
    catch { case _: IOException => () }

  override def list(dir: Path): Seq[LogFileStatus] = {
    val d = toNio(dir)
    if (!Files.isDirectory(d)) return Nil
    val entries = Using.resource(Files.list(d))(_.iterator().asScala.toVector)
    entries.flatMap { p =>
      try {
        val attrs = Files.readAttributes(p, classOf[java.nio.file.attribute.BasicFileAttributes])
        if (attrs.isRegularFile) {
          val name = p.getFileName.toString
          Some(LogFileStatus(new Path(dir, name), name, attrs.size(), attrs.lastModifiedTime().toMillis))
        } else None
      } catch { case _: NoSuchFileException => None } // deleted since listed (a temp file)
    }.sortBy(_.name)
  }
}
