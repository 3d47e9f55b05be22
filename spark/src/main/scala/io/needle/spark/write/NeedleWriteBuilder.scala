package io.needle.spark.write

import scala.jdk.CollectionConverters._
import scala.util.control.NonFatal

import org.apache.hadoop.fs.Path
import org.slf4j.LoggerFactory

import org.apache.spark.sql.connector.distributions.{Distribution, Distributions}
import org.apache.spark.sql.connector.expressions.{Expressions, SortDirection, SortOrder}
import org.apache.spark.sql.connector.write._
import org.apache.spark.sql.types.{ArrayType, DataType, MapType, StructField, StructType}

import io.needle.spark.catalog.{NeedleSession, NeedleTable}
import io.needle.spark.conf.NeedleConf
import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.{Action, AddFile, FieldOptions, Metadata, OptimisticTransaction}
import io.needle.spark.schema.{TableMeta, TablePlan}

/** Append (the default) or overwrite (`truncate`: every split of the table is removed in the
  * same commit that adds the new ones). */
final class NeedleWriteBuilder(table: NeedleTable, info: LogicalWriteInfo)
    extends WriteBuilder with SupportsTruncate {
  private var overwrite = false

  override def truncate(): WriteBuilder = {
    overwrite = true
    this
  }

  override def build(): Write = new NeedleWrite(table, info, overwrite)
}

final class NeedleWrite(table: NeedleTable, info: LogicalWriteInfo, overwrite: Boolean)
    extends Write with RequiresDistributionAndOrdering {

  private val options: Map[String, String] = info.options().asCaseSensitiveMap().asScala.toMap

  /** Partition columns of the table being written (rows are sorted by them within each task, so
    * that a task has one split open at a time). */
  private def partitionColumns: Seq[String] = table.plan.map(_.partitionColumns).getOrElse(Nil)

  override def requiredDistribution(): Distribution = Distributions.unspecified()

  override def requiredOrdering(): Array[SortOrder] =
    partitionColumns.map(c => Expressions.sort(Expressions.column(c), SortDirection.ASCENDING)).toArray

  override def description(): String =
    s"needle ${if (overwrite) "overwrite" else "append"} to ${table.name()}"

  // Prepared when the write is planned, so that bad settings fail the query before any task
  // runs (and the transaction's read version is the table as planned).
  private val batch: NeedleBatchWrite = NeedleBatchWrite.prepare(table, info.schema(), options, overwrite)

  override def toBatch: BatchWrite = batch
}

/** The driver side of a write: the transaction (started when the write is planned), the table's
  * metadata (new when this write creates the table) and the settings the tasks use. */
final class NeedleBatchWrite private (
    tablePath: Path,
    txn: OptimisticTransaction,
    newMetadata: Option[Metadata],
    spec: WriteSpec,
    overwrite: Boolean) extends BatchWrite {
  import NeedleBatchWrite.log

  override def createBatchWriterFactory(info: PhysicalWriteInfo): DataWriterFactory =
    new NeedleDataWriterFactory(spec)

  override def useCommitCoordinator(): Boolean = true

  override def commit(messages: Array[WriterCommitMessage]): Unit = {
    val adds: Seq[AddFile] = messages.toSeq.flatMap {
      case m: NeedleCommitMessage => m.files
      case null => Nil
      case other => throw new IllegalStateException(s"unexpected commit message $other")
    }
    val removes = if (overwrite) {
      txn.readWholeTable()
      val now = System.currentTimeMillis()
      txn.snapshot.toSeq.flatMap(_.files).map(_.remove(now))
    } else Nil
    val actions: Seq[Action] = newMetadata.toSeq ++ removes ++ adds
    val operation = if (newMetadata.isDefined) "CREATE TABLE AS SELECT" else "WRITE"
    val params = Map("mode" -> (if (overwrite) "Overwrite" else "Append"))
    val version = txn.commit(actions, operation, params)
    log.info(s"Committed version $version of $tablePath: ${adds.size} splits added, ${removes.size} removed")
  }

  /** Deletes the splits of the committed tasks, then every other split file of this write
    * under the table folder: a task may have committed while the job was failing, and its
    * message then never reaches the driver. (Nothing of an aborted write is ever visible: only
    * the log gives files meaning. This only keeps the folder clean; a task still uploading
    * while the job aborts can leave a file no table version names.) */
  override def abort(messages: Array[WriterCommitMessage]): Unit = {
    val fs = tablePath.getFileSystem(spec.hadoopConf.value)
    def delete(p: Path): Unit =
      try fs.delete(p, false)
      catch { case NonFatal(e) => log.warn(s"Could not delete $p of an aborted write: $e") }
    messages.toSeq.foreach {
      case m: NeedleCommitMessage =>
        m.files.foreach(f => delete(io.needle.spark.log.Snapshot.absolutePath(tablePath, f.path)))
      case _ => ()
    }
    try {
      if (fs.exists(tablePath)) {
        val it = fs.listFiles(tablePath, true)
        val strays = scala.collection.mutable.ArrayBuffer.empty[Path]
        while (it.hasNext) {
          val p = it.next().getPath
          if (NeedleDataWriter.isSplitOf(p.getName, spec.writeId)) strays += p
        }
        strays.foreach(delete)
      }
    } catch {
      case NonFatal(e) => log.warn(s"Could not list $tablePath to clean up an aborted write: $e")
    }
  }

  override def toString: String = s"NeedleBatchWrite($tablePath, overwrite=$overwrite)"
}

object NeedleBatchWrite {
  private val log = LoggerFactory.getLogger(classOf[NeedleBatchWrite])

  /** Starts the transaction and resolves the table's metadata and the write settings. */
  def prepare(
      table: NeedleTable,
      writeSchema: StructType,
      options: Map[String, String],
      overwrite: Boolean): NeedleBatchWrite = {
    val tablePath = table.requirePath("write")
    val nlog = table.log
    val txn = nlog.startTransaction()
    val session = NeedleSession.sessionConf

    val (metadata: Metadata, isNew: Boolean) = txn.snapshot match {
      case Some(s) if table.snapshot.isEmpty && table.mustCreate =>
        throw NeedleErrors.conflict(
          ErrorId.ConcurrentTableCreate,
          "table" -> tablePath,
          "readVersion" -> -1,
          "winningVersion" -> s.version,
          "winningOperation" -> "another writer")
      case Some(s) => (s.metadata, false)
      case None =>
        val declared = table.declared
        val schema = declared.map(_.schema).getOrElse(org.apache.spark.sql.needle.SparkInternals.asNullable(writeSchema))
        val partitionColumns = declared.map(_.partitionColumns).getOrElse(Nil)
        val tableProps = TableMeta.configurationOf(table.catalogProperties)
        val fieldResolver = new io.needle.spark.conf.ConfResolver(
          options, session, fieldKeys(table.catalogProperties))
        val fieldOptions = fieldResolver.fieldOptions(schema.fieldNames.toSeq)
        // Table-level settings given as options when a DataFrame write creates the table.
        val fromOptions = TableMeta.configurationOf(options).filter { case (k, _) =>
          k.toLowerCase(java.util.Locale.ROOT).startsWith("needle.log.")
        }
        val plan = TablePlan(schema, partitionColumns, fieldOptions)
        (TableMeta.newMetadata(plan, tableProps ++ fromOptions), true)
    }
    val plan = TableMeta.plan(metadata)
    checkSchema(tablePath, plan.schema, writeSchema)
    if (!isNew) checkFieldOptions(plan, options)

    val conf = NeedleSession.resolver(options, metadata.configuration)
    val spec = WriteSpec(
      tablePath = tablePath.toString,
      writeId = java.util.UUID.randomUUID().toString,
      needleSchemaJson = metadata.schemaJson,
      plan = plan,
      inputSchema = writeSchema,
      batchSize = conf.get(NeedleConf.BatchSize),
      memoryBytes = conf.get(NeedleConf.IndexingMemory),
      targetSplitSize = conf.get(NeedleConf.TargetSplitSize),
      workDir = conf.get(NeedleConf.WorkDir),
      hadoopConf = new SerializableConf(NeedleSession.hadoopConf(options)))
    new NeedleBatchWrite(tablePath, txn, if (isNew) Some(metadata) else None, spec, overwrite)
  }

  private def fieldKeys(properties: Map[String, String]): Map[String, String] =
    properties.filter(_._1.toLowerCase(java.util.Locale.ROOT).startsWith(NeedleConf.FieldPrefix))

  /** The rows must have the table's columns (Spark resolves a write against the table's schema,
    * so a difference here means the table changed since the write was planned). */
  private def checkSchema(tablePath: Path, tableSchema: StructType, writeSchema: StructType): Unit = {
    val missing = tableSchema.fields.filterNot { f =>
      writeSchema.fields.exists(w => w.name == f.name && loose(w.dataType) == loose(f.dataType))
    }
    if (missing.nonEmpty || writeSchema.length != tableSchema.length) {
      throw NeedleErrors.error(
        ErrorId.SchemaMismatch,
        "table" -> tablePath,
        "writeSchema" -> writeSchema.simpleString,
        "tableSchema" -> tableSchema.simpleString)
    }
  }

  /** `dt` with every nullability flag set and field metadata dropped. */
  private def loose(dt: DataType): DataType = dt match {
    case st: StructType => StructType(st.fields.map(f => StructField(f.name, loose(f.dataType), nullable = true)))
    case ArrayType(e, _) => ArrayType(loose(e), containsNull = true)
    case MapType(k, v, _) => MapType(loose(k), loose(v), valueContainsNull = true)
    case other => other
  }

  /** Per-column options are fixed when the table is created; a write that sets one differently
    * is refused rather than silently ignored. */
  private def checkFieldOptions(plan: TablePlan, options: Map[String, String]): Unit = {
    val given = new io.needle.spark.conf.ConfResolver(options, Map.empty, Map.empty)
      .fieldOptions(plan.schema.fieldNames.toSeq)
    given.foreach { case (column, o) =>
      val stored = plan.fieldOptions.getOrElse(column, FieldOptions.Empty)
      def differs[T](a: Option[T], b: Option[T]): Boolean = a.isDefined && a != b
      val changed =
        Seq("type" -> differs(o.fieldType, stored.fieldType), "tokenizer" -> differs(o.tokenizer, stored.tokenizer),
          "record" -> differs(o.record, stored.record), "stored" -> differs(o.stored, stored.stored),
          "fast" -> differs(o.fast, stored.fast)).collect { case (n, true) => n }
      changed.headOption.foreach { option =>
        throw NeedleErrors.error(
          ErrorId.FieldOptionInvalid,
          "column" -> column,
          "option" -> option,
          "reason" -> ("per-column options are fixed when the table is created and this write sets a " +
            "different value; rewrite the table (overwrite into a new table) to change it"))
      }
    }
  }
}
