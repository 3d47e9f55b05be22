package io.needle.spark.read

import java.io.File
import java.nio.ByteBuffer

import scala.util.control.NonFatal

import org.apache.arrow.memory.BufferAllocator
import org.apache.arrow.vector.ValueVector
import org.apache.hadoop.fs.{FSDataInputStream, Path}

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow
import org.apache.spark.sql.connector.read.{InputPartition, PartitionReader, PartitionReaderFactory}
import org.apache.spark.sql.execution.vectorized.{ColumnVectorUtils, ConstantColumnVector}
import org.apache.spark.sql.needle.SparkInternals
import org.apache.spark.sql.types._
import org.apache.spark.sql.vectorized.{ArrowColumnVector, ColumnVector, ColumnarBatch}
import org.apache.spark.unsafe.types.UTF8String

import io.needle.{ArrowSearchOptions, ArrowSearchResult, ErrorCode, RangeFetcher, Searcher, Split, SplitOpenOptions}
import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.schema.{ColumnKind, ColumnPlan, JsonValues, TablePlan}
import io.needle.spark.write.SerializableConf

/** Opens split files: local ones by mmap, others through the Hadoop file system, reading only
  * the byte ranges the engine asks for (the footer first, where the log says it is). */
object SplitFiles {
  /** The split and, for a non-local file, the stream the split reads from (close it after the
    * split). */
  def open(
      file: String,
      size: Long,
      footerOffset: Long,
      footerLength: Long,
      hadoopConf: org.apache.hadoop.conf.Configuration): (Split, Option[FSDataInputStream]) = {
    val path = new Path(file)
    val options = new SplitOpenOptions().verifyChecksums(false).name(file)
    if (path.toUri.getScheme == "file") (Split.open(new File(path.toUri).getPath, options), None)
    else {
      val fs = path.getFileSystem(hadoopConf)
      val in = fs.open(path)
      val fetcher: RangeFetcher = (offset: Long, dst: ByteBuffer) => {
        val buf = new Array[Byte](math.min(dst.remaining(), 1 << 20))
        var at = offset
        while (dst.hasRemaining) {
          val n = math.min(buf.length, dst.remaining())
          in.readFully(at, buf, 0, n)
          dst.put(buf, 0, n)
          at += n
        }
      }
      try (Split.open(fetcher, size, options.footerHint(footerOffset, footerLength)), Some(in))
      catch {
        case NonFatal(e) =>
          in.close()
          throw e
      }
    }
  }
}

/** What read tasks need, resolved on the driver. */
final case class ReadSpec(
    tableName: String,
    plan: TablePlan,
    readSchema: StructType,
    limit: Option[Int],
    /** The user's full-text query (`needle.read.query`), if any: what error messages name. */
    userQuery: Option[String],
    /** Whether `_score` comes from the engine (a user query or a needle_match); else it is 0. */
    scoring: Boolean,
    /** `needle.read.cacheSize`: bytes of split footers the executor keeps open. */
    cacheBytes: Long,
    hadoopConf: SerializableConf) {

  /** Where each output column comes from. */
  val sources: Seq[ColumnSource] = readSchema.fields.toSeq.map { f =>
    plan.column(f.name) match {
      case Some(c) =>
        if (!c.stored) {
          throw NeedleErrors.error(ErrorId.ColumnNotStored, "column" -> c.name, "table" -> tableName)
        }
        ColumnSource.Data(c, f.dataType)
      case None =>
        val pi = plan.partitionColumns.indexOf(f.name)
        if (pi >= 0) ColumnSource.Partition(pi, f.dataType)
        else if (f.name == TablePlan.ScoreColumn) ColumnSource.Score
        else if (f.name == io.needle.spark.sql.NeedleMatch.IndexAll) ColumnSource.Null(f.dataType)
        else throw new IllegalStateException(s"column ${f.name} is not in table $tableName")
    }
  }

  /** Columns asked from the engine (`_score` only when a user query scores the rows; without
    * one it is 0). */
  val engineColumns: Array[String] = sources.collect {
    case ColumnSource.Data(c, _) => c.name
    case ColumnSource.Score if scoring => TablePlan.ScoreColumn
  }.distinct.toArray

  /** Struct, array and map values are decoded from JSON row by row. */
  val rowMode: Boolean = sources.exists {
    case ColumnSource.Data(c, _) => c.kind.isInstanceOf[ColumnKind.Complex]
    case _ => false
  }

  val batchRows: Int = 4096
}

sealed trait ColumnSource
object ColumnSource {
  final case class Data(column: ColumnPlan, dataType: DataType) extends ColumnSource
  final case class Partition(index: Int, dataType: DataType) extends ColumnSource
  case object Score extends ColumnSource
  /** Always null (`_indexall`, which only stands for the text columns in needle_match). */
  final case class Null(dataType: DataType) extends ColumnSource
}

final class NeedleReaderFactory(spec: ReadSpec) extends PartitionReaderFactory {
  override def supportColumnarReads(partition: InputPartition): Boolean = !spec.rowMode

  override def createColumnarReader(partition: InputPartition): PartitionReader[ColumnarBatch] =
    new SplitBatchReader(spec, partition.asInstanceOf[NeedleInputPartition])

  override def createReader(partition: InputPartition): PartitionReader[InternalRow] =
    new SplitRowReader(new SplitBatchReader(spec, partition.asInstanceOf[NeedleInputPartition]), spec)
}

/** Searches one split and returns the hits as columnar batches over the engine's Arrow batches
  * (converted in place where the Spark type differs from the stored one). */
final class SplitBatchReader(spec: ReadSpec, p: NeedleInputPartition) extends PartitionReader[ColumnarBatch] {
  private val allocator: BufferAllocator =
    SparkInternals.arrowRootAllocator.newChildAllocator(s"needle reader ${p.path}", 0, Long.MaxValue)
  private var opened: OpenSplit = _
  private var result: ArrowSearchResult = _
  private var remaining = 0L // count-only reads: rows still to emit
  private val countOnly = spec.engineColumns.isEmpty
  private var batch: ColumnarBatch = _
  private val constants: Array[ConstantColumnVector] = spec.sources.toArray.map {
    case ColumnSource.Partition(i, dt) =>
      val v = new ConstantColumnVector(spec.batchRows, dt)
      ColumnVectorUtils.populate(v, p.partitionValues, i)
      v
    case ColumnSource.Score if !spec.scoring =>
      val v = new ConstantColumnVector(spec.batchRows, FloatType)
      v.setFloat(0f)
      v
    case ColumnSource.Null(dt) =>
      val v = new ConstantColumnVector(spec.batchRows, dt)
      v.setNull()
      v
    case _ => null
  }

  open()

  private def open(): Unit =
    try {
      opened = SplitCache.acquire(p.path, p.size, p.footerOffset, p.footerLength, spec.cacheBytes, spec.hadoopConf.value)
      val searcher = opened.searcher
      if (countOnly) {
        val n = searcher.count(p.query)
        remaining = spec.limit.fold(n)(l => math.min(n, l.toLong))
      } else {
        val options = new ArrowSearchOptions().batchSize(spec.batchRows).allocator(allocator)
        result = searcher.searchToArrow(p.query, spec.limit.getOrElse(Searcher.ALL_MATCHES), spec.engineColumns, options)
      }
    } catch {
      case NonFatal(e) =>
        close()
        throw wrap(e)
    }

  private def wrap(e: Throwable): Throwable = e match {
    case n: io.needle.NeedleException if n.code() == ErrorCode.QUERY_PARSE || n.code() == ErrorCode.QUERY =>
      NeedleErrors.error(ErrorId.InvalidQuery, n, "query" -> spec.userQuery.getOrElse(p.query),
        "table" -> spec.tableName, "cause" -> n.detail())
    case n: io.needle.NeedleException =>
      NeedleErrors.error(ErrorId.SplitReadFailed, n, "path" -> p.path, "table" -> spec.tableName, "cause" -> n.getMessage)
    case other => other
  }

  override def next(): Boolean =
    try {
      if (countOnly) {
        if (remaining <= 0) false
        else {
          val n = math.min(remaining, spec.batchRows.toLong).toInt
          remaining -= n
          batch = new ColumnarBatch(constants.map(v => v: ColumnVector), n)
          true
        }
      } else {
        var loaded = result.loadNextBatch()
        while (loaded && result.getRoot.getRowCount == 0) loaded = result.loadNextBatch()
        if (!loaded) false
        else {
          val root = result.getRoot
          val vectors: Array[ColumnVector] = spec.sources.toArray.zipWithIndex.map {
            case (ColumnSource.Data(c, dt), _) => ArrowVectors.forColumn(c, dt, root.getVector(c.name))
            case (ColumnSource.Score, i) =>
              if (constants(i) != null) constants(i)
              else new ArrowColumnVector(root.getVector(io.needle.spark.schema.TablePlan.ScoreColumn))
            case (ColumnSource.Partition(_, _), i) => constants(i)
            case (ColumnSource.Null(_), i) => constants(i)
          }
          batch = new ColumnarBatch(vectors, root.getRowCount)
          true
        }
      }
    } catch {
      case NonFatal(e) => throw wrap(e)
    }

  override def get(): ColumnarBatch = batch

  override def close(): Unit = {
    if (result != null) { result.close(); result = null }
    if (opened != null) { SplitCache.release(opened); opened = null }
    constants.foreach(v => if (v != null) v.close())
    allocator.close()
  }
}

/** Rows for reads that include struct, array or map columns (decoded from their JSON). */
final class SplitRowReader(batches: SplitBatchReader, spec: ReadSpec) extends PartitionReader[InternalRow] {
  private var batch: ColumnarBatch = _
  private var i = 0
  private var row: InternalRow = _
  private val types = spec.readSchema.fields.map(_.dataType)
  private val complex = spec.sources.map {
    case ColumnSource.Data(c, _) => c.kind.isInstanceOf[ColumnKind.Complex]
    case _ => false
  }.toArray

  override def next(): Boolean = {
    while (batch == null || i >= batch.numRows()) {
      if (!batches.next()) return false
      batch = batches.get()
      i = 0
    }
    val values = new Array[Any](types.length)
    var j = 0
    while (j < types.length) {
      val v = batch.column(j)
      values(j) =
        if (v.isNullAt(i)) null
        else if (complex(j)) JsonValues.read(v.getUTF8String(i).toString, types(j))
        else batch.getRow(i).get(j, types(j)) match {
          case s: UTF8String => s.clone() // the Arrow buffer is reused by the next batch
          case b: Array[Byte] => b.clone()
          case other => other
        }
      j += 1
    }
    row = new GenericInternalRow(values)
    i += 1
    true
  }

  override def get(): InternalRow = row

  override def close(): Unit = batches.close()
}

/** Column vectors over the engine's Arrow vectors, typed as the table's columns. */
object ArrowVectors {
  def forColumn(c: ColumnPlan, dt: DataType, v: ValueVector): ColumnVector = {
    import ColumnKind._
    val inner = new ArrowColumnVector(v)
    c.kind match {
      case Bool | Float64 | Binary | Timestamp => inner
      case Integral(LongType) => inner
      case Str(_, _) if dt == StringType => inner
      case Complex(_) => inner // JSON text, decoded by SplitRowReader
      case _ => new Converted(dt, c.kind, inner)
    }
  }
}

/** A stored column read back as its Spark type. */
final class Converted(dt: DataType, kind: ColumnKind, inner: ArrowColumnVector) extends ColumnVector(dt) {
  import ColumnKind._
  private def unsupported = new UnsupportedOperationException(s"${kind} column read as ${dt.simpleString}")

  override def close(): Unit = () // the search result owns the Arrow vectors
  override def hasNull: Boolean = inner.hasNull
  override def numNulls: Int = inner.numNulls
  override def isNullAt(rowId: Int): Boolean = inner.isNullAt(rowId)
  override def getBoolean(rowId: Int): Boolean = inner.getBoolean(rowId)
  override def getByte(rowId: Int): Byte = inner.getLong(rowId).toByte
  override def getShort(rowId: Int): Short = inner.getLong(rowId).toShort
  override def getInt(rowId: Int): Int = kind match {
    case Date => Math.floorDiv(inner.getLong(rowId), 86400000000L).toInt
    case _ => inner.getLong(rowId).toInt
  }
  override def getLong(rowId: Int): Long = inner.getLong(rowId)
  override def getFloat(rowId: Int): Float = inner.getDouble(rowId).toFloat
  override def getDouble(rowId: Int): Double = inner.getDouble(rowId)
  override def getDecimal(rowId: Int, precision: Int, scale: Int): Decimal =
    if (isNullAt(rowId)) null
    else kind match {
      case DecimalLong(_, _) => Decimal.createUnsafe(inner.getLong(rowId), precision, scale)
      case DecimalText(_, _) =>
        Decimal(new java.math.BigDecimal(inner.getUTF8String(rowId).toString), precision, scale)
      case _ => throw unsupported
    }
  override def getUTF8String(rowId: Int): UTF8String = inner.getUTF8String(rowId)
  override def getBinary(rowId: Int): Array[Byte] = inner.getBinary(rowId)
  override def getArray(rowId: Int) = throw unsupported
  override def getMap(ordinal: Int) = throw unsupported
  override def getChild(ordinal: Int): ColumnVector = throw unsupported
}
