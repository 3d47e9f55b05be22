package io.needle.spark.log

import java.io.StringWriter

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.core.{JsonGenerator, JsonParser}
import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}
import com.fasterxml.jackson.databind.node.{JsonNodeType, ObjectNode}

/** A line of a log file that does not follow docs/format/transaction-log.md. The log turns it
  * into `NEEDLE_LOG_CORRUPT` with the file name. */
final class MalformedLogException(val detail: String, cause: Throwable = null)
    extends RuntimeException(detail, cause)

/** JSON encoding of actions: one action per line, `{"<type>":{...}}`, members in `snake_case`.
  * Decoding ignores unknown members; an unknown action type decodes to [[UnknownAction]]. */
object ActionCodec {
  private[log] val mapper: ObjectMapper = new ObjectMapper()
    .configure(JsonParser.Feature.STRICT_DUPLICATE_DETECTION, true)

  // ---- encoding ----

  def toJson(action: Action): String = {
    val out = new StringWriter()
    val g = mapper.getFactory.createGenerator(out)
    g.writeStartObject()
    action match {
      case p: Protocol =>
        g.writeObjectFieldStart("protocol")
        g.writeNumberField("min_reader_version", p.minReaderVersion)
        g.writeNumberField("min_writer_version", p.minWriterVersion)
        writeStrings(g, "reader_features", p.readerFeatures.toSeq.sorted)
        writeStrings(g, "writer_features", p.writerFeatures.toSeq.sorted)
        g.writeEndObject()
      case m: Metadata =>
        g.writeObjectFieldStart("metadata")
        g.writeStringField("id", m.id)
        m.name.foreach(g.writeStringField("name", _))
        m.description.foreach(g.writeStringField("description", _))
        g.writeFieldName("schema")
        g.writeTree(parseEmbedded("schema", m.schemaJson))
        m.sparkSchemaJson.foreach { s =>
          g.writeFieldName("spark_schema")
          g.writeTree(parseEmbedded("spark_schema", s))
        }
        g.writeObjectFieldStart("field_options")
        m.fieldOptions.toSeq.sortBy(_._1).foreach { case (col, o) =>
          g.writeObjectFieldStart(col)
          o.fieldType.foreach(g.writeStringField("type", _))
          o.tokenizer.foreach(g.writeStringField("tokenizer", _))
          o.record.foreach(g.writeStringField("record", _))
          o.stored.foreach(g.writeBooleanField("stored", _))
          o.fast.foreach(g.writeBooleanField("fast", _))
          g.writeEndObject()
        }
        g.writeEndObject()
        writeStrings(g, "partition_columns", m.partitionColumns)
        writeStringMap(g, "configuration", m.configuration)
        g.writeNumberField("created_time", m.createdTime)
        g.writeEndObject()
      case a: AddFile =>
        g.writeObjectFieldStart("add")
        g.writeStringField("path", a.path)
        g.writeNumberField("size", a.size)
        g.writeNumberField("num_records", a.numRecords)
        writePartitionValues(g, a.partitionValues)
        g.writeNumberField("footer_offset", a.footerOffset)
        g.writeNumberField("footer_length", a.footerLength)
        g.writeNumberField("modification_time", a.modificationTime)
        g.writeBooleanField("data_change", a.dataChange)
        a.stats.foreach(s => writeStats(g, s))
        if (a.tags.nonEmpty) writeStringMap(g, "tags", a.tags)
        g.writeEndObject()
      case r: RemoveFile =>
        g.writeObjectFieldStart("remove")
        g.writeStringField("path", r.path)
        g.writeNumberField("deletion_timestamp", r.deletionTimestamp)
        g.writeBooleanField("data_change", r.dataChange)
        r.size.foreach(g.writeNumberField("size", _))
        r.numRecords.foreach(g.writeNumberField("num_records", _))
        r.partitionValues.foreach(writePartitionValues(g, _))
        g.writeEndObject()
      case c: CommitInfo =>
        g.writeObjectFieldStart("commit_info")
        g.writeNumberField("timestamp", c.timestamp)
        g.writeStringField("operation", c.operation)
        writeStringMap(g, "operation_parameters", c.operationParameters)
        c.user.foreach(g.writeStringField("user", _))
        g.writeStringField("engine_version", c.engineVersion)
        c.readVersion.foreach(g.writeNumberField("read_version", _))
        c.isBlindAppend.foreach(g.writeBooleanField("is_blind_append", _))
        c.txnId.foreach(g.writeStringField("txn_id", _))
        g.writeEndObject()
      case u: UnknownAction =>
        g.writeFieldName(u.actionType)
        g.writeTree(mapper.readTree(u.json))
    }
    g.writeEndObject()
    g.close()
    out.toString
  }

  private def parseEmbedded(member: String, json: String): JsonNode = {
    val node =
      try mapper.readTree(json)
      catch {
        case e: Exception =>
          throw new IllegalArgumentException(s"metadata.$member is not valid JSON: ${e.getMessage}")
      }
    if (node == null || !node.isObject) {
      throw new IllegalArgumentException(s"metadata.$member must be a JSON object")
    }
    node
  }

  private def writeStrings(g: JsonGenerator, name: String, values: Seq[String]): Unit = {
    g.writeArrayFieldStart(name)
    values.foreach(g.writeString)
    g.writeEndArray()
  }

  private def writeStringMap(g: JsonGenerator, name: String, m: Map[String, String]): Unit = {
    g.writeObjectFieldStart(name)
    m.toSeq.sortBy(_._1).foreach { case (k, v) => g.writeStringField(k, v) }
    g.writeEndObject()
  }

  private def writePartitionValues(g: JsonGenerator, pv: Map[String, Option[String]]): Unit = {
    g.writeObjectFieldStart("partition_values")
    pv.toSeq.sortBy(_._1).foreach {
      case (k, Some(v)) => g.writeStringField(k, v)
      case (k, None) => g.writeNullField(k)
    }
    g.writeEndObject()
  }

  private def writeStats(g: JsonGenerator, s: FileStats): Unit = {
    g.writeObjectFieldStart("stats")
    s.numRecords.foreach(g.writeNumberField("num_records", _))
    def bounds(name: String, m: Map[String, JsonNode]): Unit = {
      g.writeObjectFieldStart(name)
      m.toSeq.sortBy(_._1).foreach { case (k, v) =>
        g.writeFieldName(k)
        g.writeTree(v)
      }
      g.writeEndObject()
    }
    bounds("min", s.minValues)
    bounds("max", s.maxValues)
    g.writeObjectFieldStart("null_count")
    s.nullCount.toSeq.sortBy(_._1).foreach { case (k, v) => g.writeNumberField(k, v) }
    g.writeEndObject()
    g.writeEndObject()
  }

  // ---- decoding ----

  /** Decodes one non-blank line. Throws [[MalformedLogException]]. */
  def fromJson(line: String): Action = {
    val root =
      try mapper.readTree(line)
      catch {
        case e: Exception => throw new MalformedLogException(s"not valid JSON: ${e.getMessage}", e)
      }
    if (root == null || !root.isObject) {
      throw new MalformedLogException("a line is not a JSON object")
    }
    if (root.size() != 1) {
      throw new MalformedLogException(
        s"an action line must have exactly one member, found ${root.size()}")
    }
    val entry = root.properties().iterator().next()
    val tpe = entry.getKey
    val body = entry.getValue
    if (!body.isObject) throw new MalformedLogException(s"action '$tpe' is not a JSON object")
    val o = new Obj(tpe, body.asInstanceOf[ObjectNode])
    tpe match {
      case "protocol" =>
        Protocol(
          minReaderVersion = o.int("min_reader_version"),
          minWriterVersion = o.int("min_writer_version"),
          readerFeatures = o.stringsOpt("reader_features").getOrElse(Nil).toSet,
          writerFeatures = o.stringsOpt("writer_features").getOrElse(Nil).toSet)
      case "metadata" =>
        Metadata(
          id = o.string("id"),
          schemaJson = o.objectRequired("schema").toString,
          sparkSchemaJson = o.objectOpt("spark_schema").map(_.toString),
          fieldOptions = o.objectOpt("field_options").map(fieldOptions).getOrElse(Map.empty),
          partitionColumns = o.stringsOpt("partition_columns").getOrElse(Nil),
          configuration = o.stringMapOpt("configuration").getOrElse(Map.empty),
          createdTime = o.longOpt("created_time").getOrElse(0L),
          name = o.stringOpt("name"),
          description = o.stringOpt("description"))
      case "add" =>
        AddFile(
          path = o.string("path"),
          size = o.long("size"),
          numRecords = o.long("num_records"),
          partitionValues = o.objectOpt("partition_values").map(partitionValues(tpe, _))
            .getOrElse(Map.empty),
          footerOffset = o.long("footer_offset"),
          footerLength = o.long("footer_length"),
          modificationTime = o.long("modification_time"),
          dataChange = o.bool("data_change"),
          stats = o.objectOpt("stats").map(stats),
          tags = o.stringMapOpt("tags").getOrElse(Map.empty))
      case "remove" =>
        RemoveFile(
          path = o.string("path"),
          deletionTimestamp = o.long("deletion_timestamp"),
          dataChange = o.bool("data_change"),
          size = o.longOpt("size"),
          numRecords = o.longOpt("num_records"),
          partitionValues = o.objectOpt("partition_values").map(partitionValues(tpe, _)))
      case "commit_info" =>
        CommitInfo(
          timestamp = o.long("timestamp"),
          operation = o.string("operation"),
          operationParameters = o.stringMapOpt("operation_parameters").getOrElse(Map.empty),
          user = o.stringOpt("user"),
          engineVersion = o.stringOpt("engine_version").getOrElse(""),
          readVersion = o.longOpt("read_version"),
          isBlindAppend = o.boolOpt("is_blind_append"),
          txnId = o.stringOpt("txn_id"))
      case other =>
        UnknownAction(other, body.toString)
    }
  }

  private def fieldOptions(node: ObjectNode): Map[String, FieldOptions] =
    node.properties().asScala.map { e =>
      val col = e.getKey
      if (!e.getValue.isObject) {
        throw new MalformedLogException(s"metadata.field_options.$col is not an object")
      }
      val o = new Obj(s"metadata.field_options.$col", e.getValue.asInstanceOf[ObjectNode])
      col -> FieldOptions(
        fieldType = o.stringOpt("type"),
        tokenizer = o.stringOpt("tokenizer"),
        record = o.stringOpt("record"),
        stored = o.boolOpt("stored"),
        fast = o.boolOpt("fast"))
    }.toMap

  private def partitionValues(tpe: String, node: ObjectNode): Map[String, Option[String]] =
    node.properties().asScala.map { e =>
      val v = e.getValue
      e.getKey -> (v.getNodeType match {
        case JsonNodeType.NULL => None
        case JsonNodeType.STRING => Some(v.asText())
        case _ =>
          throw new MalformedLogException(
            s"$tpe.partition_values.${e.getKey} must be a string or null")
      })
    }.toMap

  private def stats(node: ObjectNode): FileStats = {
    val o = new Obj("add.stats", node)
    def bounds(name: String): Map[String, JsonNode] =
      o.objectOpt(name).map(_.properties().asScala.map(e => e.getKey -> e.getValue).toMap)
        .getOrElse(Map.empty)
    FileStats(
      numRecords = o.longOpt("num_records"),
      minValues = bounds("min"),
      maxValues = bounds("max"),
      nullCount = o.objectOpt("null_count").map { n =>
        val counts = new Obj("add.stats.null_count", n)
        n.properties().asScala.map(e => e.getKey -> counts.long(e.getKey)).toMap
      }.getOrElse(Map.empty))
  }

  /** Typed access to the members of one action object, with errors naming the member. */
  private final class Obj(where: String, node: ObjectNode) {
    private def get(name: String): Option[JsonNode] =
      Option(node.get(name)).filterNot(_.isNull)
    private def missing(name: String) =
      new MalformedLogException(s"$where.$name is required")
    private def wrong(name: String, what: String) =
      new MalformedLogException(s"$where.$name must be $what")

    def string(name: String): String = stringOpt(name).getOrElse(throw missing(name))
    def stringOpt(name: String): Option[String] = get(name).map { v =>
      if (!v.isTextual) throw wrong(name, "a string")
      v.asText()
    }
    def long(name: String): Long = longOpt(name).getOrElse(throw missing(name))
    def longOpt(name: String): Option[Long] = get(name).map { v =>
      if (!v.isIntegralNumber || !v.canConvertToLong) throw wrong(name, "a 64-bit integer")
      v.asLong()
    }
    def int(name: String): Int = get(name).map { v =>
      if (!v.isIntegralNumber || !v.canConvertToInt) throw wrong(name, "a 32-bit integer")
      v.asInt()
    }.getOrElse(throw missing(name))
    def bool(name: String): Boolean = boolOpt(name).getOrElse(throw missing(name))
    def boolOpt(name: String): Option[Boolean] = get(name).map { v =>
      if (!v.isBoolean) throw wrong(name, "true or false")
      v.asBoolean()
    }
    def objectOpt(name: String): Option[ObjectNode] = get(name).map { v =>
      if (!v.isObject) throw wrong(name, "an object")
      v.asInstanceOf[ObjectNode]
    }
    def objectRequired(name: String): ObjectNode = objectOpt(name).getOrElse(throw missing(name))
    def stringsOpt(name: String): Option[Seq[String]] = get(name).map { v =>
      if (!v.isArray) throw wrong(name, "an array of strings")
      v.elements().asScala.map { e =>
        if (!e.isTextual) throw wrong(name, "an array of strings")
        e.asText()
      }.toSeq
    }
    def stringMapOpt(name: String): Option[Map[String, String]] = objectOpt(name).map { obj =>
      obj.properties().asScala.map { e =>
        if (!e.getValue.isTextual) throw wrong(s"$name.${e.getKey}", "a string")
        e.getKey -> e.getValue.asText()
      }.toMap
    }
  }
}
