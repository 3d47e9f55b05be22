package io.needle.spark.log

import com.fasterxml.jackson.databind.JsonNode

/** One line of a commit file (docs/format/transaction-log.md). These classes are engine-neutral:
  * no Spark types; schemas travel as JSON text. */
sealed trait Action

/** Reader/writer requirements of the table. */
final case class Protocol(
    minReaderVersion: Int,
    minWriterVersion: Int,
    readerFeatures: Set[String] = Set.empty,
    writerFeatures: Set[String] = Set.empty)
    extends Action

object Protocol {

  /** What this implementation reads and writes. */
  val ReaderVersion: Int = 1
  val WriterVersion: Int = 1
  val SupportedReaderFeatures: Set[String] = Set.empty
  val SupportedWriterFeatures: Set[String] = Set.empty

  /** The protocol of a newly created table. */
  def initial: Protocol = Protocol(1, 1)
}

/** The needle options of one column (`field_options` in the metadata). Every member is optional:
  * absent means the connector's default for the column's type. */
final case class FieldOptions(
    fieldType: Option[String] = None,
    tokenizer: Option[String] = None,
    record: Option[String] = None,
    stored: Option[Boolean] = None,
    fast: Option[Boolean] = None) {
  def isEmpty: Boolean = this == FieldOptions.Empty
}

object FieldOptions {
  val Empty: FieldOptions = FieldOptions()
  val Types: Seq[String] = Seq("text", "string", "json")
  val Records: Seq[String] = Seq("basic", "freq", "position")
}

/** Table metadata. `schemaJson` is the needle schema (docs/format/schema.md) and `sparkSchemaJson`
  * the Spark `StructType` JSON, both as JSON text. */
final case class Metadata(
    id: String,
    schemaJson: String,
    sparkSchemaJson: Option[String] = None,
    fieldOptions: Map[String, FieldOptions] = Map.empty,
    partitionColumns: Seq[String] = Nil,
    configuration: Map[String, String] = Map.empty,
    createdTime: Long = 0L,
    name: Option[String] = None,
    description: Option[String] = None)
    extends Action

/** Per-column statistics of a split. Bounds are JSON values (numbers, or the string form used in
  * search results). */
final case class FileStats(
    numRecords: Option[Long] = None,
    minValues: Map[String, JsonNode] = Map.empty,
    maxValues: Map[String, JsonNode] = Map.empty,
    nullCount: Map[String, Long] = Map.empty)

/** A split that becomes part of the table. `path` is relative to the table folder. */
final case class AddFile(
    path: String,
    size: Long,
    numRecords: Long,
    partitionValues: Map[String, Option[String]] = Map.empty,
    footerOffset: Long,
    footerLength: Long,
    modificationTime: Long,
    dataChange: Boolean = true,
    stats: Option[FileStats] = None,
    tags: Map[String, String] = Map.empty)
    extends Action {

  /** The remove action that takes this file out of the table. */
  def remove(deletionTimestamp: Long = System.currentTimeMillis(), dataChange: Boolean = true)
      : RemoveFile =
    RemoveFile(
      path,
      deletionTimestamp,
      dataChange,
      size = Some(size),
      numRecords = Some(numRecords),
      partitionValues = Some(partitionValues))
}

/** A split that stops being part of the table (the file itself stays until a clean-up). */
final case class RemoveFile(
    path: String,
    deletionTimestamp: Long,
    dataChange: Boolean = true,
    size: Option[Long] = None,
    numRecords: Option[Long] = None,
    partitionValues: Option[Map[String, Option[String]]] = None)
    extends Action

/** Provenance of a commit. Written by the transaction, not by callers. */
final case class CommitInfo(
    timestamp: Long,
    operation: String,
    operationParameters: Map[String, String] = Map.empty,
    user: Option[String] = None,
    engineVersion: String,
    readVersion: Option[Long] = None,
    isBlindAppend: Option[Boolean] = None,
    txnId: Option[String] = None)
    extends Action

/** An action of a type this implementation does not know, kept so that callers can see it was
  * there; replay ignores it. */
final case class UnknownAction(actionType: String, json: String) extends Action
