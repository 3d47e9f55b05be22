package io.needle.spark.catalog

import java.util

import org.apache.spark.sql.SparkSession
import org.apache.spark.sql.catalyst.analysis.TableAlreadyExistsException
import org.apache.spark.sql.connector.catalog._
import org.apache.spark.sql.connector.expressions.Transform
import org.apache.spark.sql.types.StructType
import org.apache.spark.sql.util.CaseInsensitiveStringMap

import io.needle.spark.schema.{TableMeta, TablePlan}

/** A catalog whose table names are folders: `needle_path.`/data/events`` is the needle table in
  * `/data/events`. Path-based DataFrame reads and writes go through it (see
  * [[NeedleDataSource]]); it also answers SQL on such names. It lists nothing and keeps no
  * state: the table's log is the truth.
  *
  * CREATE TABLE AS SELECT is atomic: the table is created by the commit that adds its data. */
class NeedlePathCatalog extends StagingTableCatalog {
  private var catalogName: String = NeedlePathCatalog.Name

  override def initialize(name: String, options: CaseInsensitiveStringMap): Unit = catalogName = name

  override def name(): String = catalogName

  override def listTables(namespace: Array[String]): Array[Identifier] = Array.empty

  private def pathOf(ident: Identifier) =
    NeedleLogs.qualify(ident.name(), NeedleSession.hadoopConf())

  private def display(ident: Identifier) = s"$catalogName.`${ident.name()}`"

  /** The table in the folder, or an empty table there that the first write creates. */
  override def loadTable(ident: Identifier): Table =
    NeedleTable.load(pathOf(ident), None, Map.empty, display(ident))

  /** Time travel: `versionAsOf` / `VERSION AS OF`. */
  override def loadTable(ident: Identifier, version: String): Table = {
    val v = scala.util.Try(version.trim.toLong).getOrElse(
      throw new IllegalArgumentException(s"a needle table version is an integer, not '$version'"))
    val t = NeedleTable.load(pathOf(ident), None, Map.empty, display(ident), Some(v))
    t
  }

  override def tableExists(ident: Identifier): Boolean =
    NeedleLogs.forTable(pathOf(ident), NeedleSession.hadoopConf()).tableExists()

  /** CREATE TABLE on a path: commits the table's metadata as version 0. */
  override def createTable(
      ident: Identifier,
      columns: Array[Column],
      partitions: Array[Transform],
      properties: util.Map[String, String]): Table = {
    val path = pathOf(ident)
    val log = NeedleLogs.forTable(path, NeedleSession.hadoopConf())
    if (log.tableExists()) throw new TableAlreadyExistsException(ident)
    val schema = NeedlePathCatalog.schemaOf(columns)
    val props = TableMeta.unprefixOptions(properties)
    val fieldOptions = new io.needle.spark.conf.ConfResolver(Map.empty, NeedleSession.sessionConf, props)
      .fieldOptions(schema.fieldNames.toSeq)
    val plan = TablePlan(schema, NeedleDataSource.partitionColumns(partitions), fieldOptions)
    NeedleSession.resolver(Map.empty, TableMeta.configurationOf(props))
    val metadata = TableMeta.newMetadata(plan, TableMeta.configurationOf(props))
    log.startTransaction().commit(Seq(metadata), "CREATE TABLE")
    loadTable(ident)
  }

  override def stageCreate(
      ident: Identifier,
      columns: Array[Column],
      partitions: Array[Transform],
      properties: util.Map[String, String]): StagedTable = {
    val path = pathOf(ident)
    if (NeedleLogs.forTable(path, NeedleSession.hadoopConf()).tableExists()) {
      throw new TableAlreadyExistsException(ident)
    }
    val declared = DeclaredTable(NeedlePathCatalog.schemaOf(columns), NeedleDataSource.partitionColumns(partitions))
    val staged = new NeedleStagedTable(path, declared, TableMeta.unprefixOptions(properties), display(ident))
    staged.plan // checks the columns' types and names now, before the query runs
    staged
  }

  override def stageReplace(
      ident: Identifier,
      columns: Array[Column],
      partitions: Array[Transform],
      properties: util.Map[String, String]): StagedTable =
    throw new UnsupportedOperationException(
      "REPLACE TABLE is not supported on needle tables yet; write with mode overwrite instead")

  override def stageCreateOrReplace(
      ident: Identifier,
      columns: Array[Column],
      partitions: Array[Transform],
      properties: util.Map[String, String]): StagedTable =
    if (tableExists(ident)) stageReplace(ident, columns, partitions, properties)
    else stageCreate(ident, columns, partitions, properties)

  override def alterTable(ident: Identifier, changes: TableChange*): Table =
    throw new UnsupportedOperationException("ALTER TABLE is not supported on needle tables yet")

  /** Path tables are never dropped through this catalog (their folder is the user's). */
  override def dropTable(ident: Identifier): Boolean = false

  override def renameTable(oldIdent: Identifier, newIdent: Identifier): Unit =
    throw new UnsupportedOperationException("a needle table named by its path cannot be renamed")

  override def invalidateTable(ident: Identifier): Unit = ()

}

object NeedlePathCatalog {
  /** The name the connector registers the catalog under when a path is first read or written. */
  val Name = "needle_path"

  /** Registers the catalog in `session` unless a catalog of that name is configured already. */
  def register(session: SparkSession): Unit = {
    val key = s"spark.sql.catalog.$Name"
    if (session.conf.getOption(key).isEmpty) session.conf.set(key, classOf[NeedlePathCatalog].getName)
  }

  def schemaOf(columns: Array[Column]): StructType =
    StructType(columns.toSeq.map { c =>
      val f = org.apache.spark.sql.types.StructField(c.name(), c.dataType(), c.nullable())
      Option(c.comment()).fold(f)(f.withComment)
    })
}
