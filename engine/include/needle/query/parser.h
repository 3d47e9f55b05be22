// The query string parser: the Tantivy query language (docs/query-language.md) to a UserQuery.
//
// Summary of the grammar (the user documentation has every form with examples):
//   query     := ws* [ sequence ] ws*                  empty or blank: Kind::kEmpty
//   sequence  := operand ( [ AND | OR ] operand )*     no operator: the default (OR, or AND)
//   operand   := [ '+' | '-' | NOT ws+ ] primary       '+'/'-' stick to the primary
//   primary   := ( group | leaf ) [ '^' boost ]
//   group     := '(' sequence ')'
//   leaf      := [ field ':' ] value | '*'
//   value     := word [ '~' [digit] ] | '"' phrase '"' [ '~' slop | '*' ] | '/' regex '/'
//              | range | '>' v | '>=' v | '<' v | '<=' v | 'IN' ws* '[' v* ']' | '*' | group
//   range     := ( '[' | '{' ) bound ws+ 'TO' ws+ bound ( ']' | '}' )      bound: '*' is open
//
// Precedence: NOT (and '+'/'-') bind tightest, then AND, then OR; juxtaposition is OR (or AND
// with ParserOptions::default_conjunction). The operands are split into OR-groups at each OR
// (and each juxtaposition under the OR default); a group of several operands joined by AND
// becomes one boolean whose operands are all kMust, except the negated ones (kMustNot); a group
// of one operand keeps its own modifier: kShould without one, kMust with '+', kMustNot with '-'
// or NOT. So `a OR +b` is (a +b), `a AND -b` is (+a -b), `a b AND c` is (a (+b +c)).
// A group of one operand that is kShould or kMust is that operand itself: `(a)` is a, `+a` is a,
// `(a)^2` is a^2; `-a` stays the pure-negative boolean (-a).
//
// Field groups: `title:(a b)` gives every leaf inside without a field of its own the field title.
// UserQuery::position is the byte offset where the clause starts: its field name, or its value,
// quote, '/', bracket or '(' (after any '+', '-' or NOT); a boolean built from several clauses
// starts at its first clause.
//
// Errors: Error(ErrorCode::kQueryParse, "query '<q>': position N: expected <what>, found <what>")
// where N is a 0-based byte offset into the query. Parenthesis nesting is capped at
// kMaxQueryDepth levels (kQueryParse beyond), so neither the parser nor anything that walks the
// result can run out of stack.
#pragma once

#include <cstddef>
#include <string_view>

#include "needle/query/user_query.h"

namespace needle {

struct ParserOptions {
  // Bare clauses (no AND/OR between them) combine with AND instead of OR.
  bool default_conjunction = false;
};

constexpr size_t kMaxQueryDepth = 100;

// Parses `query`; see the summary above. Throws Error(kQueryParse) for a query that does not parse.
UserQueryPtr parse_query(std::string_view query, const ParserOptions& options = {});

}  // namespace needle
