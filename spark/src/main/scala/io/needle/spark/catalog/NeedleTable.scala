package io.needle.spark.catalog

import java.util

import scala.jdk.CollectionConverters._

import org.apache.hadoop.fs.Path

import org.apache.spark.sql.connector.catalog.{MetadataColumn, StagedTable, SupportsMetadataColumns, SupportsRead, SupportsWrite, Table, TableCapability}
import org.apache.spark.sql.connector.expressions.{Expressions, Transform}
import org.apache.spark.sql.connector.read.ScanBuilder
import org.apache.spark.sql.connector.write.{LogicalWriteInfo, WriteBuilder}
import org.apache.spark.sql.types.{DataType, FloatType, StructType}
import org.apache.spark.sql.util.CaseInsensitiveStringMap

import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.{NeedleLog, Snapshot}
import io.needle.spark.read.NeedleScanBuilder
import io.needle.spark.schema.{TableMeta, TablePlan}
import io.needle.spark.write.NeedleWriteBuilder

/** A table's schema and partitioning as a catalog or a writer declares them, before the table
  * exists in its log. */
final case class DeclaredTable(schema: StructType, partitionColumns: Seq[String])

/** A needle table: a folder with a transaction log (`_needle_log/`) and `.split` files.
  *
  * `snapshot` is the version read when the table was loaded (None: the log has no commit yet;
  * the first write creates the table from `declared`, or from the written data's schema when
  * nothing is declared). Reads use exactly that version; writes start their transaction when
  * they are planned. */
class NeedleTable(
    val path: Option[Path],
    val snapshot: Option[Snapshot],
    val declared: Option[DeclaredTable],
    /** Catalog table properties (TBLPROPERTIES, OPTIONS without their `option.` prefix). */
    val catalogProperties: Map[String, String],
    val tableName: String)
    extends Table with SupportsRead with SupportsWrite with SupportsMetadataColumns {

  /** The table's plan: from the log, else from the declaration; None when neither exists
    * (a path-based write to a new folder: the table takes the written data's schema). */
  lazy val plan: Option[TablePlan] =
    snapshot.map(s => TableMeta.plan(s.metadata))
      .orElse(declared.map(d => TablePlan(d.schema, d.partitionColumns, Map.empty)))

  def exists: Boolean = snapshot.isDefined

  /** The table properties that settings resolve against: the log's configuration once the
    * table exists, the catalog's before. */
  def tableProperties: Map[String, String] =
    snapshot.map(_.metadata.configuration).getOrElse(TableMeta.configurationOf(catalogProperties))

  def log: NeedleLog = NeedleLogs.forTable(requirePath("access"), NeedleSession.hadoopConf())

  def requirePath(operation: String): Path =
    path.getOrElse(throw NeedleErrors.error(ErrorId.PathRequired, "operation" -> operation))

  /** A staged table (CREATE TABLE AS SELECT in a staging catalog) must create the table: finding
    * it created by someone else is a conflict, not an append. */
  def mustCreate: Boolean = false

  override def name(): String = tableName

  override def schema(): StructType = plan.map(_.schema).getOrElse(new StructType())

  override def partitioning(): Array[Transform] =
    plan.map(_.partitionColumns.map(c => Expressions.identity(c): Transform).toArray).getOrElse(Array.empty)

  override def properties(): util.Map[String, String] = {
    val base = tableProperties ++ path.map(p => "location" -> p.toString) ++ Map("provider" -> "needle")
    val withVersion = base ++ snapshot.map(s => "needle.version" -> s.version.toString)
    withVersion.asJava
  }

  override def capabilities(): util.Set[TableCapability] = {
    val caps = Set(TableCapability.BATCH_READ, TableCapability.BATCH_WRITE, TableCapability.TRUNCATE) ++
      // A folder without a table, opened by path, takes whatever schema the first write has.
      (if (plan.isEmpty) Set(TableCapability.ACCEPT_ANY_SCHEMA) else Set.empty)
    caps.asJava
  }

  override def metadataColumns(): Array[MetadataColumn] = Array(NeedleTable.ScoreColumn, NeedleTable.IndexAllColumn)

  override def newScanBuilder(options: CaseInsensitiveStringMap): ScanBuilder = {
    val p = plan.getOrElse(
      throw NeedleErrors.error(
        ErrorId.TableNotFound,
        "table" -> requirePath("read"),
        "logPath" -> new Path(requirePath("read"), "_needle_log")))
    new NeedleScanBuilder(this, p, options.asCaseSensitiveMap().asScala.toMap)
  }

  override def newWriteBuilder(info: LogicalWriteInfo): WriteBuilder = new NeedleWriteBuilder(this, info)

  override def toString: String = s"NeedleTable($tableName)"
}

object NeedleTable {
  /** The BM25 score of a row for the query that found it (0 when no scoring clause ran). */
  object ScoreColumn extends MetadataColumn {
    override def name(): String = TablePlan.ScoreColumn
    override def dataType(): DataType = FloatType
    override def isNullable: Boolean = false
    override def comment(): String = "BM25 score of the row for the search that found it"
  }

  /** Stands for every text column in `needle_match(_indexall, 'query')` and
    * `_indexall indexquery 'query'`; always null when selected. */
  object IndexAllColumn extends MetadataColumn {
    override def name(): String = io.needle.spark.sql.NeedleMatch.IndexAll
    override def dataType(): DataType = org.apache.spark.sql.types.StringType
    override def isNullable: Boolean = true
    override def comment(): String = "every text column, for needle_match(_indexall, 'query'); null when selected"
  }

  /** Loads the table at `path` (its latest version; or absent). */
  def load(
      path: Path,
      declared: Option[DeclaredTable],
      catalogProperties: Map[String, String],
      name: String,
      version: Option[Long] = None): NeedleTable = {
    val log = NeedleLogs.forTable(path, NeedleSession.hadoopConf())
    val snapshot = version match {
      case Some(v) => Some(log.snapshotAt(v))
      case None => log.snapshotOption()
    }
    new NeedleTable(Some(path), snapshot, declared, catalogProperties, name)
  }
}

/** The table of a CREATE TABLE AS SELECT (or a DataFrame write in mode errorifexists/ignore):
  * the write creates it, in one commit with its data (version 0). */
final class NeedleStagedTable(path: Path, declared: DeclaredTable, catalogProperties: Map[String, String], name: String)
    extends NeedleTable(Some(path), None, Some(declared), catalogProperties, name) with StagedTable {

  override def mustCreate: Boolean = true

  /** The write's commit already created the table (with its data); a CTAS whose query wrote
    * nothing still committed metadata, so there is nothing left to do. */
  override def commitStagedChanges(): Unit = ()

  /** A failed write deleted its files (BatchWrite.abort); nothing was committed. */
  override def abortStagedChanges(): Unit = ()
}
