// Token filters. Semantics: docs/format/analysis.md.

#include <libstemmer.h>
#include <unicode/translit.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "analysis_internal.h"
#include "utf8_internal.h"

namespace needle::analysis {
namespace {

// ---------------------------------------------------------------------------------------------
// lowercase

class LowercaseFilter final : public TokenFilter {
 public:
  void apply(std::vector<Token>& tokens) const override {
    std::string scratch;
    for (Token& t : tokens) {
      // One pass lowers the ASCII letters (8 bytes at a time) and notes any byte >= 0x80; only
      // then is the token lowered again in full (the ASCII lowering changes nothing of that).
      const bool high = copy_lower_ascii(t.text.data(), t.text.data(), t.text.size());
      if (high) {
        scratch.clear();
        append_lowercase(t.text, scratch);
        t.text.swap(scratch);
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// remove_long: drops tokens of more than `limit` bytes.

class RemoveLongFilter final : public TokenFilter {
 public:
  explicit RemoveLongFilter(uint32_t limit) : limit_(limit) {}
  void apply(std::vector<Token>& tokens) const override {
    std::erase_if(tokens, [this](const Token& t) { return t.text.size() > limit_; });
  }

 private:
  uint32_t limit_;
};

// ---------------------------------------------------------------------------------------------
// stop: drops tokens whose text equals one of the words (byte comparison).

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class StopFilter final : public TokenFilter {
 public:
  explicit StopFilter(std::vector<std::string> words) : words_(words.begin(), words.end()) {}
  void apply(std::vector<Token>& tokens) const override {
    std::erase_if(tokens, [this](const Token& t) { return words_.contains(std::string_view(t.text)); });
  }

 private:
  std::unordered_set<std::string, StringHash, std::equal_to<>> words_;
};

// ---------------------------------------------------------------------------------------------
// stemmer: libstemmer (Snowball). sb_stemmer objects are not thread-safe: each thread keeps its
// own, one per language, created on first use.

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};
using StemmerPtr = std::unique_ptr<sb_stemmer, StemmerDeleter>;

sb_stemmer* thread_stemmer(size_t lang_index) {
  thread_local std::vector<StemmerPtr> stemmers;
  if (stemmers.size() <= lang_index) stemmers.resize(stemmer_languages().size());
  StemmerPtr& p = stemmers[lang_index];
  if (!p) {
    p.reset(sb_stemmer_new(stemmer_languages()[lang_index].c_str(), "UTF_8"));
    if (!p) {
      throw_error(ErrorCode::kResourceExhausted,
                  "cannot create stemmer '" + stemmer_languages()[lang_index] + "'");
    }
  }
  return p.get();
}

class StemmerFilter final : public TokenFilter {
 public:
  explicit StemmerFilter(size_t lang_index) : lang_index_(lang_index) {}
  void apply(std::vector<Token>& tokens) const override {
    sb_stemmer* st = thread_stemmer(lang_index_);
    for (Token& t : tokens) {
      if (t.text.empty()) continue;
      const sb_symbol* r = sb_stemmer_stem(st, reinterpret_cast<const sb_symbol*>(t.text.data()),
                                           static_cast<int>(t.text.size()));
      if (r == nullptr) throw_error(ErrorCode::kResourceExhausted, "stemmer out of memory");
      int len = sb_stemmer_length(st);
      t.text.assign(reinterpret_cast<const char*>(r), static_cast<size_t>(len));
    }
    // A token the stemmer emptied is removed.
    std::erase_if(tokens, [](const Token& t) { return t.text.empty(); });
  }

 private:
  size_t lang_index_;
};

// ---------------------------------------------------------------------------------------------
// ascii_folding: ICU transliterator "Latin-ASCII" (one per thread). ASCII tokens are untouched.

icu::Transliterator& thread_latin_ascii() {
  thread_local std::unique_ptr<icu::Transliterator> t;
  if (!t) {
    UErrorCode status = U_ZERO_ERROR;
    t.reset(icu::Transliterator::createInstance("Latin-ASCII", UTRANS_FORWARD, status));
    if (U_FAILURE(status) || !t) {
      t.reset();
      throw_error(ErrorCode::kInternal,
                  std::string("ICU transliterator Latin-ASCII unavailable: ") + u_errorName(status));
    }
  }
  return *t;
}

class AsciiFoldingFilter final : public TokenFilter {
 public:
  void apply(std::vector<Token>& tokens) const override {
    bool emptied = false;
    for (Token& t : tokens) {
      if (is_ascii(t.text)) continue;
      icu::UnicodeString u = icu::UnicodeString::fromUTF8(t.text);
      thread_latin_ascii().transliterate(u);
      t.text.clear();
      u.toUTF8String(t.text);
      if (t.text.empty()) emptied = true;
    }
    if (emptied) std::erase_if(tokens, [](const Token& t) { return t.text.empty(); });
  }
};

// ---------------------------------------------------------------------------------------------
// ngram filter: the n-grams (in code points) of every token, keeping its position and offsets.

class NgramFilter final : public TokenFilter {
 public:
  NgramFilter(uint32_t min_gram, uint32_t max_gram, bool prefix_only)
      : min_(min_gram), max_(max_gram), prefix_only_(prefix_only) {}

  void apply(std::vector<Token>& tokens) const override {
    std::vector<Token> result;
    result.reserve(tokens.size());
    std::vector<size_t> bounds;
    for (const Token& t : tokens) {
      const auto* s = reinterpret_cast<const uint8_t*>(t.text.data());
      const size_t n = t.text.size();
      bounds.clear();
      for (size_t i = 0; i < n;) {
        bounds.push_back(i);
        if (s[i] < 0x80) {
          ++i;
        } else {
          decode_utf8(s, n, i);
        }
      }
      bounds.push_back(n);
      const size_t ncp = bounds.size() - 1;
      for (size_t k = 0; k < ncp; ++k) {
        if (prefix_only_ && k > 0) break;
        for (size_t len = min_; len <= max_ && k + len <= ncp; ++len) {
          Token& g = result.emplace_back();
          g.text.assign(t.text, bounds[k], bounds[k + len] - bounds[k]);
          g.position = t.position;
          g.offset_from = t.offset_from;
          g.offset_to = t.offset_to;
        }
      }
    }
    tokens.swap(result);
  }

 private:
  uint32_t min_, max_;
  bool prefix_only_;
};

}  // namespace

const std::vector<std::string>& stemmer_languages() {
  static const std::vector<std::string> langs = [] {
    std::vector<std::string> v;
    for (const char** l = sb_stemmer_list(); l != nullptr && *l != nullptr; ++l) v.emplace_back(*l);
    return v;
  }();
  return langs;
}

std::unique_ptr<TokenFilter> make_lowercase_filter() { return std::make_unique<LowercaseFilter>(); }
std::unique_ptr<TokenFilter> make_ascii_folding_filter() {
  return std::make_unique<AsciiFoldingFilter>();
}
std::unique_ptr<TokenFilter> make_remove_long_filter(uint32_t limit) {
  return std::make_unique<RemoveLongFilter>(limit);
}
std::unique_ptr<TokenFilter> make_stop_filter(std::vector<std::string> words) {
  return std::make_unique<StopFilter>(std::move(words));
}
std::unique_ptr<TokenFilter> make_stemmer_filter(std::string language) {
  const auto& langs = stemmer_languages();
  auto it = std::find(langs.begin(), langs.end(), language);
  if (it == langs.end()) {
    throw_error(ErrorCode::kSchema, "unknown stemmer language '" + language + "'");
  }
  return std::make_unique<StemmerFilter>(static_cast<size_t>(it - langs.begin()));
}
std::unique_ptr<TokenFilter> make_ngram_filter(uint32_t min_gram, uint32_t max_gram,
                                               bool prefix_only) {
  return std::make_unique<NgramFilter>(min_gram, max_gram, prefix_only);
}

}  // namespace needle::analysis
