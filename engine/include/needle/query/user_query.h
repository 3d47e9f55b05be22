// The logical form of a query string, before it is checked against a schema. The parser
// (query/parser.h) produces it from the Tantivy query language; the query builder
// (query/builder.h) resolves fields, analyzes text and types values into an executable Query.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace needle {

enum class Occur : uint8_t { kShould = 0, kMust = 1, kMustNot = 2 };

struct UserQuery;
using UserQueryPtr = std::shared_ptr<const UserQuery>;

struct UserBound {
  std::string value;       // the bound's text (unescaped)
  bool inclusive = true;
  bool unbounded = false;  // `*`
};

struct UserQuery {
  enum class Kind : uint8_t {
    kTerm,      // text: a bare word or field:word (analyzed later)
    kPhrase,    // text: the quoted text; slop
    kPrefix,    // text: the part before the trailing '*'
    kWildcard,  // text: pattern with '?' (one char) and '*' (any run); other chars literal
    kRegex,     // text: the regex between slashes
    kFuzzy,     // text: the word; distance (0..2); transpositions count as one edit
    kRange,     // lower, upper
    kSet,       // field:IN [a b c]: set
    kExists,    // field:*
    kAll,       // *
    kBoolean,   // clauses
    kEmpty,     // matches nothing (e.g. an empty query string)
  };
  Kind kind = Kind::kEmpty;
  std::optional<std::string> field;  // absent: the default fields
  std::string text;
  uint32_t slop = 0;
  uint8_t distance = 0;
  bool prefix_phrase = false;  // "a b"* : last term is a prefix (phrase prefix)
  UserBound lower, upper;
  std::vector<std::string> set;
  std::vector<std::pair<Occur, UserQueryPtr>> clauses;
  float boost = 1.0f;  // `^2`
  // Byte offset in the query string where this clause starts (for error messages).
  uint32_t position = 0;
};

// Debug form, used by tests: e.g. (+body:"a b"~2 -id:x*) or body:[1 TO *}
//
// The form is canonical (one string per tree, positions left out) and is itself a query that
// parses back to the same tree (with the default ParserOptions):
//   kTerm      [field:]text              kPrefix   [field:]text*     kFuzzy  [field:]text~D
//   kWildcard  [field:]pattern           kRegex    [field:]/re/      kAll    *
//   kPhrase    [field:]"text"[~slop][*]  (~slop only when slop > 0, * when prefix_phrase)
//   kRange     [field:][lo TO hi]        '[' / ']' inclusive, '{' / '}' exclusive, '*' unbounded
//   kSet       field:IN [a b c]          kExists   field:*           kEmpty  <empty>
//   kBoolean   (c1 c2 ...)               each clause prefixed '+' (must), '-' (must not) or
//                                        nothing (should)
// followed by ^boost when the boost is not 1 (shortest decimal that reads back as the same float,
// never an exponent: ^2, ^0.5). Text is escaped with '\' where the parser would otherwise read a
// character as syntax: whitespace and ( ) " ^ ~ [ ] { } \ * ? everywhere; ':' in a term without a
// field; a leading / (and + - without a field, < > with one); AND, OR, NOT without a field and IN
// with one. Field names escape everything but letters, digits, '_', '-', '.' and non-ASCII bytes,
// and a leading '+' or '-'. Wildcard patterns keep their own '\*', '\?', '\\'. Phrases escape only
// '"' and '\'; regexes only '/'. Range bounds and set elements escape whitespace, \ and
// ( ) " [ ] { }, and a lone '*'; an empty one is "".
std::string to_debug_string(const UserQuery& q);

}  // namespace needle
