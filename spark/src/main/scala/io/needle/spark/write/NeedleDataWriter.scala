package io.needle.spark.write

import java.io.File
import java.nio.file.Files
import java.util.UUID

import scala.collection.mutable.ArrayBuffer
import scala.util.control.NonFatal

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.VectorSchemaRoot
import org.apache.hadoop.fs.{FileSystem, Path}
import org.slf4j.LoggerFactory

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.SpecificInternalRow
import org.apache.spark.sql.connector.write.{DataWriter, DataWriterFactory, WriterCommitMessage}
import org.apache.spark.sql.needle.SparkInternals
import org.apache.spark.unsafe.types.UTF8String

import io.needle.{IndexWriter, IndexWriterOptions, Split, SplitOpenOptions}
import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.{AddFile, Snapshot}
import io.needle.spark.schema.{ColumnKind, JsonValues, PartitionValues, TableMeta}

/** What a write task made: the splits it uploaded (not yet part of the table). */
final case class NeedleCommitMessage(files: Seq[AddFile]) extends WriterCommitMessage

final class NeedleDataWriterFactory(spec: WriteSpec) extends DataWriterFactory {
  override def createWriter(partitionId: Int, taskId: Long): DataWriter[InternalRow] =
    new NeedleDataWriter(spec, partitionId, taskId)
}

/** One write task: streams its rows into native index writers through Arrow batches, one split
  * at a time (a new one per partition value, and when the current one reaches the target size),
  * builds each split in a local work folder and moves it under the table folder. Nothing it
  * writes is part of the table until the driver commits the returned add actions; `abort`
  * deletes every file it made. */
final class NeedleDataWriter(spec: WriteSpec, partitionId: Int, taskId: Long)
    extends DataWriter[InternalRow] {
  import NeedleDataWriter.log

  private val allocator: BufferAllocator =
    SparkInternals.arrowRootAllocator.newChildAllocator(s"needle writer task $taskId", 0, Long.MaxValue)
  private val tablePath = new Path(spec.tablePath)
  private lazy val fs: FileSystem = tablePath.getFileSystem(spec.hadoopConf.value)
  private val workRoot = new File(spec.workDir.getOrElse(SparkInternals.localDir() + File.separator + "needle"))

  private val done = ArrayBuffer.empty[AddFile]
  private val uploaded = ArrayBuffer.empty[Path]
  private var current: SplitBuilder = _
  private var currentKey: Seq[Any] = _

  private val plan = spec.plan
  private val storageRow =
    if (spec.rowsAsIs) null else new SpecificInternalRow(plan.storageSchema.fields.map(_.dataType).toSeq)

  override def write(row: InternalRow): Unit = {
    val key: Seq[Any] = if (spec.partitionOrdinals.isEmpty) Nil else partitionKey(row)
    if (current != null && key != currentKey) finishCurrent()
    if (current == null) {
      current = new SplitBuilder(key)
      currentKey = key
    }
    current.add(if (spec.rowsAsIs) row else toStorage(row))
    if (current.inputBytes >= spec.targetSplitSize) finishCurrent()
  }

  private def partitionKey(row: InternalRow): Seq[Any] =
    spec.partitionOrdinals.toSeq.zip(plan.partitionFields).map { case (ord, f) =>
      if (row.isNullAt(ord)) null
      else row.get(ord, f.dataType) match {
        case s: UTF8String => s.clone() // rows are reused: keep our own copy
        case v => v
      }
    }

  private def toStorage(row: InternalRow): InternalRow = {
    var i = 0
    val n = plan.columns.length
    while (i < n) {
      val c = plan.columns(i)
      val ord = spec.dataOrdinals(i)
      if (row.isNullAt(ord)) storageRow.setNullAt(i)
      else c.kind match {
        case ColumnKind.DecimalLong(p, s) => storageRow.setLong(i, row.getDecimal(ord, p, s).toUnscaledLong)
        case ColumnKind.Complex(dt) =>
          storageRow.update(i, UTF8String.fromString(JsonValues.write(row.get(ord, dt), dt)))
        case _ => storageRow.update(i, row.get(ord, c.dataType))
      }
      i += 1
    }
    storageRow
  }

  private def finishCurrent(): Unit = {
    val b = current
    current = null
    done += b.finish()
  }

  override def commit(): WriterCommitMessage = {
    if (current != null) finishCurrent()
    NeedleCommitMessage(done.toSeq)
  }

  override def abort(): Unit = {
    if (current != null) {
      try current.discard()
      catch { case NonFatal(e) => log.warn(s"Could not clean up a split being written: $e") }
      current = null
    }
    uploaded.foreach { p =>
      try fs.delete(p, false)
      catch { case NonFatal(e) => log.warn(s"Could not delete $p of an aborted write task: $e") }
    }
    uploaded.clear()
  }

  override def close(): Unit = {
    if (current != null) {
      try current.discard()
      catch { case NonFatal(_) => () }
      current = null
    }
    allocator.close()
  }

  /** One split being built: a native index writer in a local folder, fed Arrow batches. */
  private final class SplitBuilder(key: Seq[Any]) {
    private val id = UUID.randomUUID().toString
    private val dir = new File(workRoot, s"task-$taskId-$id")
    private val fileName = NeedleDataWriter.splitFileName(partitionId, spec.writeId, id)
    private val localSplit = new File(dir, fileName)
    private val partitionValues: Map[String, Option[String]] =
      plan.partitionFields.zip(key).map { case (f, v) => f.name -> PartitionValues.format(v, f.dataType) }.toMap
    private val relativePath: String =
      (plan.partitionColumns.map(c => PartitionValues.folderName(c, partitionValues(c))) :+ fileName).mkString("/")

    private var writer: IndexWriter = _
    private var root: VectorSchemaRoot = _
    private var arrow: org.apache.spark.sql.execution.arrow.ArrowWriter = _
    private var rowsInBatch = 0
    private var rows = 0L
    var inputBytes = 0L

    Files.createDirectories(dir.toPath)
    try {
      writer = IndexWriter.create(
        new File(dir, "index").getPath,
        io.needle.Schema.fromJson(spec.needleSchemaJson),
        IndexWriterOptions.defaults().memoryBudgetBytes(spec.memoryBytes).numThreads(1))
      root = VectorSchemaRoot.create(SparkInternals.toArrowSchema(plan.storageSchema), allocator)
      arrow = SparkInternals.arrowWriter(root)
    } catch {
      case NonFatal(e) =>
        discard()
        throw wrap(e)
    }

    def add(row: InternalRow): Unit = {
      arrow.write(row)
      rowsInBatch += 1
      if (rowsInBatch >= spec.batchSize) flushBatch()
    }

    private def flushBatch(): Unit = if (rowsInBatch > 0) {
      arrow.finish()
      inputBytes += arrow.sizeInBytes()
      try writer.addBatch(root, allocator)
      catch { case NonFatal(e) => throw wrap(e) }
      rows += rowsInBatch
      rowsInBatch = 0
      arrow.reset()
    }

    /** Commits the index, bundles it into a split, moves the split under the table folder. */
    def finish(): AddFile = {
      try {
        flushBatch()
        writer.commit()
        val metadata = writer.writeSplit(localSplit.getPath)
        writer.close()
        writer = null
        val (footerOffset, footerLength) = {
          val s = Split.open(localSplit.getPath, new SplitOpenOptions().verifyChecksums(false))
          try (s.footerOffset(), s.footerLength())
          finally s.close()
        }
        val size = localSplit.length()
        val target = Snapshot.absolutePath(tablePath, relativePath)
        upload(target)
        val modificationTime = fs.getFileStatus(target).getModificationTime
        AddFile(
          path = relativePath,
          size = size,
          numRecords = rows,
          partitionValues = partitionValues,
          footerOffset = footerOffset,
          footerLength = footerLength,
          modificationTime = modificationTime,
          dataChange = true,
          stats = Some(TableMeta.stats(metadata, plan)))
      } catch {
        case NonFatal(e) => throw wrap(e)
      } finally discard()
    }

    private def upload(target: Path): Unit = {
      uploaded += target
      if (fs.getScheme == "file") {
        // Same machine: a move (a rename when on the same device) instead of a copy.
        val dst = new File(target.toUri)
        Files.createDirectories(dst.getParentFile.toPath)
        Files.move(localSplit.toPath, dst.toPath)
      } else {
        fs.copyFromLocalFile(true, false, new Path(localSplit.toURI), target)
      }
    }

    /** Frees native and Arrow resources and deletes the local folder. */
    def discard(): Unit = {
      if (writer != null) {
        try writer.close()
        catch { case NonFatal(_) => () }
        writer = null
      }
      if (root != null) {
        root.close()
        root = null
      }
      NeedleDataWriter.deleteRecursively(dir)
    }

    private def wrap(e: Throwable): Throwable = e match {
      case n: io.needle.NeedleException =>
        NeedleErrors.error(
          ErrorId.SplitWriteFailed,
          n,
          "table" -> spec.tablePath,
          "task" -> taskId,
          "cause" -> n.getMessage)
      case other => other
    }
  }
}

object NeedleDataWriter {
  private val log = LoggerFactory.getLogger(classOf[NeedleDataWriter])

  /** `part-<partition>-<write id>-<split id>.split`. */
  def splitFileName(partitionId: Int, writeId: String, splitId: String): String =
    f"part-$partitionId%05d-$writeId-$splitId.split"

  /** Whether `name` is the file name of a split made by the write `writeId`. */
  def isSplitOf(name: String, writeId: String): Boolean =
    name.startsWith("part-") && name.endsWith(".split") && name.contains(s"-$writeId-")

  def deleteRecursively(f: File): Unit = {
    if (f.isDirectory) Option(f.listFiles()).foreach(_.foreach(deleteRecursively))
    f.delete()
  }
}
