package io.needle.spark.read

/** A needle query (docs/query-language.md) as a tree whose constants are folded away, so that a
  * filter known to be always true or never true for a split costs nothing. */
sealed trait QueryTree {
  import QueryTree._

  /** The query text. */
  def render: String = render(scoring = false)

  /** The query text; with `scoring`, every clause but the full-text ones ([[Match]]) has boost 0,
    * so that the BM25 score is the full-text queries' alone. */
  def render(scoring: Boolean): String = this match {
    case All => "*"
    case Empty => "(-*)" // every document except every document
    case Leaf(text) => if (scoring) s"($text)^0" else text
    case Match(text) => text
    case And(cs) => cs.map(c => "+" + c.render(scoring)).mkString("(", " ", ")")
    case Or(cs) => cs.map(_.render(scoring)).mkString("(", " ", ")")
    case Not(c) => "(-" + c.render(scoring) + ")"
  }

  /** Whether a full-text query ([[Match]]) is part of this one. */
  def hasMatch: Boolean = this match {
    case Match(_) => true
    case And(cs) => cs.exists(_.hasMatch)
    case Or(cs) => cs.exists(_.hasMatch)
    case Not(c) => c.hasMatch
    case _ => false
  }
}

object QueryTree {
  /** Every document. */
  case object All extends QueryTree
  /** No document. */
  case object Empty extends QueryTree
  /** A clause in query-language text, e.g. `host:"web-1"` (its own escaping done). */
  final case class Leaf(text: String) extends QueryTree
  /** A user's full-text query (`needle_match`), already scoped to its field: it scores. */
  final case class Match(text: String) extends QueryTree
  final case class And(children: Seq[QueryTree]) extends QueryTree
  final case class Or(children: Seq[QueryTree]) extends QueryTree
  final case class Not(child: QueryTree) extends QueryTree

  def and(cs: QueryTree*): QueryTree = {
    val flat = cs.flatMap {
      case And(xs) => xs
      case x => Seq(x)
    }.filterNot(_ == All).distinct
    if (flat.contains(Empty)) Empty
    else if (flat.isEmpty) All
    else if (flat.size == 1) flat.head
    else And(flat)
  }

  def or(cs: QueryTree*): QueryTree = {
    val flat = cs.flatMap {
      case Or(xs) => xs
      case x => Seq(x)
    }.filterNot(_ == Empty).distinct
    if (flat.contains(All)) All
    else if (flat.isEmpty) Empty
    else if (flat.size == 1) flat.head
    else Or(flat)
  }

  def not(c: QueryTree): QueryTree = c match {
    case All => Empty
    case Empty => All
    case Not(x) => x
    case x => Not(x)
  }

  // ---- escaping (docs/query-language.md, "Escaping") ----

  /** A field name: letters, digits, `_`, `-` and `.` as they are, anything else escaped. */
  def field(name: String): String = {
    val b = new StringBuilder(name.length + 4)
    name.foreach { c =>
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        c == '-' || c == '.') b.append(c)
      else b.append('\\').append(c)
    }
    b.toString
  }

  /** A quoted value (a phrase on text fields; the exact value on the others): `"` and `\` are
    * escaped. */
  def quoted(value: String): String = {
    val b = new StringBuilder(value.length + 2)
    b.append('"')
    value.foreach { c =>
      if (c == '"' || c == '\\') b.append('\\')
      b.append(c)
    }
    b.append('"').toString
  }

  /** A bare term where every character is literal: each one escaped (the language allows any
    * character to be escaped), so that no operator, wildcard or sign can appear. */
  def literalTerm(value: String): String = {
    val b = new StringBuilder(value.length * 2)
    var i = 0
    while (i < value.length) {
      val cp = value.codePointAt(i)
      b.append('\\').appendAll(Character.toChars(cp))
      i += Character.charCount(cp)
    }
    b.toString
  }
}
