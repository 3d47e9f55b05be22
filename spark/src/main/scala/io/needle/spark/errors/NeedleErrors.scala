package io.needle.spark.errors

import scala.collection.mutable
import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}

/** A stable error id. Its message template and SQLSTATE live in `error-conditions.json`; the id
  * never changes meaning once released (tools and users match on it). */
final case class ErrorId private[errors] (name: String) {
  override def toString: String = name
}

/** Every error id the connector raises. The JSON catalog and this list are kept equal by a
  * test. */
object ErrorId {
  private val registry = mutable.LinkedHashMap.empty[String, ErrorId]
  private def id(name: String): ErrorId = {
    val e = new ErrorId(name)
    registry(name) = e
    e
  }

  val ColumnNotStored: ErrorId = id("NEEDLE_COLUMN_NOT_STORED")
  val CommitRetriesExhausted: ErrorId = id("NEEDLE_COMMIT_RETRIES_EXHAUSTED")
  val ConcurrentAddAdd: ErrorId = id("NEEDLE_CONCURRENT_ADD_ADD")
  val ConcurrentDeleteDelete: ErrorId = id("NEEDLE_CONCURRENT_DELETE_DELETE")
  val ConcurrentDeleteRead: ErrorId = id("NEEDLE_CONCURRENT_DELETE_READ")
  val ConcurrentMetadataChange: ErrorId = id("NEEDLE_CONCURRENT_METADATA_CHANGE")
  val ConcurrentProtocolChange: ErrorId = id("NEEDLE_CONCURRENT_PROTOCOL_CHANGE")
  val ConcurrentTableCreate: ErrorId = id("NEEDLE_CONCURRENT_TABLE_CREATE")
  val FieldOptionInvalid: ErrorId = id("NEEDLE_FIELD_OPTION_INVALID")
  val FieldOptionUnknownColumn: ErrorId = id("NEEDLE_FIELD_OPTION_UNKNOWN_COLUMN")
  val InvalidCommit: ErrorId = id("NEEDLE_INVALID_COMMIT")
  val InvalidConfValue: ErrorId = id("NEEDLE_INVALID_CONF_VALUE")
  val InvalidQuery: ErrorId = id("NEEDLE_INVALID_QUERY")
  val LogCorrupt: ErrorId = id("NEEDLE_LOG_CORRUPT")
  val LogIo: ErrorId = id("NEEDLE_LOG_IO")
  val LogStoreNoHardLinks: ErrorId = id("NEEDLE_LOG_STORE_NO_HARD_LINKS")
  val LogStoreUnsafe: ErrorId = id("NEEDLE_LOG_STORE_UNSAFE")
  val MatchInvalidArguments: ErrorId = id("NEEDLE_MATCH_INVALID_ARGUMENTS")
  val MatchNotPushed: ErrorId = id("NEEDLE_MATCH_NOT_PUSHED")
  val PathRequired: ErrorId = id("NEEDLE_PATH_REQUIRED")
  val SchemaMismatch: ErrorId = id("NEEDLE_SCHEMA_MISMATCH")
  val SplitReadFailed: ErrorId = id("NEEDLE_SPLIT_READ_FAILED")
  val SplitWriteFailed: ErrorId = id("NEEDLE_SPLIT_WRITE_FAILED")
  val TableNotFound: ErrorId = id("NEEDLE_TABLE_NOT_FOUND")
  val UnknownConf: ErrorId = id("NEEDLE_UNKNOWN_CONF")
  val UnsupportedColumn: ErrorId = id("NEEDLE_UNSUPPORTED_COLUMN")
  val UnsupportedReaderProtocol: ErrorId = id("NEEDLE_UNSUPPORTED_READER_PROTOCOL")
  val UnsupportedWriterProtocol: ErrorId = id("NEEDLE_UNSUPPORTED_WRITER_PROTOCOL")
  val VersionNotFound: ErrorId = id("NEEDLE_VERSION_NOT_FOUND")

  def all: Seq[ErrorId] = registry.values.toSeq
}

/** An error condition of the catalog: message template (`<param>` placeholders) and SQLSTATE. */
final case class ErrorCondition(id: String, template: String, sqlState: String) {

  /** The placeholder names of the template, in order of first appearance. */
  def parameters: Seq[String] =
    ErrorCondition.Placeholder.findAllMatchIn(template).map(_.group(1)).toSeq.distinct
}

object ErrorCondition {
  private[errors] val Placeholder = "<([A-Za-z][A-Za-z0-9_]*)>".r
}

/** The error catalog (`io/needle/spark/errors/error-conditions.json`) and the helpers that raise
  * its errors. Messages say what went wrong, why, and what to do. */
object NeedleErrors {
  val CatalogResource = "/io/needle/spark/errors/error-conditions.json"

  /** Every condition of the catalog, by id. */
  lazy val catalog: Map[String, ErrorCondition] = loadCatalog()

  private def loadCatalog(): Map[String, ErrorCondition] = {
    val in = getClass.getResourceAsStream(CatalogResource)
    require(in != null, s"missing resource $CatalogResource")
    val root: JsonNode =
      try new ObjectMapper().readTree(in)
      finally in.close()
    root.properties().asScala.map { e =>
      val id = e.getKey
      val node = e.getValue
      val message = node.get("message")
      require(message != null && message.isArray, s"$id: 'message' must be an array of strings")
      val template = message.elements().asScala.map(_.asText()).mkString(" ")
      val sqlState = Option(node.get("sqlState")).map(_.asText()).getOrElse("")
      id -> ErrorCondition(id, template, sqlState)
    }.toMap
  }

  def condition(id: ErrorId): ErrorCondition =
    catalog.getOrElse(id.name, throw new IllegalArgumentException(s"unknown error id $id"))

  /** The message of `id` with `params` substituted. Every placeholder must be given a value
    * (an omission is a programming error). */
  def message(id: ErrorId, params: Map[String, String]): String = {
    val c = condition(id)
    val missing = c.parameters.filterNot(params.contains)
    require(missing.isEmpty, s"$id: missing message parameters ${missing.mkString(", ")}")
    ErrorCondition.Placeholder.replaceAllIn(
      c.template,
      m => java.util.regex.Matcher.quoteReplacement(params(m.group(1))))
  }

  /** A [[NeedleException]] for `id`. */
  def error(id: ErrorId, params: (String, Any)*): NeedleException =
    new NeedleException(id, toParams(params), null)

  def error(id: ErrorId, cause: Throwable, params: (String, Any)*): NeedleException =
    new NeedleException(id, toParams(params), cause)

  /** A [[NeedleConcurrentModificationException]]: a commit lost a race to a conflicting one;
    * running the operation again may succeed. */
  def conflict(id: ErrorId, params: (String, Any)*): NeedleConcurrentModificationException =
    new NeedleConcurrentModificationException(id, toParams(params))

  private def toParams(params: Seq[(String, Any)]): Map[String, String] =
    params.map { case (k, v) => k -> String.valueOf(v) }.toMap
}

/** An error of the needle connector: a stable id, its SQLSTATE and the values filled into its
  * message. The message reads `[ID] text SQLSTATE: xxxxx`, as Spark's own errors do, and it is a
  * `SparkThrowable` whose condition is the id, so tools that read Spark's error conditions (and
  * `catch { case e: SparkThrowable => e.getCondition }`) see needle's. */
class NeedleException(
    val errorId: ErrorId,
    val messageParameters: Map[String, String],
    cause: Throwable)
    extends RuntimeException(NeedleException.render(errorId, messageParameters), cause)
    with org.apache.spark.SparkThrowable {

  def sqlState: String = NeedleErrors.condition(errorId).sqlState

  // The conditions are needle's own, not in Spark's catalog: every method that would look one up
  // there answers from needle's catalog instead.
  override def getCondition: String = errorId.name
  override def getSqlState: String = sqlState
  override def isInternalError: Boolean = false
  override def getMessageParameters: java.util.Map[String, String] = messageParameters.asJava
  override def getDefaultMessageTemplate: String = NeedleErrors.condition(errorId).template
  override def getBreakingChangeInfo: org.apache.spark.BreakingChangeInfo = null
}

object NeedleException {
  private def render(id: ErrorId, params: Map[String, String]): String = {
    val c = NeedleErrors.condition(id)
    s"[$id] ${NeedleErrors.message(id, params)} SQLSTATE: ${c.sqlState}"
  }
}

/** A commit conflicted with a concurrent one (the ids `NEEDLE_CONCURRENT_*`, or retries ran
  * out). Nothing was committed; running the operation again reads the new state. */
class NeedleConcurrentModificationException(id: ErrorId, params: Map[String, String])
    extends NeedleException(id, params, null)
