package io.needle.spark.sql

import java.util.Locale

import scala.collection.mutable.ArrayBuffer

/** Rewrites the `indexquery` operator of SQL text into `needle_match` calls before Spark's own
  * parser sees it:
  *
  * {{{
  *   message indexquery 'failed AND "disk full"'   ->  needle_match(message, 'failed AND "disk full"')
  *   t.message indexquery 'x'                       ->  needle_match(t.message, 'x')
  *   _indexall indexquery 'x'                       ->  needle_match(_indexall, 'x')
  * }}}
  *
  * The left operand is a column name (optionally qualified, backquoted parts allowed); the right
  * one a string literal (several adjacent literals, as SQL concatenates them, or a raw `r'…'`
  * literal) or a parameter marker (`?`, `:name`). The literal's text is copied unchanged, so
  * Spark unescapes it exactly as any other SQL string. The scan skips string literals, quoted
  * identifiers and comments, so `indexquery` inside them is left alone, as is any other use of
  * the word. */
object IndexQuerySql {
  private sealed trait Kind
  private case object Space extends Kind // whitespace or a comment
  private case object Str extends Kind
  private case object Quoted extends Kind // `identifier`
  private case object Word extends Kind
  private case object Punct extends Kind

  private final case class Tok(kind: Kind, start: Int, end: Int)

  /** Words that cannot be a column right before `indexquery`. */
  private val NotColumns = Set("and", "or", "not", "where", "select", "as", "on", "having", "by", "when",
    "then", "else", "case", "in", "is", "like", "from", "join", "distinct", "all")

  /** Whether `sql` may contain the operator (a cheap test before tokenizing). */
  def mayContain(sql: String): Boolean = sql.toLowerCase(Locale.ROOT).contains("indexquery")

  def rewrite(sql: String): String = {
    if (!mayContain(sql)) return sql
    val toks = tokenize(sql)
    val sig = toks.indices.filter(i => toks(i).kind != Space)
    def text(t: Tok) = sql.substring(t.start, t.end)
    // Replacements (start, end, text), found left to right and not overlapping.
    val edits = ArrayBuffer.empty[(Int, Int, String)]
    var k = 0
    while (k < sig.size) {
      val t = toks(sig(k))
      if (t.kind == Word && text(t).equalsIgnoreCase("indexquery") && k > 0 && k + 1 < sig.size &&
        edits.forall(_._2 <= t.start)) {
        // Right operand: adjacent string literals, or a parameter marker.
        var r = k + 1
        val rStart = toks(sig(r)).start
        var rEnd = -1
        if (toks(sig(r)).kind == Str) {
          while (r < sig.size && toks(sig(r)).kind == Str) { rEnd = toks(sig(r)).end; r += 1 }
        } else if (text(toks(sig(r))) == "?") {
          rEnd = toks(sig(r)).end
        } else if (text(toks(sig(r))) == ":" && r + 1 < sig.size && toks(sig(r + 1)).kind == Word &&
          toks(sig(r + 1)).start == toks(sig(r)).end) {
          rEnd = toks(sig(r + 1)).end
        }
        // Left operand: name(.name)*.
        var l = k - 1
        def isName(i: Int) = {
          val x = toks(sig(i))
          x.kind == Quoted || (x.kind == Word && !NotColumns.contains(text(x).toLowerCase(Locale.ROOT)) &&
            !Character.isDigit(text(x).charAt(0)))
        }
        if (rEnd >= 0 && isName(l)) {
          while (l >= 2 && text(toks(sig(l - 1))) == "." && isName(l - 2)) l -= 2
          val lStart = toks(sig(l)).start
          val lEnd = toks(sig(k - 1)).end
          if (edits.forall(_._2 <= lStart)) {
            edits += ((lStart, rEnd, s"needle_match(${sql.substring(lStart, lEnd)}, ${sql.substring(rStart, rEnd)})"))
          }
        }
      }
      k += 1
    }
    if (edits.isEmpty) sql
    else {
      val b = new StringBuilder
      var at = 0
      edits.foreach { case (s, e, repl) =>
        b.append(sql.substring(at, s)).append(repl)
        at = e
      }
      b.append(sql.substring(at)).toString
    }
  }

  private def tokenize(sql: String): IndexedSeq[Tok] = {
    val out = ArrayBuffer.empty[Tok]
    val n = sql.length
    var i = 0
    def isWordChar(c: Char) = Character.isLetterOrDigit(c) || c == '_'
    /** End of a quoted run opened at `from` by `q`; backslash escapes unless raw; a doubled quote
      * continues the literal. An unterminated one runs to the end (Spark reports it). */
    def quoted(from: Int, q: Char, raw: Boolean): Int = {
      var j = from + 1
      var done = false
      while (j < n && !done) {
        val c = sql.charAt(j)
        if (c == '\\' && !raw && q != '`') j += 2
        else if (c == q) {
          if (j + 1 < n && sql.charAt(j + 1) == q) j += 2 else { j += 1; done = true }
        } else j += 1
      }
      math.min(j, n)
    }
    while (i < n) {
      val c = sql.charAt(i)
      val start = i
      if (Character.isWhitespace(c)) {
        while (i < n && Character.isWhitespace(sql.charAt(i))) i += 1
        out += Tok(Space, start, i)
      } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
        while (i < n && sql.charAt(i) != '\n') i += 1
        out += Tok(Space, start, i)
      } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
        var depth = 0
        var done = false
        while (i < n && !done) {
          if (sql.startsWith("/*", i)) { depth += 1; i += 2 }
          else if (sql.startsWith("*/", i)) { depth -= 1; i += 2; if (depth == 0) done = true }
          else i += 1
        }
        out += Tok(Space, start, math.min(i, n))
      } else if (c == '\'' || c == '"') {
        i = quoted(i, c, raw = false)
        out += Tok(Str, start, i)
      } else if (c == '`') {
        i = quoted(i, c, raw = true)
        out += Tok(Quoted, start, i)
      } else if ((c == 'r' || c == 'R') && i + 1 < n && (sql.charAt(i + 1) == '\'' || sql.charAt(i + 1) == '"')) {
        i = quoted(i + 1, sql.charAt(i + 1), raw = true)
        out += Tok(Str, start, i)
      } else if (isWordChar(c)) {
        while (i < n && isWordChar(sql.charAt(i))) i += 1
        out += Tok(Word, start, i)
      } else {
        i += 1
        out += Tok(Punct, start, i)
      }
    }
    out.toIndexedSeq
  }
}
