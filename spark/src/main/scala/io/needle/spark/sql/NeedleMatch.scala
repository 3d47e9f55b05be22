package io.needle.spark.sql

import scala.util.Try

import org.apache.spark.sql.catalyst.InternalRow
import org.apache.spark.sql.catalyst.expressions.{ApplyFunctionExpression, Expression, ExpressionInfo}
import org.apache.spark.sql.connector.catalog.functions.ScalarFunction
import org.apache.spark.sql.connector.expressions.{Cast => V2Cast, Expression => V2Expression, Literal, NamedReference, UserDefinedScalarFunc}
import org.apache.spark.sql.connector.expressions.filter.Predicate
import org.apache.spark.sql.types.{BooleanType, DataType, StringType}
import org.apache.spark.unsafe.types.UTF8String

import io.needle.spark.errors.{ErrorId, NeedleErrors}

/** `needle_match(column, 'query')`: true for the rows of a needle table that the full-text query
  * matches, with `column` as the query's default field (`_indexall`: every text column).
  *
  * It is a V2 [[ScalarFunction]] applied through Catalyst's `ApplyFunctionExpression`, so Spark
  * hands it to the needle scan as a pushed-down predicate (a `UserDefinedScalarFunc` with this
  * canonical name), where it becomes an engine query. It is never evaluated row by row: a
  * needle_match that was not pushed fails the query plan (see [[NeedleMatchGuard]]), and
  * `produceResult` fails too, as a last line of defence. */
final case class NeedleMatchFunction(columnType: DataType, indexAll: Boolean = false)
    extends ScalarFunction[java.lang.Boolean] {
  override def inputTypes(): Array[DataType] = Array(columnType, StringType)
  override def resultType(): DataType = BooleanType
  override def isResultNullable: Boolean = false
  override def name(): String = NeedleMatch.Name
  /** `_indexall`: the first argument only ties the filter to the relation; every text column is
    * searched. */
  override def canonicalName(): String = if (indexAll) NeedleMatch.CanonicalNameAll else NeedleMatch.CanonicalName

  override def produceResult(input: InternalRow): java.lang.Boolean = {
    val q = if (input.isNullAt(1)) "null" else input.getUTF8String(1).toString
    throw NeedleErrors.error(ErrorId.MatchNotPushed,
      "expr" -> s"needle_match(…, ${NeedleMatch.sqlString(q)})",
      "reason" -> "it was about to be evaluated row by row, outside a needle scan")
  }
}

object NeedleMatch {
  val Name = "needle_match"
  val CanonicalName = "io.needle.spark.needle_match"
  val CanonicalNameAll = "io.needle.spark.needle_match_all"
  /** The metadata column that stands for every text column of a needle table. */
  val IndexAll = "_indexall"

  /** The SQL form of a string (single-quoted, `\` and `'` escaped). */
  def sqlString(s: String): String = "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"

  val info: ExpressionInfo = new ExpressionInfo(
    classOf[NeedleMatchFunction].getName, null, Name,
    "_FUNC_(column, query) - true for the rows of a needle table that the full-text query matches, " +
      "with column as the default field (_indexall: every text column). Only in the WHERE clause of " +
      "a query reading a needle table; `column indexquery 'query'` is the same filter.",
    "", "", "", "", "", "", "")

  /** Builds `needle_match(column, query)` from its (resolved) arguments. */
  def build(args: Seq[Expression]): Expression = {
    def invalid(detail: String) = NeedleErrors.error(ErrorId.MatchInvalidArguments,
      "expr" -> s"$Name(${args.map(a => Try(a.sql).getOrElse(a.toString)).mkString(", ")})", "detail" -> detail)
    if (args.size != 2) throw invalid(s"it takes 2 arguments, not ${args.size}")
    val query = args(1)
    if (!query.foldable) throw invalid("the query must be a constant string")
    val colType = Try(args.head.dataType).getOrElse(StringType)
    ApplyFunctionExpression(NeedleMatchFunction(colType), args)
  }

  /** `needle_match(_indexall, query)` over the relation that `anchor` (one of its columns) comes
    * from. */
  def buildAll(anchor: Expression, query: Expression): Expression =
    ApplyFunctionExpression(NeedleMatchFunction(anchor.dataType, indexAll = true), Seq(anchor, query))

  /** `(column, query)` of a pushed-down needle_match (None: `p` is something else). The column
    * is the column's name; an argument that is not a plain column or a constant string is an
    * error. Spark hands the function over as `BOOLEAN_EXPRESSION(f)` or `f = true`. */
  def unapply(p: Predicate): Option[(String, String)] = {
    val ch = p.children().toSeq
    val f = (p.name(), ch) match {
      case ("BOOLEAN_EXPRESSION", Seq(u: UserDefinedScalarFunc)) => Some(u)
      case ("=" | "<=>", Seq(u: UserDefinedScalarFunc, l: Literal[_])) if l.value() == true => Some(u)
      case ("=" | "<=>", Seq(l: Literal[_], u: UserDefinedScalarFunc)) if l.value() == true => Some(u)
      case _ => None
    }
    f.filter(u => u.canonicalName() == CanonicalName || u.canonicalName() == CanonicalNameAll).map(arguments)
  }

  private def arguments(u: UserDefinedScalarFunc): (String, String) = {
    def invalid(detail: String) = NeedleErrors.error(ErrorId.MatchInvalidArguments, "expr" -> u.toString, "detail" -> detail)
    val ch = u.children().toSeq
    if (ch.size != 2) throw invalid(s"it takes 2 arguments, not ${ch.size}")
    def column(e: V2Expression): String = e match {
      case r: NamedReference if r.fieldNames().length == 1 => r.fieldNames()(0)
      case r: NamedReference =>
        throw invalid(s"${r.fieldNames().mkString(".")} is a nested field; name a top-level column of the table")
      case c: V2Cast => column(c.expression())
      case other => throw invalid(s"the first argument ($other) must be a column of the table, not an expression")
    }
    val query = ch(1) match {
      case l: Literal[_] if l.value().isInstanceOf[UTF8String] => l.value().toString
      case l: Literal[_] if l.value() == null => throw invalid("the query is null")
      case other => throw invalid(s"the query ($other) must be a constant string")
    }
    (if (u.canonicalName() == CanonicalNameAll) IndexAll else column(ch.head), query)
  }
}
