package io.needle.spark.conf

import java.util.Locale

import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.FieldOptions

/** Where a resolved value came from; rendered in error messages. */
sealed trait ConfSource { def describe: String }

object ConfSource {
  final case class DataSourceOption(key: String) extends ConfSource {
    def describe: String = s"option $key"
  }
  final case class Session(key: String) extends ConfSource {
    def describe: String = s"session conf $key"
  }
  final case class Table(key: String) extends ConfSource {
    def describe: String = s"table property $key"
  }
  case object Default extends ConfSource {
    def describe: String = "default"
  }
}

final case class Resolved[T](value: T, source: ConfSource)

/** Resolves needle settings from three maps, highest precedence first:
  *
  *   1. read/write options (`needle.x`; keys are case-insensitive, as Spark's options are);
  *   2. the Spark session configuration (`spark.needle.x`);
  *   3. table properties (`needle.x`);
  *
  * then the entry's default. In each map the seed project's name of a setting (e.g.
  * `tantivy.batch.size`, or `spark.tantivy.batch.size` in the session) is accepted when our key
  * is absent there. A value that does not parse is an error naming its source
  * (`NEEDLE_INVALID_CONF_VALUE`), never silently replaced by a lower-precedence one.
  *
  * Pure: takes plain maps, so it needs no SparkSession. */
final class ConfResolver(
    options: Map[String, String],
    session: Map[String, String],
    table: Map[String, String],
    caseSensitiveColumns: Boolean = false) {

  private def lower(s: String) = s.toLowerCase(Locale.ROOT)

  // Options match case-insensitively (Spark lower-cases them); session conf and table property
  // keys are matched case-insensitively too, so `needle.write.batchsize` is not a silent no-op.
  private final case class Source(
      entries: Map[String, (String, String)], // lower-cased key -> (key as given, value)
      label: String => ConfSource,
      prefix: String) // what our keys look like in this source: "" or "spark."

  private def index(m: Map[String, String]): Map[String, (String, String)] =
    m.map { case (k, v) => lower(k) -> (k, v) }

  private val sources: Seq[Source] = Seq(
    Source(index(options), ConfSource.DataSourceOption.apply, ""),
    Source(index(session), ConfSource.Session.apply, "spark."),
    Source(index(table), ConfSource.Table.apply, ""))

  /** The value of `entry`. */
  def get[T](entry: ConfEntry[T]): T = resolve(entry).value

  /** The value of `entry` and where it came from. */
  def resolve[T](entry: ConfEntry[T]): Resolved[T] = {
    val found = sources.iterator.flatMap { src =>
      val candidates = (src.prefix + entry.matchKey) +: entry.matchSeedKey.toSeq.flatMap { seed =>
        // The seed's names were plain Spark conf keys: accept them bare and with "spark.".
        if (src.prefix.isEmpty) Seq(seed) else Seq(src.prefix + seed, seed)
      }
      candidates.iterator.flatMap(src.entries.get).take(1).map {
        case (given, value) => (src.label(given), value)
      }
    }.take(1).toSeq.headOption
    found match {
      case None => Resolved(entry.default, ConfSource.Default)
      case Some((source, text)) =>
        entry.parse(text) match {
          case Some(v) => Resolved(v, source)
          case None => throw invalid(source, text, entry.expected)
        }
    }
  }

  private def invalid(source: ConfSource, value: String, expected: String) =
    NeedleErrors.error(
      ErrorId.InvalidConfValue,
      "value" -> value,
      "key" -> keyOf(source),
      "source" -> source.describe,
      "expected" -> expected)

  private def keyOf(source: ConfSource): String = source match {
    case ConfSource.DataSourceOption(k) => k
    case ConfSource.Session(k) => k
    case ConfSource.Table(k) => k
    case ConfSource.Default => ""
  }

  /** Per-column needle options (`needle.field.<column>.<option>`) for a table with `columns`,
    * each option resolved with the same precedence. Columns without options are absent. Fails
    * on an option for a column the table does not have, an unknown option name, or a bad
    * value. */
  def fieldOptions(columns: Seq[String]): Map[String, FieldOptions] = {
    val byName: Map[String, String] =
      if (caseSensitiveColumns) columns.map(c => c -> c).toMap
      else columns.map(c => lower(c) -> c).toMap
    // (column, option) -> (source, value), highest precedence first wins
    val chosen = scala.collection.mutable.LinkedHashMap.empty[(String, String), (ConfSource, String)]
    sources.foreach { src =>
      val fieldPrefix = src.prefix + NeedleConf.FieldPrefix
      src.entries.foreach { case (lk, (given, value)) =>
        if (lk.startsWith(fieldPrefix)) {
          val source = src.label(given)
          val rest = given.substring(fieldPrefix.length) // original case: column names
          val dot = rest.lastIndexOf('.')
          val option = if (dot > 0) lower(rest.substring(dot + 1)) else ""
          if (dot <= 0 || !NeedleConf.FieldOptionNames.contains(option)) {
            throw unknown(source, given)
          }
          val colGiven = rest.substring(0, dot)
          val column = byName.getOrElse(
            if (caseSensitiveColumns) colGiven else lower(colGiven),
            throw NeedleErrors.error(
              ErrorId.FieldOptionUnknownColumn,
              "key" -> given,
              "source" -> source.describe,
              "column" -> colGiven,
              "columns" -> columns.mkString(", ")))
          if (!chosen.contains((column, option))) chosen((column, option)) = (source, value)
        }
      }
    }
    chosen.toSeq.groupBy(_._1._1).map { case (column, opts) =>
      column -> opts.foldLeft(FieldOptions.Empty) { case (acc, ((_, option), (source, text))) =>
        def bad(expected: String) = invalid(source, text, expected)
        val v = text.trim
        option match {
          case NeedleConf.FieldType =>
            val t = lower(v)
            if (!FieldOptions.Types.contains(t)) throw bad(FieldOptions.Types.mkString(" | "))
            acc.copy(fieldType = Some(t))
          case NeedleConf.FieldTokenizer =>
            if (v.isEmpty) throw bad("an analyzer name")
            acc.copy(tokenizer = Some(v))
          case NeedleConf.FieldRecord =>
            val r = lower(v)
            if (!FieldOptions.Records.contains(r)) throw bad(FieldOptions.Records.mkString(" | "))
            acc.copy(record = Some(r))
          case NeedleConf.FieldStored =>
            acc.copy(stored = Some(NeedleConf.parseBoolean(v).getOrElse(throw bad("true | false"))))
          case NeedleConf.FieldFast =>
            acc.copy(fast = Some(NeedleConf.parseBoolean(v).getOrElse(throw bad("true | false"))))
        }
      }
    }
  }

  /** Checks every needle key of the three maps: known keys must parse, and unknown `needle.*`
    * (options, table properties) or `spark.needle.*` (session) keys are errors, with the
    * closest known key suggested. Per-column keys are checked by [[fieldOptions]]. */
  def validate(): Unit = {
    NeedleConf.all.foreach(e => resolve(e))
    val known: Set[String] = NeedleConf.all.flatMap(e => Seq(e.matchKey)).toSet
    sources.foreach { src =>
      val ours = src.prefix + NeedleConf.Prefix
      src.entries.foreach { case (lk, (given, _)) =>
        if (lk.startsWith(ours) && !lk.startsWith(src.prefix + NeedleConf.FieldPrefix) &&
          !known.contains(lk.substring(src.prefix.length))) {
          throw unknown(src.label(given), given)
        }
      }
    }
  }

  private def unknown(source: ConfSource, given: String) = {
    val suggestion = ConfResolver.closest(given, source).map(k => s"; did you mean $k?").getOrElse("")
    NeedleErrors.error(
      ErrorId.UnknownConf,
      "key" -> given,
      "source" -> source.describe,
      "suggestion" -> suggestion)
  }
}

object ConfResolver {
  def apply(
      options: Map[String, String] = Map.empty,
      session: Map[String, String] = Map.empty,
      table: Map[String, String] = Map.empty): ConfResolver =
    new ConfResolver(options, session, table)

  /** Settings from table properties alone (what the log reads). */
  def forTable(properties: Map[String, String]): ConfResolver = apply(table = properties)

  /** The known key nearest to `given` (edit distance, case-insensitive), if near enough. */
  private[conf] def closest(given: String, source: ConfSource): Option[String] = {
    val prefix = source match {
      case ConfSource.Session(_) => "spark."
      case _ => ""
    }
    val g = given.toLowerCase(Locale.ROOT)
    val fieldCandidates = NeedleConf.FieldOptionNames.map(o => s"${NeedleConf.FieldPrefix}<column>.$o")
    val candidates = NeedleConf.all.map(e => prefix + e.key)
    val best = candidates.map(c => c -> editDistance(g, c.toLowerCase(Locale.ROOT))).minBy(_._2)
    if (best._2 <= math.max(2, g.length / 5)) Some(best._1)
    else if (g.startsWith(prefix + NeedleConf.FieldPrefix)) {
      Some(fieldCandidates.map(prefix + _).mkString(" | "))
    } else None
  }

  private[conf] def editDistance(a: String, b: String): Int = {
    val prev = Array.tabulate(b.length + 1)(identity)
    val cur = new Array[Int](b.length + 1)
    for (i <- 1 to a.length) {
      cur(0) = i
      for (j <- 1 to b.length) {
        val cost = if (a(i - 1) == b(j - 1)) 0 else 1
        cur(j) = math.min(math.min(cur(j - 1) + 1, prev(j) + 1), prev(j - 1) + cost)
      }
      System.arraycopy(cur, 0, prev, 0, cur.length)
    }
    prev(b.length)
  }
}
