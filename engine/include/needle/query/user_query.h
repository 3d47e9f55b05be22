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
std::string to_debug_string(const UserQuery& q);

}  // namespace needle
