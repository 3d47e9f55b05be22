package io.needle.spark.sql

import org.apache.spark.sql.SparkSessionExtensions
import org.apache.spark.sql.catalyst.{FunctionIdentifier, TableIdentifier}
import org.apache.spark.sql.catalyst.expressions.{ApplyFunctionExpression, Expression}
import org.apache.spark.sql.catalyst.parser.{ParameterContext, ParserInterface}
import org.apache.spark.sql.catalyst.analysis.{UnresolvedAttribute, UnresolvedFunction}
import org.apache.spark.sql.catalyst.plans.logical.{Filter, LogicalPlan}
import org.apache.spark.sql.catalyst.rules.Rule
import org.apache.spark.sql.execution.{SparkPlan, SparkStrategy}
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2ScanRelation
import org.apache.spark.sql.types.{DataType, StructType}

import io.needle.spark.errors.{ErrorId, NeedleErrors}

/** needle's SQL extension: `spark.sql.extensions=io.needle.spark.sql.NeedleSparkSessionExtensions`.
  *
  *  - the function `needle_match(column, 'query')`;
  *  - the operator `column indexquery 'query'` (and `_indexall indexquery 'query'`), which the
  *    parser turns into `needle_match` ([[IndexQuerySql]]);
  *  - a planner check that fails a query in which a needle_match was not pushed into a needle
  *    scan (on another data source, in a SELECT list, under an OR with a condition the scan
  *    cannot take), instead of letting it be evaluated row by row. */
class NeedleSparkSessionExtensions extends (SparkSessionExtensions => Unit) {
  override def apply(ext: SparkSessionExtensions): Unit = {
    ext.injectParser((_, delegate) => new NeedleSqlParser(delegate))
    ext.injectFunction((FunctionIdentifier(NeedleMatch.Name), NeedleMatch.info, NeedleMatch.build _))
    ext.injectResolutionRule(_ => ResolveIndexAll)
    ext.injectPlannerStrategy(_ => NeedleMatchGuard)
  }
}

/** Resolves `needle_match(_indexall, query)` in a filter: `_indexall` is a metadata column of
  * needle tables, but metadata columns do not pass through views, so the call is bound here to
  * the relation below the filter (its first column ties the filter to it) and marked to search
  * every text column. */
object ResolveIndexAll extends Rule[LogicalPlan] {
  private def isIndexAll(e: Expression): Boolean = e match {
    case u: UnresolvedAttribute => u.nameParts.last.equalsIgnoreCase(NeedleMatch.IndexAll)
    case _ => false
  }

  private def isCall(u: UnresolvedFunction): Boolean =
    u.nameParts.last.equalsIgnoreCase(NeedleMatch.Name) && u.arguments.size == 2 && isIndexAll(u.arguments.head) &&
      u.arguments(1).resolved

  override def apply(plan: LogicalPlan): LogicalPlan = plan.resolveOperatorsUp {
    case f: Filter if f.child.resolved && f.child.output.nonEmpty &&
        f.condition.exists { case u: UnresolvedFunction => isCall(u); case _ => false } =>
      val anchor = f.child.output.head
      f.copy(condition = f.condition.transformUp {
        case u: UnresolvedFunction if isCall(u) => NeedleMatch.buildAll(anchor, u.arguments(1))
      })
  }
}

/** Spark's parser with `indexquery` rewritten first. */
final class NeedleSqlParser(delegate: ParserInterface) extends ParserInterface {
  private def r(sql: String): String = IndexQuerySql.rewrite(sql)

  override def parsePlan(sqlText: String): LogicalPlan = delegate.parsePlan(r(sqlText))
  override def parsePlanWithParameters(sqlText: String, ctx: ParameterContext): LogicalPlan =
    delegate.parsePlanWithParameters(r(sqlText), ctx)
  override def parseExpression(sqlText: String): Expression = delegate.parseExpression(r(sqlText))
  override def parseQuery(sqlText: String): LogicalPlan = delegate.parseQuery(r(sqlText))
  override def parseTableIdentifier(sqlText: String): TableIdentifier = delegate.parseTableIdentifier(sqlText)
  override def parseFunctionIdentifier(sqlText: String): FunctionIdentifier = delegate.parseFunctionIdentifier(sqlText)
  override def parseMultipartIdentifier(sqlText: String): Seq[String] = delegate.parseMultipartIdentifier(sqlText)
  override def parseRoutineParam(sqlText: String): StructType = delegate.parseRoutineParam(sqlText)
  override def parseTableSchema(sqlText: String): StructType = delegate.parseTableSchema(sqlText)
  override def parseDataType(sqlText: String): DataType = delegate.parseDataType(sqlText)
}

/** Runs first among the planner's strategies and plans nothing: it fails any plan node that still
  * holds a needle_match once the optimizer has pushed filters into scans. */
object NeedleMatchGuard extends SparkStrategy {
  override def apply(plan: LogicalPlan): Seq[SparkPlan] = plan match {
    // A needle scan lists the filters pushed into it: those are the ones that run as searches.
    case s: DataSourceV2ScanRelation if s.scan.isInstanceOf[io.needle.spark.read.NeedleScan] => Nil
    case _ => check(plan)
  }

  private def check(plan: LogicalPlan): Seq[SparkPlan] = {
    plan.expressions.foreach { e =>
      e.foreach {
        case ApplyFunctionExpression(f: NeedleMatchFunction, args) =>
          val column = if (f.indexAll) NeedleMatch.IndexAll else args.head.sql
          throw NeedleErrors.error(ErrorId.MatchNotPushed,
            "expr" -> s"${NeedleMatch.Name}($column, ${args(1).sql})", "reason" -> reason(plan))
        case _ =>
      }
    }
    Nil
  }

  private def reason(plan: LogicalPlan): String = {
    val leaves = plan.collectLeaves().map(_.nodeName).distinct
    s"the ${plan.nodeName} node over ${leaves.mkString(", ")} would evaluate it row by row; only a filter that " +
      "a needle scan takes whole can run it"
  }
}
