// Byte-level deterministic automata walked over term bytes (UTF-8), used by TermDict::search for
// regex, wildcard and fuzzy (Levenshtein) queries.
//
// All three kinds are built lazily: a state and its transitions are computed the first time a walk
// reaches them and cached inside the automaton (behind `mutable`). An Automaton object is
// therefore used by one thread at a time; building one is cheap, so make one per query (or per
// thread). The number of cached states is capped (kMaxDfaStates, kMaxLevenshteinDfaStates); a walk
// that would need more throws Error(kResourceExhausted) instead of using unbounded memory.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

namespace needle {

class Automaton {
 public:
  using State = uint32_t;
  static constexpr State kDead = 0xffffffff;
  virtual ~Automaton() = default;
  virtual State start() const = 0;
  // kDead once no continuation can match; step(kDead, b) == kDead.
  virtual State step(State s, uint8_t byte) const = 0;
  virtual bool is_match(State s) const = 0;
  virtual bool can_match(State s) const { return s != kDead; }
};

// The most DFA states one regex or wildcard automaton caches before a walk fails with
// kResourceExhausted.
constexpr uint32_t kMaxDfaStates = 10000;
// The same for a Levenshtein automaton. Its complete DFA has about 60 states per ASCII character
// of the term at distance 2 (a few times more for multi-byte characters), and a walk over a
// dictionary builds only the part it reaches.
constexpr uint32_t kMaxLevenshteinDfaStates = 100000;
// The largest counted repetition a regex may use ({n}, {n,}, {n,m}).
constexpr uint32_t kMaxRegexRepeat = 1000;

// Full-match regex: the whole term must match (as Tantivy's RegexQuery). Syntax (Rust-regex-like):
//   literals (any UTF-8), '.' (any code point but '\n'), escapes \t \n \r \f \v \0 \xHH \x{H..}
//   and escaped punctuation (\. \\ \* ...), the ASCII classes \d \w \s and their negations
//   \D \W \S, bracket classes [abc] [a-z] [^...] (with escapes, \d-style classes and [:alpha:]-style
//   POSIX classes inside), groups (...) and (?:...), alternation |, quantifiers * + ? {n} {n,} {n,m}
//   (a lazy '?' after a quantifier is accepted and means nothing for a full match), '^' as the
//   first and '$' as the last character (no-ops: matching is always anchored).
// Matching is on code points: '.' and classes consume one whole UTF-8 character. Terms that are not
// valid UTF-8 never match a character class.
// Bad syntax throws Error(kQueryParse) "regex '<p>': position N: <what>", N a 0-based byte offset
// into the pattern. A pattern whose automaton would be too large throws kResourceExhausted.
std::shared_ptr<const Automaton> make_regex_automaton(std::string_view pattern);

// Matches terms within `distance` (0..2; more throws kQueryParse) edits of `term`, edits counted on
// Unicode code points (insert, delete, substitute). With `transpositions` an adjacent swap is one
// edit (optimal string alignment distance). With `prefix` a term matches when some prefix of it
// (ending on a character boundary) is within `distance` of `term` (Tantivy's
// FuzzyTermQuery::new_prefix). `term` must be valid UTF-8 (else kQueryParse).
std::shared_ptr<const Automaton> make_levenshtein_automaton(std::string_view term,
                                                            uint8_t distance,
                                                            bool transpositions, bool prefix);

// Wildcards: '?' is one code point, '*' any run of code points (possibly empty), '\' makes the next
// character literal; everything else is literal. The whole term must match. Errors (kQueryParse):
// "wildcard '<p>': position N: <what>" for a trailing '\' or invalid UTF-8.
std::shared_ptr<const Automaton> make_wildcard_automaton(std::string_view pattern);

}  // namespace needle
