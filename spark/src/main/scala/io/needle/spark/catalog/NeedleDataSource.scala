package io.needle.spark.catalog

import java.util

import org.apache.spark.sql.connector.catalog.{Identifier, SupportsCatalogOptions, Table}
import org.apache.spark.sql.connector.expressions.Transform
import org.apache.spark.sql.sources.DataSourceRegister
import org.apache.spark.sql.types.StructType
import org.apache.spark.sql.util.CaseInsensitiveStringMap

import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.schema.TableMeta

/** `format("needle")`: the entry point Spark finds through `META-INF/services`.
  *
  * Two ways in:
  *
  *  - **Catalog tables** (`CREATE TABLE t (...) USING needle [LOCATION ...]` in the session
  *    catalog): Spark's session catalog keeps the table's name, schema and location and calls
  *    [[getTable]] with them; the needle log is created by the first write.
  *  - **Paths** (`spark.read.format("needle").load(path)`, `df.write.format("needle").save(path)`):
  *    as a [[SupportsCatalogOptions]] source, Spark resolves the path through
  *    [[NeedlePathCatalog]] (registered as `spark.sql.catalog.needle_path` on first use), which is
  *    what lets DataFrame writes use every save mode: `errorifexists` and `ignore` become an
  *    atomic CREATE TABLE AS SELECT there, `append` and `overwrite` write into the table (a new
  *    folder takes the written data's schema). Spark checks `partitionBy` of an `append` or
  *    `overwrite` against the existing table before the connector sees the write, so a
  *    partitioned table is created with the default mode (or `ignore`, or CREATE TABLE). */
class NeedleDataSource extends SupportsCatalogOptions with DataSourceRegister {

  override def shortName(): String = NeedleDataSource.ShortName

  override def supportsExternalMetadata(): Boolean = true

  override def inferSchema(options: CaseInsensitiveStringMap): StructType = {
    val path = NeedleLogs.qualify(NeedleSession.requirePath(options, "read"), NeedleSession.hadoopConf())
    val log = NeedleLogs.forTable(path, NeedleSession.hadoopConf())
    log.snapshotOption() match {
      case Some(s) => TableMeta.plan(s.metadata).schema
      case None =>
        throw NeedleErrors.error(ErrorId.TableNotFound, "table" -> path, "logPath" -> log.logPath)
    }
  }

  /** The log's partition columns. Without a path (CREATE TABLE of a managed table, whose folder
    * is chosen afterwards) or without a table there yet, there is nothing to infer. */
  override def inferPartitioning(options: CaseInsensitiveStringMap): Array[Transform] =
    Option(options.get("path")).filter(_.trim.nonEmpty) match {
      case None => Array.empty
      case Some(p) =>
        val path = NeedleLogs.qualify(p, NeedleSession.hadoopConf())
        NeedleLogs.forTable(path, NeedleSession.hadoopConf()).snapshotOption() match {
          case Some(s) =>
            s.metadata.partitionColumns.map(c => org.apache.spark.sql.connector.expressions.Expressions.identity(c): Transform).toArray
          case None => Array.empty
        }
    }

  /** Called by the session catalog with the schema and partitioning it stores. Without a `path`
    * (a managed table being created: its location is chosen afterwards) the table only answers
    * schema questions. */
  override def getTable(
      schema: StructType,
      partitioning: Array[Transform],
      properties: util.Map[String, String]): Table = {
    val props = TableMeta.unprefixOptions(properties)
    val declared = DeclaredTable(schema, NeedleDataSource.partitionColumns(partitioning))
    Option(properties.get("path")).filter(_.trim.nonEmpty) match {
      case Some(p) =>
        val path = NeedleLogs.qualify(p, NeedleSession.hadoopConf())
        NeedleTable.load(path, Some(declared), props, s"needle.`$path`")
      case None =>
        new NeedleTable(None, None, Some(declared), props, "needle table")
    }
  }

  override def extractIdentifier(options: CaseInsensitiveStringMap): Identifier = {
    val path = NeedleSession.requirePath(options, "read or write")
    Identifier.of(Array.empty[String], NeedleLogs.qualify(path, NeedleSession.hadoopConf()).toString)
  }

  override def extractCatalog(options: CaseInsensitiveStringMap): String = {
    NeedlePathCatalog.register(NeedleSession.active)
    NeedlePathCatalog.Name
  }
}

object NeedleDataSource {
  val ShortName = "needle"

  /** Partition columns from Spark's transforms: only `identity` on top-level columns. */
  def partitionColumns(partitioning: Array[Transform]): Seq[String] =
    partitioning.toSeq.map { t =>
      val refs = t.references().toSeq
      if (t.name() != "identity" || refs.size != 1 || refs.head.fieldNames().length != 1) {
        throw NeedleErrors.error(
          ErrorId.UnsupportedColumn,
          "column" -> refs.map(_.fieldNames().mkString(".")).mkString(", "),
          "type" -> t.describe(),
          "reason" -> "needle tables are partitioned by the values of top-level columns (PARTITIONED BY (col, ...)); bucketing, transforms and clustering are not supported")
      }
      refs.head.fieldNames().head
    }
}
