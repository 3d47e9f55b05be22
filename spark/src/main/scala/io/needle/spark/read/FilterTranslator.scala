package io.needle.spark.read

import java.util.Base64

import scala.util.Try

import com.fasterxml.jackson.databind.JsonNode

import org.apache.spark.sql.connector.expressions.{Literal, NamedReference}
import org.apache.spark.sql.connector.expressions.filter.Predicate
import org.apache.spark.sql.types._
import org.apache.spark.unsafe.types.UTF8String

import io.needle.spark.errors.{ErrorId, NeedleErrors}
import io.needle.spark.log.FileStats
import io.needle.spark.read.QueryTree._
import io.needle.spark.schema.{ColumnKind, ColumnPlan, JsonValues, TablePlan}
import io.needle.spark.sql.NeedleMatch

/** What is known about one split when its query is built: its partition values (Spark's
  * internal values, null for a null value) and its statistics from the log. */
final case class SplitContext(partitionValues: Map[String, Any], stats: Option[FileStats], numRecords: Long)

/** A predicate as two needle queries: `t` finds the rows where it is TRUE, `f` the rows where
  * it is FALSE (SQL has a third outcome, NULL, in neither). When `exact`, both are exactly those
  * rows; otherwise both are supersets (a part of the predicate needle cannot evaluate counts as
  * "any row"), which is still good for narrowing a search as long as Spark evaluates the
  * predicate again. NOT swaps the two, so negations stay exact under SQL's three-valued logic. */
final case class Translated(t: QueryTree, f: QueryTree, exact: Boolean)

/** Turns Spark's V2 predicates into needle queries over a table's splits.
  *
  * Exact (the predicate is not evaluated again by Spark):
  *
  *  - `IS NULL`, `IS NOT NULL` on every column;
  *  - `=`, `<=>`, `<>`, `IN` on boolean, integer, decimal, date, timestamp, timestamp_ntz,
  *    float, double, binary and `string`-type string columns (exact terms);
  *  - `<`, `<=`, `>`, `>=` on the same but boolean and decimals of precision > 18 (kept as
  *    text); floats and doubles with Spark's NaN rule (NaN is larger than every number);
  *  - `STARTS_WITH` on `string`-type string columns;
  *  - every predicate on partition columns (evaluated from the log's partition values);
  *  - `needle_match(column, 'query')` ([[io.needle.spark.sql.NeedleMatch]]): the query with the
  *    column as its default field (`_indexall`: every text column); it scores;
  *  - AND, OR, NOT of exact predicates.
  *
  * Not exact: anything on `text` columns except null tests (they are tokenized: `=` asks for
  * the whole value, a term query for one word), on `json`/struct/array/map columns (stored, not
  * indexed), on strings with a collation other than UTF8_BINARY, nested fields, expressions. */
final class FilterTranslator(plan: TablePlan) {
  private val columns: Map[String, ColumnPlan] = plan.columns.map(c => c.name -> c).toMap
  private val partitionTypes: Map[String, DataType] = plan.partitionFields.map(f => f.name -> f.dataType).toMap

  private val Unknown = Translated(All, All, exact = false)

  def translate(p: Predicate, ctx: Option[SplitContext]): Translated = p.name() match {
    case "AND" =>
      val a = translate(p.children()(0).asInstanceOf[Predicate], ctx)
      val b = translate(p.children()(1).asInstanceOf[Predicate], ctx)
      Translated(and(a.t, b.t), or(a.f, b.f), a.exact && b.exact)
    case "OR" =>
      val a = translate(p.children()(0).asInstanceOf[Predicate], ctx)
      val b = translate(p.children()(1).asInstanceOf[Predicate], ctx)
      Translated(or(a.t, b.t), and(a.f, b.f), a.exact && b.exact)
    case "NOT" =>
      val a = translate(p.children()(0).asInstanceOf[Predicate], ctx)
      Translated(a.f, a.t, a.exact)
    case "ALWAYS_TRUE" => Translated(All, Empty, exact = true)
    case "ALWAYS_FALSE" => Translated(Empty, All, exact = true)
    case _ =>
      p match {
        case NeedleMatch(column, query) => fullText(column, query)
        case _ => Try(leaf(p, ctx)).toOption.flatten.getOrElse(Unknown)
      }
  }

  /** Every `needle_match(column, query)` in `p`, as (column, query); `_indexall` as None. */
  def fullTextQueries(p: Predicate): Seq[(Option[String], String)] = p match {
    case NeedleMatch(column, query) =>
      matchColumn(column, query)
      Seq((if (column == NeedleMatch.IndexAll) None else Some(column), query))
    case _ if Set("AND", "OR", "NOT").contains(p.name()) =>
      p.children().toSeq.collect { case c: Predicate => c }.flatMap(fullTextQueries)
    case _ => Nil
  }

  // ---- needle_match: a full-text query, scoring; exact (it is never evaluated by Spark) ----

  private def fullText(column: String, query: String): Translated = {
    val q = matchColumn(column, query) match {
      case None => Match(s"($query)")
      case Some(c) => Match(s"${field(c.name)}:($query)")
    }
    Translated(q, not(q), exact = true)
  }

  /** The data column a needle_match searches (None: `_indexall`, every text column). */
  private def matchColumn(column: String, query: String): Option[ColumnPlan] = {
    def invalid(detail: String) = NeedleErrors.error(ErrorId.MatchInvalidArguments,
      "expr" -> s"${NeedleMatch.Name}($column, ${NeedleMatch.sqlString(query)})", "detail" -> detail)
    if (column == NeedleMatch.IndexAll) None
    else if (partitionTypes.contains(column)) {
      throw invalid(s"$column is a partition column: it has no index; compare it with =, IN, <, ... instead")
    } else columns.get(column) match {
      case None => throw invalid(s"the table has no column $column")
      case Some(c) if !c.indexed =>
        throw invalid(s"column $column is not indexed")
      case Some(c) => Some(c)
    }
  }

  // ---- leaves ----

  private def refName(e: org.apache.spark.sql.connector.expressions.Expression): Option[String] = e match {
    case r: NamedReference if r.fieldNames().length == 1 => Some(r.fieldNames()(0))
    case _ => None
  }

  private def literal(e: org.apache.spark.sql.connector.expressions.Expression): Option[(Any, DataType)] = e match {
    case l: Literal[_] => Some((l.value(), l.dataType()))
    case _ => None
  }

  private val flipped = Map("<" -> ">", "<=" -> ">=", ">" -> "<", ">=" -> "<=", "=" -> "=", "<=>" -> "<=>", "<>" -> "<>")

  /** A leaf as (column, operator, literals), literal on the right. */
  private def shape(p: Predicate): Option[(String, String, Seq[(Any, DataType)])] = {
    val ch = p.children().toSeq
    p.name() match {
      case "IS_NULL" | "IS_NOT_NULL" if ch.size == 1 => refName(ch.head).map(c => (c, p.name(), Nil))
      case op @ ("=" | "<=>" | "<>" | "<" | "<=" | ">" | ">=") if ch.size == 2 =>
        (refName(ch(0)), literal(ch(1)), refName(ch(1)), literal(ch(0))) match {
          case (Some(c), Some(l), _, _) => Some((c, op, Seq(l)))
          case (_, _, Some(c), Some(l)) => Some((c, flipped(op), Seq(l)))
          case _ => None
        }
      case "IN" if ch.nonEmpty =>
        val lits = ch.tail.map(literal)
        if (lits.forall(_.isDefined)) refName(ch.head).map(c => (c, "IN", lits.flatten)) else None
      case "STARTS_WITH" if ch.size == 2 =>
        for (c <- refName(ch(0)); l <- literal(ch(1))) yield (c, "STARTS_WITH", Seq(l))
      case _ => None
    }
  }

  private def leaf(p: Predicate, ctx: Option[SplitContext]): Option[Translated] =
    shape(p).flatMap { case (col, op, lits) =>
      partitionTypes.get(col) match {
        case Some(dt) => partitionLeaf(col, dt, op, lits, ctx)
        case None => columns.get(col).flatMap(c => dataLeaf(c, op, lits, ctx))
      }
    }

  // ---- partition columns: evaluated from the split's partition values ----

  private def partitionLeaf(
      col: String,
      dt: DataType,
      op: String,
      lits: Seq[(Any, DataType)],
      ctx: Option[SplitContext]): Option[Translated] = {
    val comparable = dt match {
      case s: StringType => org.apache.spark.sql.needle.SparkInternals.isBinaryString(s)
      case _ => true
    }
    if (!comparable && op != "IS_NULL" && op != "IS_NOT_NULL") return None
    if (lits.exists { case (v, ldt) => v != null && !sameFamily(dt, ldt) }) return None
    if (op == "STARTS_WITH" && !dt.isInstanceOf[StringType]) return None
    ctx match {
      case None => Some(Translated(All, All, exact = true)) // decided per split
      case Some(c) =>
        val v = c.partitionValues.getOrElse(col, null)
        val outcome: Option[Boolean] = op match {
          case "IS_NULL" => Some(v == null)
          case "IS_NOT_NULL" => Some(v != null)
          case "<=>" =>
            val l = lits.head._1
            Some(if (v == null || l == null) v == null && l == null else compare(dt, v, l) == 0)
          case "IN" =>
            if (v == null) None
            else if (lits.exists(l => l._1 != null && compare(dt, v, l._1) == 0)) Some(true)
            else if (lits.exists(_._1 == null)) None
            else Some(false)
          case "STARTS_WITH" =>
            val l = lits.head._1
            if (v == null || l == null) None
            else Some(v.asInstanceOf[UTF8String].startsWith(l.asInstanceOf[UTF8String]))
          case cmp =>
            val l = lits.head._1
            if (v == null || l == null) None
            else {
              val r = compare(dt, v, l)
              Some(cmp match {
                case "=" => r == 0
                case "<>" => r != 0
                case "<" => r < 0
                case "<=" => r <= 0
                case ">" => r > 0
                case ">=" => r >= 0
              })
            }
        }
        Some(Translated(
          if (outcome.contains(true)) All else Empty,
          if (outcome.contains(false)) All else Empty,
          exact = true))
    }
  }

  private def sameFamily(col: DataType, lit: DataType): Boolean = (col, lit) match {
    case (_: StringType, _: StringType) => true
    case (_: DecimalType, _: DecimalType) => true
    case (a, b) if isIntegral(a) && isIntegral(b) => true
    case (a, b) => a == b
  }

  private def isIntegral(dt: DataType): Boolean = dt match {
    case ByteType | ShortType | IntegerType | LongType => true
    case _ => false
  }

  private def compare(dt: DataType, a: Any, b: Any): Int = dt match {
    case _: StringType => a.asInstanceOf[UTF8String].binaryCompare(b.asInstanceOf[UTF8String])
    case _: DecimalType => a.asInstanceOf[Decimal].compare(b.asInstanceOf[Decimal])
    case BooleanType => java.lang.Boolean.compare(a.asInstanceOf[Boolean], b.asInstanceOf[Boolean])
    case _ => java.lang.Long.compare(asLong(a), asLong(b))
  }

  private def asLong(v: Any): Long = v match {
    case b: Byte => b.toLong
    case s: Short => s.toLong
    case i: Int => i.toLong
    case l: Long => l
    case other => throw new IllegalArgumentException(s"not an integer: $other")
  }

  // ---- data columns: needle queries ----

  /** A literal in the column's domain: Long (integers, unscaled decimals, days, microseconds),
    * Double (floats), String (strings, decimals kept as text), Array[Byte], Boolean. None when
    * the literal's type does not fit or it cannot be represented exactly. */
  private def domain(c: ColumnPlan, v: Any, dt: DataType): Option[Any] = {
    import ColumnKind._
    (c.kind, dt) match {
      case (Integral(_), t) if isIntegral(t) => Some(asLong(v))
      case (Float32, FloatType) => Some(v.asInstanceOf[Float].toDouble)
      case (Float64, DoubleType) => Some(v.asInstanceOf[Double])
      case (DecimalLong(_, s), _: DecimalType) =>
        Try(v.asInstanceOf[Decimal].toJavaBigDecimal.setScale(s).unscaledValue().longValueExact()).toOption
      case (DecimalText(_, s), _: DecimalType) =>
        Try(v.asInstanceOf[Decimal].toJavaBigDecimal.setScale(s).toPlainString).toOption
      case (Str(_, _), _: StringType) => Some(v.asInstanceOf[UTF8String].toString)
      case (Binary, BinaryType) => Some(v.asInstanceOf[Array[Byte]])
      case (Date, DateType) => Some(v.asInstanceOf[Int].toLong)
      case (Timestamp, TimestampType) => Some(v.asInstanceOf[Long])
      case (TimestampNtz, TimestampNTZType) => Some(v.asInstanceOf[Long])
      case (Bool, BooleanType) => Some(v.asInstanceOf[Boolean])
      case _ => None
    }
  }

  /** A domain value as a quoted query value. */
  private def term(c: ColumnPlan, v: Any): String = {
    import ColumnKind._
    c.kind match {
      case Date => quoted(Math.multiplyExact(v.asInstanceOf[Long], 86400000000L).toString)
      case Binary => quoted(Base64.getEncoder.encodeToString(v.asInstanceOf[Array[Byte]]))
      case Float32 | Float64 => quoted(java.lang.Double.toString(v.asInstanceOf[Double]))
      case _ => quoted(v.toString)
    }
  }

  private def dataLeaf(
      c: ColumnPlan,
      op: String,
      lits: Seq[(Any, DataType)],
      ctx: Option[SplitContext]): Option[Translated] = {
    import ColumnKind._
    val f = field(c.name)
    val exists = Leaf(s"$f:*")
    val equality = c.indexed && (c.kind match {
      case Str("string", binary) => binary
      case Str(_, _) | Complex(_) => false
      case _ => true
    })
    val ordered = equality && (c.kind match {
      case Bool | DecimalText(_, _) => false
      case _ => true
    })
    val isFloat = c.kind == Float32 || c.kind == Float64

    def lit(i: Int): Option[Option[Any]] = { // None: unusable; Some(None): SQL NULL
      val (v, dt) = lits(i)
      if (v == null) Some(None) else domain(c, v, dt).map(Some(_))
    }
    def negation(t: QueryTree) = and(exists, not(t))

    val result: Option[Translated] = op match {
      case "IS_NULL" => Some(Translated(not(exists), exists, exact = true))
      case "IS_NOT_NULL" => Some(Translated(exists, not(exists), exact = true))
      case "=" | "<>" | "<=>" if equality =>
        lit(0).map {
          case None if op == "<=>" => Translated(not(exists), exists, exact = true)
          case None => Translated(Empty, Empty, exact = true)
          case Some(v) =>
            val eq = if (isFloat && v.asInstanceOf[Double].isNaN) nan(f) else Leaf(s"$f:${term(c, v)}")
            op match {
              case "=" => Translated(eq, negation(eq), exact = true)
              case "<>" => Translated(negation(eq), eq, exact = true)
              case _ => Translated(eq, not(eq), exact = true)
            }
        }
      case "IN" if equality =>
        val vs = lits.indices.map(lit)
        if (vs.exists(_.isEmpty)) None
        else {
          val values = vs.flatten.flatten
          val hasNull = vs.exists(_.contains(None))
          val (nans, others) = values.partition(v => isFloat && v.asInstanceOf[Double].isNaN)
          val set = if (others.isEmpty) Empty else Leaf(others.map(term(c, _)).mkString(s"$f:IN [", " ", "]"))
          val t = or(set, if (nans.nonEmpty) nan(f) else Empty)
          Some(Translated(t, if (hasNull) Empty else negation(t), exact = true))
        }
      case "<" | "<=" | ">" | ">=" if ordered =>
        lit(0).map {
          case None => Translated(Empty, Empty, exact = true)
          case Some(v) =>
            val t = if (isFloat) floatRange(f, op, v.asInstanceOf[Double]) else Leaf(op match {
              case "<" => s"$f:[* TO ${term(c, v)}}"
              case "<=" => s"$f:[* TO ${term(c, v)}]"
              case ">" => s"$f:{${term(c, v)} TO *]"
              case ">=" => s"$f:[${term(c, v)} TO *]"
            })
            Translated(t, negation(t), exact = true)
        }
      case "STARTS_WITH" if equality && c.kind.isInstanceOf[Str] =>
        lit(0).map {
          case None => Translated(Empty, Empty, exact = true)
          case Some(prefix: String) =>
            val t = if (prefix.isEmpty) exists else Leaf(s"$f:${literalTerm(prefix)}*")
            Translated(t, negation(t), exact = true)
          case Some(_) => Unknown
        }
      case _ => None
    }
    result.map(r => ctx.fold(r)(refine(c, op, lits, r, _)))
  }

  /** NaN, both signs: below -Infinity or above +Infinity in needle's order of f64 terms. */
  private def nan(f: String): QueryTree =
    or(Leaf(s"""$f:{* TO "-Infinity"}"""), Leaf(s"""$f:{"Infinity" TO *}"""))

  /** A comparison with Spark's rule for doubles: NaN is larger than any number (and equals
    * NaN), -0.0 equals 0.0 (needle indexes -0.0 as 0.0). */
  private def floatRange(f: String, op: String, v: Double): QueryTree = {
    val numbers = Leaf(s"""$f:["-Infinity" TO "Infinity"]""")
    def q(d: Double) = quoted(java.lang.Double.toString(d))
    if (v.isNaN) op match {
      case "<" => numbers
      case "<=" => Leaf(s"$f:*")
      case ">" => Empty
      case ">=" => nan(f)
    }
    else op match {
      case "<" => if (v == Double.NegativeInfinity) Empty else Leaf(s"""$f:["-Infinity" TO ${q(v)}}""")
      case "<=" => Leaf(s"""$f:["-Infinity" TO ${q(v)}]""")
      case ">" =>
        if (v == Double.PositiveInfinity) nan(f) else or(Leaf(s"""$f:{${q(v)} TO "Infinity"]"""), nan(f))
      case ">=" => or(Leaf(s"""$f:[${q(v)} TO "Infinity"]"""), nan(f))
    }
  }

  // ---- statistics: a leaf that no row of the split can satisfy becomes Empty ----

  private def refine(c: ColumnPlan, op: String, lits: Seq[(Any, DataType)], r: Translated, ctx: SplitContext): Translated =
    ctx.stats match {
      case None => r
      case Some(s) =>
        val nulls = s.nullCount.get(c.name)
        val nonNull = nulls.map(ctx.numRecords - _)
        op match {
          case "IS_NULL" =>
            Translated(if (nulls.contains(0L)) Empty else r.t, if (nonNull.contains(0L)) Empty else r.f, r.exact)
          case "IS_NOT_NULL" =>
            Translated(if (nonNull.contains(0L)) Empty else r.t, if (nulls.contains(0L)) Empty else r.f, r.exact)
          case "<=>" | "<>" => r
          case _ =>
            if (nonNull.contains(0L)) Translated(Empty, Empty, r.exact)
            else {
              val lo = s.minValues.get(c.name).flatMap(bound(c, _, lower = true))
              val hi = s.maxValues.get(c.name).flatMap(bound(c, _, lower = false))
              val values = lits.flatMap { case (v, dt) => Option(v).flatMap(domain(c, _, dt)) }
              def possible(v: Any, cmpOp: String): Boolean = {
                def cmp(a: Any, b: Any): Int = compareDomain(a, b)
                cmpOp match {
                  case "=" | "IN" => !lo.exists(cmp(v, _) < 0) && !hi.exists(cmp(v, _) > 0)
                  case "<" => !lo.exists(cmp(_, v) >= 0)
                  case "<=" => !lo.exists(cmp(_, v) > 0)
                  case ">" => !hi.exists(cmp(_, v) <= 0)
                  case ">=" => !hi.exists(cmp(_, v) < 0)
                  case "STARTS_WITH" =>
                    val p = v.asInstanceOf[String]
                    !hi.exists(h => cmp(h, p) < 0) &&
                      !lo.exists(l => cmp(l, p) > 0 && !l.asInstanceOf[String].startsWith(p))
                  case _ => true
                }
              }
              val usesStats = c.kind match {
                case ColumnKind.Float32 | ColumnKind.Float64 => false // NaN is in no bound
                case _ => true
              }
              val mayBeTrue = !usesStats || values.isEmpty || values.exists(possible(_, op))
              if (mayBeTrue) r else Translated(Empty, r.f, r.exact)
            }
        }
    }

  private def compareDomain(a: Any, b: Any): Int = (a, b) match {
    case (x: Long, y: Long) => java.lang.Long.compare(x, y)
    case (x: String, y: String) => UTF8String.fromString(x).binaryCompare(UTF8String.fromString(y))
    case _ => throw new IllegalArgumentException("not comparable")
  }

  /** A statistics bound in the column's domain (None when unusable). Decimal bounds read as
    * doubles are widened by an ulp: a bound may be looser than the data, never tighter. */
  private def bound(c: ColumnPlan, n: JsonNode, lower: Boolean): Option[Any] = Try {
    import ColumnKind._
    c.kind match {
      case Integral(_) if n.isIntegralNumber => Some(n.asLong())
      case DecimalLong(_, s) if n.isNumber =>
        val exact = n.isIntegralNumber || n.isBigDecimal
        val bd = if (exact) n.decimalValue() else {
          val d = n.doubleValue()
          val ulp = new java.math.BigDecimal(Math.ulp(d))
          val base = new java.math.BigDecimal(d)
          if (lower) base.subtract(ulp) else base.add(ulp)
        }
        val mode = if (lower) java.math.RoundingMode.FLOOR else java.math.RoundingMode.CEILING
        Some(bd.setScale(s, mode).unscaledValue().longValueExact())
      case Date if n.isTextual => Some(java.time.LocalDate.parse(n.asText()).toEpochDay)
      case Timestamp if n.isTextual => Some(JsonValues.parseInstant(n.asText()))
      case TimestampNtz if n.isTextual => Some(JsonValues.parseLocal(n.asText()))
      case Str("string", true) if n.isTextual => Some(n.asText())
      case _ => None
    }
  }.toOption.flatten
}
