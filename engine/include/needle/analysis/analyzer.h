// Text analysis: turning a field value into the terms the inverted index records.
//
// An Analyzer is a tokenizer followed by a chain of token filters. Built-in analyzers have fixed
// names (default, standard, raw, whitespace, en_stem, lowercase); custom ones are defined by a
// JSON document. What every tokenizer and filter does exactly, and the JSON syntax, is part of
// the index format: see docs/format/analysis.md.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "needle/common/error.h"

namespace needle {

struct Token {
  std::string text;        // the term bytes (always valid UTF-8)
  uint32_t position = 0;   // token position within the analyzed text, starting at 0
  uint32_t offset_from = 0, offset_to = 0;  // byte offsets in the input
};

// The length limit (in bytes) of the remove_long filter in the built-in analyzers.
inline constexpr uint32_t kDefaultMaxTokenBytes = 255;

// Inputs longer than this are rejected with Error(kInvalidArgument): offsets are 32-bit and
// ICU indexes are signed 32-bit.
inline constexpr size_t kMaxAnalyzedBytes = 0x7fffffff;

// Tokens laid out for an index writer: each token's term key (a caller's prefix, then the token
// text) back to back in `keys`, where key i ends at ends[i], and its position.
struct TermBatch {
  std::vector<char> keys;
  std::vector<uint32_t> ends;
  std::vector<uint32_t> positions;
  size_t used = 0;  // bytes of `keys` in use (the vector only grows, so it is not re-zeroed)

  void clear() {
    used = 0;
    ends.clear();
    positions.clear();
  }
  size_t size() const { return ends.size(); }
  std::string_view key(size_t i) const {
    const size_t start = i == 0 ? 0 : ends[i - 1];
    return {keys.data() + start, ends[i] - start};
  }
  // Appends a key of `prefix` and `text_len` bytes still to write; returns where they go.
  char* append_key(std::string_view prefix, size_t text_len) {
    const size_t need = used + prefix.size() + text_len;
    if (keys.size() < need) keys.resize(std::max(need, keys.size() * 2));
    char* p = keys.data() + used;
    if (!prefix.empty()) std::memcpy(p, prefix.data(), prefix.size());
    used = need;
    ends.push_back(static_cast<uint32_t>(used));
    return p + prefix.size();
  }
  // Replaces the text of the last key (after `prefix`) with `text`.
  void replace_last_text(std::string_view prefix, std::string_view text) {
    used = (ends.size() > 1 ? ends[ends.size() - 2] : 0);
    ends.pop_back();
    std::memcpy(append_key(prefix, text.size()), text.data(), text.size());
  }
};

class Analyzer {
 public:
  virtual ~Analyzer() = default;
  // Clears `out` and fills it with the tokens of `text`. Safe to call concurrently from several
  // threads on the same Analyzer. The strings already in `out` are reused (their capacity is
  // kept), so calling it repeatedly with the same vector allocates little.
  virtual void analyze(std::string_view text, std::vector<Token>& out) const = 0;
  // Appends the terms of `text` to `out` (keys `prefix` + token text, and positions from 0), the
  // same terms analyze() gives, without making Token objects; returns false, appending nothing,
  // when this analyzer has no such path (then use analyze()). Same errors as analyze().
  virtual bool analyze_terms(std::string_view, std::string_view, TermBatch&) const { return false; }
};

// Named analyzers. The const methods may be called concurrently; add/add_custom may not run
// concurrently with anything else on the same registry. Copies share the analyzers.
class AnalyzerRegistry {
 public:
  // An empty registry (no built-ins).
  AnalyzerRegistry() = default;
  // A registry holding the built-in analyzers: default, standard, raw, whitespace, en_stem,
  // lowercase.
  static AnalyzerRegistry with_builtins();

  // Custom analyzer from a JSON definition; throws Error(ErrorCode::kSchema) with a message
  // naming the analyzer and what is wrong (bad JSON, unknown filter type, unknown stemmer
  // language, a name that is already taken, ...).
  void add_custom(const std::string& name, std::string_view json_definition);
  // Checks a custom definition without registering it (same errors as add_custom).
  static void validate_custom(const std::string& name, std::string_view json_definition);
  // Registers an analyzer built in code; throws Error(kSchema) if the name is taken or empty.
  void add(const std::string& name, std::shared_ptr<const Analyzer> analyzer);

  // Throws Error(kSchema) "unknown tokenizer 'x' (known: default, standard, ...)" when absent.
  std::shared_ptr<const Analyzer> get(std::string_view name) const;
  bool contains(std::string_view name) const;
  // All names, sorted.
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::shared_ptr<const Analyzer>, std::less<>> analyzers_;
};

}  // namespace needle
