// Tokenizers and UTF-8 helpers. Semantics: docs/format/analysis.md.

#include <unicode/brkiter.h>
#include <unicode/locid.h>
#include <unicode/rbbi.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

#include <array>
#include <bit>
#include <cstring>

#include "analysis_internal.h"
#include "utf8_internal.h"

namespace needle::analysis {

// ---------------------------------------------------------------------------------------------
// UTF-8 helpers

bool is_ascii(std::string_view text) {
  const char* p = text.data();
  size_t n = text.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if (w & 0x8080808080808080ull) return false;
  }
  for (; i < n; ++i) {
    if (static_cast<uint8_t>(p[i]) & 0x80) return false;
  }
  return true;
}

bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    if (decode_utf8(s, n, i) < 0) return false;
  }
  return true;
}

void append_valid_utf8(std::string_view text, std::string& out) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t start = i;
    // Copy the longest well-formed run at once.
    while (i < n) {
      if (s[i] < 0x80) {
        ++i;
        continue;
      }
      size_t j = i;
      if (decode_utf8(s, n, j) < 0) break;
      i = j;
    }
    out.append(text.data() + start, i - start);
    if (i < n) {
      decode_utf8(s, n, i);  // skips the maximal ill-formed subpart
      out.append(kReplacementUtf8);
    }
  }
}

void append_lowercase(std::string_view text, std::string& out) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    if (b < 0x80) {
      out.push_back(static_cast<char>(ascii_lower(b)));
      ++i;
      continue;
    }
    size_t j = i;
    int32_t cp = decode_utf8(s, n, j);
    if (cp < 0) {
      out.append(text.data() + i, j - i);
    } else if (cp == 0x130) {
      // LATIN CAPITAL LETTER I WITH DOT ABOVE: the one unconditional multi-code-point lower-case
      // mapping (SpecialCasing.txt): i + COMBINING DOT ABOVE.
      out.append("i\xCC\x87");
    } else {
      append_utf8(u_tolower(cp), out);
    }
    i = j;
  }
}

namespace {

void check_icu(UErrorCode status, const char* what) {
  if (U_FAILURE(status)) {
    throw_error(ErrorCode::kInternal, std::string("ICU ") + what + " failed: " + u_errorName(status));
  }
}

// Emits `text` as the token text, replacing ill-formed UTF-8 with U+FFFD when `valid` is false.
void emit_checked(TokenSink& sink, std::string_view input, size_t from, size_t to, bool valid) {
  std::string_view piece = input.substr(from, to - from);
  if (valid) {
    sink.emit(piece, from, to);
  } else {
    Token& t = sink.emit({}, from, to);
    t.text.clear();
    append_valid_utf8(piece, t.text);
  }
}

// ---------------------------------------------------------------------------------------------
// simple: maximal runs of code points that are Alphabetic or Numeric (general category N*).

constexpr std::array<bool, 128> make_ascii_alnum() {
  std::array<bool, 128> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  return t;
}
constexpr std::array<bool, 128> kAsciiAlnum = make_ascii_alnum();

constexpr uint64_t kHighBits = 0x8080808080808080ull;

inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Bit 7 of each byte of the result is set when that byte of `w` is an ASCII letter or digit
// (kAsciiAlnum); the other bits are 0.
inline uint64_t ascii_alnum_bits(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  const uint64_t low7 = w & ~kHighBits;
  // bit 7 of (low7 + 0x80 - c) is set when low7 >= c; no carries cross bytes
  auto in = [low7](uint8_t lo, uint8_t hi) {
    return (low7 + (0x80 - lo) * kOnes) & ~(low7 + (0x80 - hi - 1) * kOnes);
  };
  return (in('0', '9') | in('A', 'Z') | in('a', 'z')) & ~w & kHighBits;
}

// The index of the first byte in memory order whose bit 7 is set in `marks` (not 0).
inline size_t first_marked_byte(uint64_t marks) {
  if constexpr (std::endian::native == std::endian::little) return std::countr_zero(marks) / 8;
  return std::countl_zero(marks) / 8;
}

inline bool is_alnum_cp(int32_t cp) {
  return u_isUAlphabetic(cp) || (U_GET_GC_MASK(cp) & U_GC_N_MASK) != 0;
}

// With `lowercase` set it also does what remove_long(max_bytes) and then lowercase would do
// after it: a token of more than max_bytes bytes leaves its position empty, the others are
// lowered (ASCII ones while they are copied).
class SimpleTokenizer final : public Tokenizer {
 public:
  SimpleTokenizer() = default;
  explicit SimpleTokenizer(uint32_t max_bytes) : lowercase_(true), max_bytes_(max_bytes) {}

  // Calls on_token(start, end) for each token's byte range, in order.
  template <class F>
  static void scan(std::string_view text, F&& on_token) {
    const auto* s = reinterpret_cast<const uint8_t*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    while (i < n) {
      // Skip separators.
      size_t start;
      for (;;) {
        // 8 ASCII separators at a time, then byte by byte
        while (i + 8 <= n) {
          const uint64_t stop = ascii_alnum_bits(load64(s + i)) | (load64(s + i) & kHighBits);
          if (stop != 0) {
            i += first_marked_byte(stop);
            break;
          }
          i += 8;
        }
        if (i >= n) return;
        uint8_t b = s[i];
        if (b < 0x80) {
          if (kAsciiAlnum[b]) break;
          ++i;
          continue;
        }
        size_t j = i;
        int32_t cp = decode_utf8(s, n, j);
        if (cp >= 0 && is_alnum_cp(cp)) break;
        i = j;  // ill-formed bytes are separators
      }
      start = i;
      // Scan the token: 8 ASCII letters or digits at a time, then byte by byte.
      while (i < n) {
        if (i + 8 <= n) {
          const uint64_t other = ~ascii_alnum_bits(load64(s + i)) & kHighBits;
          if (other == 0) {
            i += 8;
            continue;
          }
          i += first_marked_byte(other);
          if (i >= n) break;
        }
        uint8_t b = s[i];
        if (b < 0x80) {
          if (!kAsciiAlnum[b]) break;
          ++i;
          continue;
        }
        size_t j = i;
        int32_t cp = decode_utf8(s, n, j);
        if (cp < 0 || !is_alnum_cp(cp)) break;
        i = j;
      }
      on_token(start, i);
    }
  }

  void tokenize(std::string_view text, TokenSink& sink) const override {
    scan(text, [&](size_t start, size_t end) {
      const std::string_view piece = text.substr(start, end - start);
      if (!lowercase_) {
        sink.emit(piece, start, end);
      } else if (piece.size() > max_bytes_) {
        sink.skip();
      } else {
        Token& t = sink.emit_empty(start, end);
        t.text.resize(piece.size());
        if (copy_lower_ascii(t.text.data(), piece.data(), piece.size())) {
          t.text.clear();
          append_lowercase(piece, t.text);
        }
      }
    });
  }

  bool tokenize_terms(std::string_view text, std::string_view prefix, TermBatch& out) const override {
    if (!lowercase_) return false;
    std::string scratch;
    uint32_t position = 0;
    scan(text, [&](size_t start, size_t end) {
      const std::string_view piece = text.substr(start, end - start);
      const uint32_t pos = position++;
      if (piece.size() > max_bytes_) return;
      char* key = out.append_key(prefix, piece.size());
      if (copy_lower_ascii(key, piece.data(), piece.size())) {
        scratch.clear();
        append_lowercase(piece, scratch);
        out.replace_last_text(prefix, scratch);
      }
      out.positions.push_back(pos);
    });
    return true;
  }

 private:
  bool lowercase_ = false;
  uint32_t max_bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// standard: UAX #29 word segments (ICU word break iterator, root locale) whose rule status is
// not UBRK_WORD_NONE.

class StandardTokenizer final : public Tokenizer {
 public:
  void tokenize(std::string_view text, TokenSink& sink) const override {
    if (text.empty()) return;
    icu::BreakIterator& bi = thread_iterator();
    UErrorCode status = U_ZERO_ERROR;
    UText ut = UTEXT_INITIALIZER;
    utext_openUTF8(&ut, text.data(), static_cast<int64_t>(text.size()), &status);
    check_icu(status, "utext_openUTF8");
    bi.setText(&ut, status);  // the iterator keeps its own shallow clone of `ut`
    utext_close(&ut);
    check_icu(status, "BreakIterator::setText");
    int32_t start = bi.first();
    for (int32_t end = bi.next(); end != icu::BreakIterator::DONE; start = end, end = bi.next()) {
      if (bi.getRuleStatus() == UBRK_WORD_NONE) continue;
      auto from = static_cast<size_t>(start), to = static_cast<size_t>(end);
      // ICU reads ill-formed UTF-8 as U+FFFD, which never belongs to a word segment; the
      // check keeps the "tokens are valid UTF-8" promise even if that ever changed.
      std::string_view piece = text.substr(from, to - from);
      emit_checked(sink, text, from, to, is_ascii(piece) || is_valid_utf8(piece));
    }
    // Drop the reference to `text` (which is about to go away).
    bi.setText(icu::UnicodeString());
  }

 private:
  static icu::BreakIterator& thread_iterator() {
    thread_local std::unique_ptr<icu::BreakIterator> bi;
    if (!bi) {
      UErrorCode status = U_ZERO_ERROR;
      bi.reset(icu::BreakIterator::createWordInstance(icu::Locale::getRoot(), status));
      if (U_FAILURE(status)) bi.reset();
      check_icu(status, "BreakIterator::createWordInstance");
      if (!bi) throw_error(ErrorCode::kInternal, "ICU word break iterator unavailable");
    }
    return *bi;
  }
};

// ---------------------------------------------------------------------------------------------
// raw: the whole input as one token (also when empty).

class RawTokenizer final : public Tokenizer {
 public:
  void tokenize(std::string_view text, TokenSink& sink) const override {
    emit_checked(sink, text, 0, text.size(), is_ascii(text) || is_valid_utf8(text));
  }
};

// ---------------------------------------------------------------------------------------------
// whitespace: maximal runs of code points without the White_Space property.

class WhitespaceTokenizer final : public Tokenizer {
 public:
  void tokenize(std::string_view text, TokenSink& sink) const override {
    const auto* s = reinterpret_cast<const uint8_t*>(text.data());
    const size_t n = text.size();
    size_t i = 0;
    size_t start = 0;
    bool in_token = false;
    bool valid = true;
    while (i < n) {
      uint8_t b = s[i];
      size_t next = i + 1;
      bool space;
      bool bad = false;
      if (b < 0x80) {
        space = b == ' ' || (b >= 0x09 && b <= 0x0d);
      } else {
        size_t j = i;
        int32_t cp = decode_utf8(s, n, j);
        next = j;
        bad = cp < 0;
        space = !bad && u_isUWhiteSpace(cp);
      }
      if (space) {
        if (in_token) emit_checked(sink, text, start, i, valid);
        in_token = false;
      } else {
        if (!in_token) {
          in_token = true;
          start = i;
          valid = true;
        }
        if (bad) valid = false;
      }
      i = next;
    }
    if (in_token) emit_checked(sink, text, start, n, valid);
  }
};

// ---------------------------------------------------------------------------------------------
// ngram: every run of min_gram..max_gram consecutive code points of the whole input.

class NgramTokenizer final : public Tokenizer {
 public:
  NgramTokenizer(uint32_t min_gram, uint32_t max_gram, bool prefix_only)
      : min_(min_gram), max_(max_gram), prefix_only_(prefix_only) {}

  void tokenize(std::string_view text, TokenSink& sink) const override {
    const auto* s = reinterpret_cast<const uint8_t*>(text.data());
    const size_t n = text.size();
    bool valid = is_ascii(text) || is_valid_utf8(text);
    // bounds[k] = byte offset of code point k; bounds.back() = n.
    std::vector<size_t> bounds;
    bounds.reserve(n + 1);
    for (size_t i = 0; i < n;) {
      bounds.push_back(i);
      if (s[i] < 0x80) {
        ++i;
      } else {
        decode_utf8(s, n, i);  // an ill-formed subpart counts as one code point (U+FFFD)
      }
    }
    bounds.push_back(n);
    const size_t ncp = bounds.size() - 1;
    for (size_t k = 0; k < ncp; ++k) {
      if (prefix_only_ && k > 0) break;
      for (size_t len = min_; len <= max_ && k + len <= ncp; ++len) {
        emit_checked(sink, text, bounds[k], bounds[k + len], valid);
      }
    }
  }

 private:
  uint32_t min_, max_;
  bool prefix_only_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_simple_tokenizer() { return std::make_unique<SimpleTokenizer>(); }
std::unique_ptr<Tokenizer> make_simple_lowercase_tokenizer(uint32_t max_bytes) {
  return std::make_unique<SimpleTokenizer>(max_bytes);
}
std::unique_ptr<Tokenizer> make_standard_tokenizer() {
  return std::make_unique<StandardTokenizer>();
}
std::unique_ptr<Tokenizer> make_raw_tokenizer() { return std::make_unique<RawTokenizer>(); }
std::unique_ptr<Tokenizer> make_whitespace_tokenizer() {
  return std::make_unique<WhitespaceTokenizer>();
}
std::unique_ptr<Tokenizer> make_ngram_tokenizer(uint32_t min_gram, uint32_t max_gram,
                                                bool prefix_only) {
  return std::make_unique<NgramTokenizer>(min_gram, max_gram, prefix_only);
}

}  // namespace needle::analysis
