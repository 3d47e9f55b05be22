// Executable queries: a tree resolved against a schema (fields are ids, terms are encoded bytes).
// Built in code, or from a query string by build_query (parser + analysis + typing).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "needle/analysis/analyzer.h"
#include "needle/query/user_query.h"
#include "needle/schema/schema.h"
#include "needle/termdict/termdict.h"

namespace needle {

struct Query;
using QueryPtr = std::shared_ptr<const Query>;

struct Query {
  enum class Kind : uint8_t {
    kTerm,       // field, term                           BM25
    kPhrase,     // field, phrase (offset, term), slop    BM25 with phrase frequency
    kMultiTerm,  // field, multi + parameters             constant score 1
    kAll,        //                                       constant score 1
    kExists,     // field                                 constant score 1
    kEmpty,      //                                       matches nothing
    kBoolean,    // clauses                               sum of matching clause scores
    kBoost,      // inner, boost                          inner score x boost
  };
  // kUnion: the documents of any of `clauses` (multi-term queries of the same field, Occur
  // ignored), scored 1 once.
  enum class Multi : uint8_t { kPrefix, kWildcard, kRegex, kFuzzy, kRange, kSet, kUnion };

  Kind kind = Kind::kEmpty;
  uint16_t field = 0;
  std::string term;                                       // kTerm; kMultiTerm prefix/pattern/fuzzy text
  // kMultiTerm: bytes after the field id that every matching term starts with; prefix, wildcard,
  // regex and fuzzy apply to the rest, unbounded range ends stop at it. json fields use
  // `path 0x00 type` (schema/json.h); empty for other fields.
  std::string prefix;
  std::vector<std::pair<uint32_t, std::string>> phrase;   // kPhrase: (position offset, term)
  uint32_t slop = 0;
  bool phrase_prefix = false;  // kPhrase: the last term is a prefix
  Multi multi = Multi::kPrefix;
  uint8_t distance = 0;
  bool transpositions = true;
  bool fuzzy_prefix = false;
  std::optional<TermBound> lower, upper;  // kRange (term bytes without the field id, with `prefix`)
  std::vector<std::string> set;           // kSet
  std::vector<std::pair<Occur, QueryPtr>> clauses;
  QueryPtr inner;
  float boost = 1.0f;

  static QueryPtr make_term(uint16_t field, std::string term);
  static QueryPtr make_all();
  static QueryPtr make_empty();
  static QueryPtr make_exists(uint16_t field);
  static QueryPtr make_boolean(std::vector<std::pair<Occur, QueryPtr>> clauses);
  static QueryPtr make_boost(QueryPtr inner, float boost);
  static QueryPtr make_range(uint16_t field, std::optional<TermBound> lower, std::optional<TermBound> upper);
  static QueryPtr make_set(uint16_t field, std::vector<std::string> terms);
};

std::string to_string(const Query& q, const Schema& schema);

struct QueryOptions {
  std::vector<std::string> default_fields;  // empty: every indexed text field
  bool default_conjunction = false;         // bare clauses combine with AND
};

// Resolves a parsed query against a schema. Throws Error(kQuery) naming the field for an unknown
// field, a value of the wrong type, a phrase on a field without positions, and so on.
QueryPtr build_query(const UserQuery& q, const Schema& schema, const AnalyzerRegistry& analyzers,
                     const QueryOptions& options);
// parse_query + build_query.
QueryPtr parse_and_build(std::string_view query, const Schema& schema,
                         const AnalyzerRegistry& analyzers, const QueryOptions& options);

}  // namespace needle
