package io.needle.spark.conf

import java.util.Locale

/** One setting: its key (`needle.…`), the seed project's name for it (accepted as a deprecated
  * alias), its default and how its text is parsed. Documented in docs/configuration.md. */
final case class ConfEntry[T](
    key: String,
    seedKey: Option[String],
    default: T,
    expected: String,
    parse: String => Option[T],
    doc: String) {

  /** The key as Spark session configuration: `spark.` + key. */
  def sessionKey: String = "spark." + key

  private[conf] def matchKey: String = key.toLowerCase(Locale.ROOT)
  private[conf] def matchSeedKey: Option[String] = seedKey.map(_.toLowerCase(Locale.ROOT))
}

/** Every needle setting. Resolution (option, then session conf, then table property, then
  * default) is [[ConfResolver]]'s. */
object NeedleConf {
  val Prefix = "needle."
  val SessionPrefix = "spark.needle."
  val FieldPrefix = "needle.field."

  private val entries = scala.collection.mutable.ArrayBuffer.empty[ConfEntry[_]]
  private def entry[T](e: ConfEntry[T]): ConfEntry[T] = { entries += e; e }

  // ---- writing: building splits ----

  val WorkDir: ConfEntry[Option[String]] = entry(ConfEntry(
    key = "needle.workDir",
    seedKey = Some("tantivy.base.path"),
    default = None,
    expected = "a local folder path",
    parse = s => Some(s.trim).filter(_.nonEmpty).map(Some(_)),
    doc = "Local folder where write tasks build splits before uploading them. Default: a " +
      "`needle` folder under the executor's Spark local directory (`spark.local.dir`)."))

  val IndexingMemory: ConfEntry[Long] = entry(ConfEntry(
    key = "needle.indexing.memory",
    seedKey = Some("tantivy.jni.memory.max"),
    default = 256L << 20,
    expected = "a byte size of at least 1m (e.g. 256m, 1g)",
    parse = s => ByteSize.parse(s).filter(_ >= (1L << 20)),
    doc = "Memory budget of the native index writer of one write task, for all its threads; " +
      "a segment is flushed when it is used up."))

  val BatchSize: ConfEntry[Int] = entry(ConfEntry(
    key = "needle.write.batchSize",
    seedKey = Some("tantivy.batch.size"),
    default = 1000,
    expected = "an integer from 1 to 1000000",
    parse = s => parseInt(s).filter(v => v >= 1 && v <= 1000000),
    doc = "Rows handed to the native writer per call (one Arrow batch)."))

  val TargetSplitSize: ConfEntry[Long] = entry(ConfEntry(
    key = "needle.write.targetSplitSize",
    seedKey = Some("tantivy.segment.size"),
    default = 128L << 20,
    expected = "a byte size of at least 1m (e.g. 128m, 1g)",
    parse = s => ByteSize.parse(s).filter(_ >= (1L << 20)),
    doc = "Size at which a write task finishes a split and starts the next one."))

  // ---- reading ----

  val CacheSize: ConfEntry[Long] = entry(ConfEntry(
    key = "needle.read.cacheSize",
    seedKey = Some("tantivy.cache.size"),
    default = 256L << 20,
    expected = "a byte size (e.g. 256m, 1g; 0 turns the cache off)",
    parse = ByteSize.parse,
    doc = "Per-executor cache of opened splits (footers and hot caches), shared by read tasks."))

  val ReadQuery: ConfEntry[Option[String]] = entry(ConfEntry(
    key = "needle.read.query",
    seedKey = None,
    default = None,
    expected = "a needle query (docs/query-language.md)",
    parse = s => Some(Some(s)),
    doc = "A full-text query in the needle query language that every row read must match, " +
      "ANDed with the pushed-down filters; `_score` is its BM25 score. Meant as a read option."))

  // ---- the transaction log ----

  val LogCheckpointInterval: ConfEntry[Int] = entry(ConfEntry(
    key = "needle.log.checkpointInterval",
    seedKey = None,
    default = 10,
    expected = "an integer from 0 to 100000 (0: no checkpoints)",
    parse = s => parseInt(s).filter(v => v >= 0 && v <= 100000),
    doc = "A checkpoint of the log is written at every version that is a multiple of this."))

  val LogMaxCommitAttempts: ConfEntry[Int] = entry(ConfEntry(
    key = "needle.log.maxCommitAttempts",
    seedKey = None,
    default = 100,
    expected = "an integer from 1 to 100000",
    parse = s => parseInt(s).filter(v => v >= 1 && v <= 100000),
    doc = "How many versions a commit tries before giving up when other writers keep " +
      "committing first."))

  /** Every entry, in documentation order. */
  def all: Seq[ConfEntry[_]] = entries.toSeq

  // ---- per-column options: needle.field.<column>.<option> ----

  val FieldType = "type"
  val FieldTokenizer = "tokenizer"
  val FieldRecord = "record"
  val FieldStored = "stored"
  val FieldFast = "fast"
  val FieldOptionNames: Seq[String] = Seq(FieldType, FieldTokenizer, FieldRecord, FieldStored, FieldFast)

  def fieldKey(column: String, option: String): String = s"$FieldPrefix$column.$option"

  private[conf] def parseInt(s: String): Option[Int] = scala.util.Try(s.trim.toInt).toOption

  private[conf] def parseBoolean(s: String): Option[Boolean] = s.trim.toLowerCase(Locale.ROOT) match {
    case "true" => Some(true)
    case "false" => Some(false)
    case _ => None
  }
}

/** Byte sizes as Spark writes them: a number with an optional binary unit (`b`, `k`/`kb`/`kib`,
  * `m`, `g`, `t`), case-insensitive; `128m` is 128 × 2^20 bytes. */
object ByteSize {
  private val Pattern = """(?i)^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)?\s*$""".r

  def parse(s: String): Option[Long] = s match {
    case Pattern(num, unit) =>
      val shift = Option(unit).map(_.toLowerCase(Locale.ROOT).head) match {
        case None | Some('b') => 0
        case Some('k') => 10
        case Some('m') => 20
        case Some('g') => 30
        case Some('t') => 40
        case Some(_) => return None
      }
      scala.util.Try(BigInt(num) << shift).toOption.filter(_.isValidLong).map(_.toLong)
    case _ => None
  }

  def format(bytes: Long): String = {
    val units = Seq(40 -> "t", 30 -> "g", 20 -> "m", 10 -> "k")
    units.collectFirst {
      case (shift, u) if bytes != 0 && bytes % (1L << shift) == 0 => s"${bytes >> shift}$u"
    }.getOrElse(bytes.toString)
  }
}
