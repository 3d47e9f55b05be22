package io.needle.spark.schema

import java.util.UUID

import scala.jdk.CollectionConverters._
import scala.util.control.NonFatal

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.{DecimalNode, JsonNodeFactory, TextNode}

import org.apache.spark.sql.types.{DataType, StructType}

import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.{FileStats, Metadata}

/** Between the log's metadata and the Spark side of a table. */
object TableMeta {

  /** The plan of a table as its metadata describes it. */
  def plan(m: Metadata): TablePlan = {
    val schema = m.sparkSchemaJson match {
      case Some(json) => DataType.fromJson(json).asInstanceOf[StructType]
      case None =>
        throw NeedleErrors.error(
          ErrorId.UnsupportedColumn,
          "column" -> "(all)",
          "type" -> "(unknown)",
          "reason" -> ("the table's metadata has no spark_schema (it was written by another engine); " +
            "this version of the connector reads its column types from there"))
    }
    TablePlan(schema, m.partitionColumns, m.fieldOptions)
  }

  /** Metadata for a new table. The needle schema is put in canonical form by the engine, which
    * also validates it (a bad tokenizer name fails here, before any data is written). */
  def newMetadata(plan: TablePlan, configuration: Map[String, String]): Metadata = {
    val canonical =
      try {
        val schema = io.needle.Schema.fromJson(plan.needleSchemaJson)
        checkWithEngine(schema)
        schema.toJson
      } catch {
        case e: io.needle.NeedleException =>
          throw NeedleErrors.error(
            ErrorId.FieldOptionInvalid,
            e,
            "column" -> "(see the reason)",
            "option" -> "needle.field.*",
            "reason" -> s"the engine rejects the schema: ${e.detail()}")
      }
    Metadata(
      id = UUID.randomUUID().toString,
      schemaJson = canonical,
      sparkSchemaJson = Some(plan.schema.json),
      fieldOptions = plan.fieldOptions.filterNot(_._2.isEmpty),
      partitionColumns = plan.partitionColumns,
      configuration = configuration,
      createdTime = System.currentTimeMillis())
  }

  /** Opens (and drops) an index writer with `schema` in a temporary folder: the engine checks
    * analyzers and tokenizers only there, and a table must not be created with a schema no task
    * could write. */
  private def checkWithEngine(schema: io.needle.Schema): Unit = {
    val dir = java.nio.file.Files.createTempDirectory("needle-schema-check")
    try io.needle.IndexWriter.create(dir.resolve("index").toString, schema).close()
    finally io.needle.spark.write.NeedleDataWriter.deleteRecursively(dir.toFile)
  }

  /** Longest string bound kept in the log (docs/format/transaction-log.md, "stats"). */
  val MaxStringBound = 256

  /** The `stats` of an add action, from the metadata JSON of a split (docs/format/split.md).
    * Bounds are given in the table's terms: decimals as numbers, dates as `yyyy-MM-dd`,
    * timestamps as RFC 3339; columns whose bounds mean nothing to a comparison in Spark (text,
    * JSON, float, binary, boolean, non-binary collations, decimals kept as text) get none. */
  def stats(splitMetadataJson: String, plan: TablePlan): FileStats = {
    val root = Json.mapper.readTree(splitMetadataJson)
    val numDocs = Option(root.get("num_docs")).map(_.asLong())
    val fields = Option(root.get("fields")).filter(_.isObject)
    val mins = Map.newBuilder[String, JsonNode]
    val maxs = Map.newBuilder[String, JsonNode]
    val nulls = Map.newBuilder[String, Long]
    plan.columns.foreach { c =>
      fields.flatMap(f => Option(f.get(c.name))).foreach { f =>
        Option(f.get("null_count")).filter(_.canConvertToLong).foreach(n => nulls += c.name -> n.asLong())
        def bound(n: JsonNode): Option[JsonNode] =
          if (n == null || n.isNull) None
          else try boundOf(c, n) catch { case NonFatal(_) => None }
        bound(f.get("min")).foreach(v => mins += c.name -> v)
        bound(f.get("max")).foreach(v => maxs += c.name -> v)
      }
    }
    FileStats(numRecords = numDocs, minValues = mins.result(), maxValues = maxs.result(), nullCount = nulls.result())
  }

  private def boundOf(c: ColumnPlan, n: JsonNode): Option[JsonNode] = {
    import ColumnKind._
    val f = JsonNodeFactory.instance
    c.kind match {
      case Integral(_) if n.isIntegralNumber && n.canConvertToLong => Some(n)
      case DecimalLong(_, scale) if n.isIntegralNumber && n.canConvertToLong =>
        Some(DecimalNode.valueOf(java.math.BigDecimal.valueOf(n.asLong(), scale)))
      case Date if n.isTextual =>
        val micros = JsonValues.parseInstant(n.asText())
        Some(TextNode.valueOf(java.time.LocalDate.ofEpochDay(Math.floorDiv(micros, 86400000000L)).toString))
      case Timestamp if n.isTextual => Some(TextNode.valueOf(JsonValues.formatInstant(JsonValues.parseInstant(n.asText()))))
      case TimestampNtz if n.isTextual => Some(TextNode.valueOf(JsonValues.formatLocal(JsonValues.parseInstant(n.asText()))))
      case Str("string", true) if n.isTextual && n.asText().length <= MaxStringBound => Some(n)
      case _ => None
    }
  }

  /** Table properties that go into the log's `configuration`: the `needle.*` keys that are not
    * per-column options. */
  def configurationOf(properties: Map[String, String]): Map[String, String] =
    properties.filter { case (k, _) =>
      val l = k.toLowerCase(java.util.Locale.ROOT)
      l.startsWith("needle.") && !l.startsWith("needle.field.")
    }

  /** Catalog properties as given to a table: `OPTIONS` keys arrive with an `option.` prefix. */
  def unprefixOptions(properties: java.util.Map[String, String]): Map[String, String] = {
    val all = properties.asScala.toMap
    val plain = all.filterNot(_._1.startsWith("option."))
    val options = all.collect { case (k, v) if k.startsWith("option.") => k.stripPrefix("option.") -> v }
    plain ++ options // OPTIONS win over TBLPROPERTIES of the same key
  }
}

/** A Jackson mapper for the connector's own JSON (split metadata, needle schemas). */
object Json {
  val mapper: com.fasterxml.jackson.databind.ObjectMapper = new com.fasterxml.jackson.databind.ObjectMapper()
}
