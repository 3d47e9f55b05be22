package io.needle.spark

import org.apache.spark.sql.Column
import org.apache.spark.sql.{functions => F}

import io.needle.spark.sql.NeedleMatch

/** needle's functions for the DataFrame API (the session needs the SQL extension,
  * `spark.sql.extensions=io.needle.spark.sql.NeedleSparkSessionExtensions`):
  *
  * {{{
  *   import io.needle.spark.functions._
  *   spark.read.format("needle").load(path).where(needle_match($"message", "\"disk full\" AND sda*"))
  * }}}
  */
object functions {
  /** True for the rows the full-text `query` matches, with `column` as the query's default field.
    * Only as a filter of a needle table; `_score` is the query's BM25 score. */
  def needle_match(column: Column, query: String): Column =
    F.call_function(NeedleMatch.Name, column, F.lit(query))

  def needle_match(columnName: String, query: String): Column = needle_match(F.col(columnName), query)

  /** `needle_match` over every text column of the table (`_indexall indexquery 'query'`). */
  def needle_match_all(query: String): Column = needle_match(F.col(NeedleMatch.IndexAll), query)
}
