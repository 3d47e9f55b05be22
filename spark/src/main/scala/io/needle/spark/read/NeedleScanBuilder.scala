package io.needle.spark.read

import java.util.OptionalLong

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow
import org.apache.spark.sql.connector.expressions.filter.Predicate
import org.apache.spark.sql.connector.read._
import org.apache.spark.sql.types.StructType

import io.needle.spark.catalog.{NeedleSession, NeedleTable}
import io.needle.spark.conf.NeedleConf
import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.Snapshot
import io.needle.spark.schema.{PartitionValues, TablePlan}
import io.needle.spark.write.SerializableConf

/** Reads a needle table: pushed-down filters become a needle query per split (built with the
  * split's partition values and statistics, so that splits no row of which can match are never
  * opened), columns are pruned, a limit goes to each split, `_score` is the BM25 score. Every
  * match is returned: no top-k cut-off unless Spark pushes a LIMIT. */
final class NeedleScanBuilder(table: NeedleTable, plan: TablePlan, options: Map[String, String])
    extends ScanBuilder
    with SupportsPushDownV2Filters
    with SupportsPushDownRequiredColumns
    with SupportsPushDownLimit {

  private val translator = new FilterTranslator(plan)
  private var predicates: Seq[Predicate] = Nil
  private var pushed: Array[Predicate] = Array.empty
  private var allExact = true
  private var required: StructType = plan.schema
  private var limit: Option[Int] = None

  override def pushPredicates(ps: Array[Predicate]): Array[Predicate] = {
    val translated = ps.toSeq.map(p => p -> translator.translate(p, None))
    predicates = ps.toSeq
    // Pushed: every predicate that narrows the search at all; returned to Spark: those needle
    // does not evaluate exactly.
    pushed = translated.collect { case (p, t) if t.exact || t.t != QueryTree.All => p }.toArray
    val remaining = translated.collect { case (p, t) if !t.exact => p }
    allExact = remaining.isEmpty
    remaining.toArray
  }

  override def pushedPredicates(): Array[Predicate] = pushed

  override def pruneColumns(requiredSchema: StructType): Unit = required = requiredSchema

  override def pushLimit(n: Int): Boolean = {
    if (allExact && n >= 0) {
      limit = Some(n)
      true
    } else false
  }

  // Each split returns at most `limit` rows; Spark still applies the limit to all of them.
  override def isPartiallyPushed: Boolean = true

  override def build(): Scan = {
    val conf = NeedleSession.resolver(options, table.tableProperties)
    val query = conf.get(NeedleConf.ReadQuery)
    query.foreach { q =>
      if (q.trim.isEmpty) {
        throw NeedleErrors.error(ErrorId.InvalidQuery, "query" -> q, "table" -> table.name(),
          "cause" -> "the query is empty (an empty needle query matches nothing)")
      }
    }
    // needle_match / indexquery filters: (column, query), column None for _indexall.
    val fullText = predicates.flatMap(translator.fullTextQueries).distinct
    fullText.foreach { case (_, q) =>
      if (q.trim.isEmpty) {
        throw NeedleErrors.error(ErrorId.InvalidQuery, "query" -> q, "table" -> table.name(),
          "cause" -> "the query is empty (an empty needle query matches nothing)")
      }
    }
    val hadoopConf = new SerializableConf(NeedleSession.hadoopConf(options))
    val cacheBytes = conf.get(NeedleConf.CacheSize)
    val checks = query.map(q => (Option.empty[String], q)).toSeq ++ fullText
    if (checks.nonEmpty) checkQueries(checks, cacheBytes, hadoopConf)
    new NeedleScan(table, plan, required, predicates, translator, query, scoring = query.isDefined || fullText.nonEmpty,
      limit, cacheBytes, hadoopConf)
  }

  /** Parses the user's queries (`needle.read.query`, each needle_match with its column as the
    * default field) against the table's first split on the driver, so that a bad query fails the
    * query plan (naming the query and the position in it) rather than every task. A table
    * without splits has nothing to search, so nothing is checked. */
  private def checkQueries(queries: Seq[(Option[String], String)], cacheBytes: Long, hadoopConf: SerializableConf): Unit = {
    table.snapshot.flatMap(_.files.headOption).foreach { f =>
      val file = table.snapshot.get.absolutePath(f.path).toString
      val opened =
        try SplitCache.acquire(file, f.size, f.footerOffset, f.footerLength, cacheBytes, hadoopConf.value)
        catch {
          case n: io.needle.NeedleException =>
            throw NeedleErrors.error(ErrorId.SplitReadFailed, n, "path" -> file, "table" -> table.name(), "cause" -> n.getMessage)
        }
      try {
        queries.foreach { case (column, q) =>
          val parseOptions = new io.needle.QueryOptions()
          column.foreach(c => parseOptions.defaultFields(c))
          try opened.searcher.parse(q, parseOptions).close()
          catch {
            case n: io.needle.NeedleException
                if n.code() == io.needle.ErrorCode.QUERY_PARSE || n.code() == io.needle.ErrorCode.QUERY =>
              throw NeedleErrors.error(ErrorId.InvalidQuery, n, "query" -> q, "table" -> table.name(), "cause" -> n.detail())
            case n: io.needle.NeedleException =>
              throw NeedleErrors.error(ErrorId.SplitReadFailed, n, "path" -> file, "table" -> table.name(), "cause" -> n.getMessage)
          }
        }
      } finally SplitCache.release(opened)
    }
  }
}

final class NeedleScan(
    table: NeedleTable,
    plan: TablePlan,
    readSchema: StructType,
    predicates: Seq[Predicate],
    translator: FilterTranslator,
    userQuery: Option[String],
    /** Whether rows are scored (a user query or a needle_match): `_score` comes from the engine. */
    scoring: Boolean,
    limit: Option[Int],
    cacheBytes: Long,
    hadoopConf: SerializableConf)
    extends Scan with Batch with SupportsReportStatistics {

  override def readSchema(): StructType = readSchema

  override def toBatch: Batch = this

  override def description(): String = {
    val q = userQuery.map(q => s", query=$q").getOrElse("")
    val l = limit.map(n => s", limit=$n").getOrElse("")
    s"needle ${table.name()}$q$l, filters=[${predicates.mkString(", ")}]"
  }

  private def snapshot: Option[Snapshot] = table.snapshot

  /** The query of one split, or None when no row of it can match. */
  private[read] def splitQuery(partitionValues: Map[String, Any], file: io.needle.spark.log.AddFile): Option[String] = {
    val ctx = SplitContext(partitionValues, file.stats, file.numRecords)
    val filters = QueryTree.and(predicates.map(p => translator.translate(p, Some(ctx)).t): _*)
    if (filters == QueryTree.Empty) None
    else Some(userQuery match {
      // The filters must match but do not score (boost 0): _score is the user query's, plus
      // that of the filters' full-text queries (needle_match) if there are some.
      case Some(q) if filters == QueryTree.All => s"($q)"
      case Some(q) if filters.hasMatch => s"(+($q) +${filters.render(scoring = true)})"
      case Some(q) =>
        val f = filters match {
          case QueryTree.Leaf(_) => s"(${filters.render})"
          case _ => filters.render
        }
        s"(+($q) +$f^0)"
      // Full-text filters only: _score is theirs, the other filters have boost 0.
      case None if filters.hasMatch => filters.render(scoring = true)
      // No user query: _score is 0 (the reader does not ask the engine for it).
      case None => filters.render
    })
  }

  override def planInputPartitions(): Array[InputPartition] = {
    val partitionFields = plan.partitionFields
    snapshot.toSeq.flatMap(_.files).flatMap { f =>
      val values: Map[String, Any] = partitionFields.map { pf =>
        pf.name -> PartitionValues.parse(f.partitionValues.getOrElse(pf.name, None), pf.dataType)
      }.toMap
      splitQuery(values, f).map { q =>
        val row = new GenericInternalRow(partitionFields.map(pf => values(pf.name)).toArray[Any])
        NeedleInputPartition(
          path = table.snapshot.get.absolutePath(f.path).toString,
          size = f.size,
          footerOffset = f.footerOffset,
          footerLength = f.footerLength,
          numRecords = f.numRecords,
          partitionValues = row,
          query = q): InputPartition
      }
    }.toArray
  }

  override def createReaderFactory(): PartitionReaderFactory =
    new NeedleReaderFactory(ReadSpec(
      tableName = table.name(),
      plan = plan,
      readSchema = readSchema,
      limit = limit,
      userQuery = userQuery,
      scoring = scoring,
      cacheBytes = cacheBytes,
      hadoopConf = hadoopConf))

  override def estimateStatistics(): Statistics = {
    val s = snapshot
    new Statistics {
      override def sizeInBytes(): OptionalLong = OptionalLong.of(s.map(_.sizeInBytes).getOrElse(0L))
      override def numRows(): OptionalLong = OptionalLong.of(s.map(_.numRecords).getOrElse(0L))
    }
  }
}

/** One split to search. */
final case class NeedleInputPartition(
    path: String,
    size: Long,
    footerOffset: Long,
    footerLength: Long,
    numRecords: Long,
    /** Values of the partition columns, in partition-column order (Spark's internal values). */
    partitionValues: InternalRow,
    query: String)
    extends InputPartition
