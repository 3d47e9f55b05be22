// Internal building blocks of the analysis module: tokenizers, token filters and the chain that
// joins them. Not part of the public API; see docs/format/analysis.md for the semantics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "needle/analysis/analyzer.h"

namespace needle::analysis {

// Appends tokens to a vector, reusing the Token objects (and their string capacity) already in
// it. finish() drops the unused tail.
class TokenSink {
 public:
  explicit TokenSink(std::vector<Token>& out) : out_(out) {}

  // Emits a token with the next position.
  Token& emit(std::string_view text, size_t from, size_t to) {
    Token& t = slot(from, to);
    t.text.assign(text.data(), text.size());
    return t;
  }
  // Emits a token whose text the caller writes; position and offsets are set.
  Token& emit_empty(size_t from, size_t to) {
    Token& t = slot(from, to);
    t.text.clear();
    return t;
  }
  // Uses up the next position without a token (a token a fused filter removed).
  void skip() { ++position_; }
  void finish() { out_.resize(n_); }

 private:
  Token& slot(size_t from, size_t to) {
    if (n_ == out_.size()) out_.emplace_back();
    Token& t = out_[n_++];
    t.position = position_++;
    t.offset_from = static_cast<uint32_t>(from);
    t.offset_to = static_cast<uint32_t>(to);
    return t;
  }
  std::vector<Token>& out_;
  size_t n_ = 0;
  uint32_t position_ = 0;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Emits the tokens of `text` (at most kMaxAnalyzedBytes long) into `sink`.
  virtual void tokenize(std::string_view text, TokenSink& sink) const = 0;
  // Analyzer::analyze_terms for a chain made of this tokenizer alone; false when it has no such
  // path.
  virtual bool tokenize_terms(std::string_view, std::string_view, TermBatch&) const { return false; }
};

// A filter rewrites the whole token list at once (one virtual call per analyze, not per token).
class TokenFilter {
 public:
  virtual ~TokenFilter() = default;
  virtual void apply(std::vector<Token>& tokens) const = 0;
};

class ChainAnalyzer final : public Analyzer {
 public:
  ChainAnalyzer(std::unique_ptr<Tokenizer> tokenizer,
                std::vector<std::unique_ptr<TokenFilter>> filters)
      : tokenizer_(std::move(tokenizer)), filters_(std::move(filters)) {}
  void analyze(std::string_view text, std::vector<Token>& out) const override;
  bool analyze_terms(std::string_view text, std::string_view prefix, TermBatch& out) const override;

 private:
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<std::unique_ptr<TokenFilter>> filters_;
};

// Tokenizers (tokenizers.cc).
std::unique_ptr<Tokenizer> make_simple_tokenizer();
// simple with remove_long(max_bytes) and lowercase fused in: the tokens of the chain
// simple -> remove_long(max_bytes) -> lowercase, made in one pass over the text.
std::unique_ptr<Tokenizer> make_simple_lowercase_tokenizer(uint32_t max_bytes);
std::unique_ptr<Tokenizer> make_standard_tokenizer();
std::unique_ptr<Tokenizer> make_raw_tokenizer();
std::unique_ptr<Tokenizer> make_whitespace_tokenizer();
// Requires 1 <= min_gram <= max_gram.
std::unique_ptr<Tokenizer> make_ngram_tokenizer(uint32_t min_gram, uint32_t max_gram,
                                                bool prefix_only);

// Filters (filters.cc).
std::unique_ptr<TokenFilter> make_lowercase_filter();
std::unique_ptr<TokenFilter> make_ascii_folding_filter();
std::unique_ptr<TokenFilter> make_remove_long_filter(uint32_t limit);
std::unique_ptr<TokenFilter> make_stop_filter(std::vector<std::string> words);
// `language` must be one of stemmer_languages().
std::unique_ptr<TokenFilter> make_stemmer_filter(std::string language);
std::unique_ptr<TokenFilter> make_ngram_filter(uint32_t min_gram, uint32_t max_gram,
                                               bool prefix_only);

// The algorithm names libstemmer offers (sb_stemmer_list()), in its order.
const std::vector<std::string>& stemmer_languages();

// Stop lists (stopwords.cc). Returns nullptr for a language without a built-in list.
const std::vector<std::string>* builtin_stop_words(std::string_view language);
std::vector<std::string> builtin_stop_languages();

// UTF-8 helpers (tokenizers.cc).
// Full lower-casing without context (like Rust's char::to_lowercase per code point): appends
// the lower-case form of `text` to `out`. Ill-formed bytes are copied unchanged.
void append_lowercase(std::string_view text, std::string& out);
// True if every byte is < 0x80.
bool is_ascii(std::string_view text);
// Appends `text` to `out`, replacing each maximal ill-formed subsequence with U+FFFD.
void append_valid_utf8(std::string_view text, std::string& out);

}  // namespace needle::analysis
