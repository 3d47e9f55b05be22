// Built-in analyzers and tokenizers: concrete expected tokens, positions and offsets.

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "analysis_test_util.h"
#include "needle/analysis/analyzer.h"

namespace needle {
namespace {

using namespace analysis_test;
using analysis_test::texts;  // overloaded below

Strings texts(std::string_view analyzer, std::string_view text) { return texts(run(analyzer, text)); }

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<uint8_t>(s[i]);
    size_t len = b < 0x80 ? 1 : b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3
                                                          : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; k < len; ++k) {
      auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// default

TEST(DefaultAnalyzer, SplitsAtNonAlphanumericsAndLowercases) {
  auto toks = run("default", "Hello World, HELLO!");
  EXPECT_EQ(texts(toks), (Strings{"hello", "world", "hello"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(toks[1].offset_from, 6u);
  EXPECT_EQ(toks[1].offset_to, 11u);
  EXPECT_EQ(toks[2].offset_from, 13u);
  EXPECT_EQ(toks[2].offset_to, 18u);
}

TEST(DefaultAnalyzer, LogLikeText) {
  EXPECT_EQ(texts("default", "powershell.exe"), (Strings{"powershell", "exe"}));
  EXPECT_EQ(texts("default", "user_name"), (Strings{"user", "name"}));
  EXPECT_EQ(texts("default", "192.168.1.1"), (Strings{"192", "168", "1", "1"}));
  EXPECT_EQ(texts("default", "C:\\Windows\\System32\\cmd.exe /c \"whoami\""),
            (Strings{"c", "windows", "system32", "cmd", "exe", "c", "whoami"}));
  EXPECT_EQ(texts("default", "2024-01-02T03:04:05Z level=ERROR msg=\"x\""),
            (Strings{"2024", "01", "02t03", "04", "05z", "level", "error", "msg", "x"}));
}

TEST(DefaultAnalyzer, EmptyAndSeparatorsOnly) {
  EXPECT_TRUE(run("default", "").empty());
  EXPECT_TRUE(run("default", "  ,.;!! \t\n -- __ ").empty());
  EXPECT_TRUE(run("default", "😀 ❤️ → ©").empty());
}

TEST(DefaultAnalyzer, NonAscii) {
  // German: ß has no single-code-point lower/upper pair change; Ü lower-cases to ü.
  auto toks = run("default", "Straße ÜBER Müller");
  EXPECT_EQ(texts(toks), (Strings{"straße", "über", "müller"}));
  EXPECT_EQ(toks[0].offset_from, 0u);
  EXPECT_EQ(toks[0].offset_to, 7u);  // "Straße" is 7 bytes
  EXPECT_EQ(toks[1].offset_from, 8u);
  EXPECT_EQ(toks[1].offset_to, 13u);
  // Greek: lower-cased per code point, so final capital sigma becomes σ (not ς), like Tantivy.
  EXPECT_EQ(texts("default", "ΟΔΥΣΣΕΥΣ και Αθήνα"), (Strings{"οδυσσευσ", "και", "αθήνα"}));
  // Cyrillic.
  EXPECT_EQ(texts("default", "Привет, Мир"), (Strings{"привет", "мир"}));
  // Letters of other scripts are alphanumeric: CJK runs stay one token with `default`.
  EXPECT_EQ(texts("default", "我爱北京 東京タワー"), (Strings{"我爱北京", "東京タワー"}));
  // Combining marks that are Alphabetic (Devanagari vowel signs) do not split words, but the
  // virama (U+094D, Mn, not Alphabetic) does -- exactly like Tantivy's SimpleTokenizer.
  EXPECT_EQ(texts("default", "भाषा हिन्दी"), (Strings{"भाषा", "हिन", "दी"}));
  // Emoji are separators.
  EXPECT_EQ(texts("default", "i❤️rust 👍🏽ok"), (Strings{"i", "rust", "ok"}));
  // Numbers of any kind (Nd, Nl, No) are alphanumeric.
  EXPECT_EQ(texts("default", "x² ½ Ⅻ ٣"), (Strings{"x²", "½", "ⅻ", "٣"}));
  // Full lower-casing: İ becomes i + COMBINING DOT ABOVE.
  EXPECT_EQ(texts("default", "İstanbul"), (Strings{"i\xCC\x87stanbul"}));
  // Full-width Latin.
  EXPECT_EQ(texts("default", "ＡＢＣ"), (Strings{"ａｂｃ"}));
}

TEST(DefaultAnalyzer, LongTokensDroppedWithPositionGap) {
  std::string long_tok(300, 'x');
  auto toks = run("default", "a " + long_tok + " b");
  EXPECT_EQ(texts(toks), (Strings{"a", "b"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 2}));
  EXPECT_EQ(toks[1].offset_from, 303u);

  // The limit is 255 bytes inclusive, counted before lower-casing.
  EXPECT_EQ(texts("default", std::string(255, 'A')), (Strings{std::string(255, 'a')}));
  EXPECT_TRUE(run("default", std::string(256, 'a')).empty());
  EXPECT_TRUE(run("default", std::string(254, 'a') + "é").empty());  // 256 bytes
  EXPECT_EQ(texts("default", std::string(253, 'a') + "é"),
            (Strings{std::string(253, 'a') + "é"}));

  // raw keeps it.
  auto raw = run("raw", long_tok);
  ASSERT_EQ(raw.size(), 1u);
  EXPECT_EQ(raw[0].text, long_tok);
}

TEST(DefaultAnalyzer, ReusesOutputVector) {
  auto a = AnalyzerRegistry::with_builtins().get("default");
  std::vector<Token> out;
  a->analyze("one two three four", out);
  EXPECT_EQ(out.size(), 4u);
  a->analyze("Five", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].text, "five");
  EXPECT_EQ(out[0].position, 0u);
  EXPECT_EQ(out[0].offset_from, 0u);
  EXPECT_EQ(out[0].offset_to, 4u);
  a->analyze("", out);
  EXPECT_TRUE(out.empty());
}

TEST(DefaultAnalyzer, InvalidUtf8BytesAreSeparators) {
  EXPECT_EQ(texts("default", "ab\xff" "cd"), (Strings{"ab", "cd"}));
  EXPECT_EQ(texts("default", "ab\xC3"), (Strings{"ab"}));                 // truncated 2-byte
  EXPECT_EQ(texts("default", "\xE2\x82xy"), (Strings{"xy"}));             // truncated 3-byte
  EXPECT_EQ(texts("default", "a\xC0\xAF" "b"), (Strings{"a", "b"}));      // overlong
  EXPECT_EQ(texts("default", "a\xED\xA0\x80" "b"), (Strings{"a", "b"}));  // surrogate
  EXPECT_EQ(texts("default", "a\xF4\x90\x80\x80" "b"), (Strings{"a", "b"}));  // > U+10FFFF
  auto toks = run("default", "\x80\x80" "Ab");
  ASSERT_EQ(toks.size(), 1u);
  EXPECT_EQ(toks[0].text, "ab");
  EXPECT_EQ(toks[0].offset_from, 2u);
}

// ---------------------------------------------------------------------------------------------
// standard

TEST(StandardAnalyzer, WordBoundaries) {
  auto toks = run("standard", "Hello, world! Don't e-mail 3.14 user_name U.S.A.");
  EXPECT_EQ(texts(toks),
            (Strings{"hello", "world", "don't", "e", "mail", "3.14", "user_name", "u.s.a"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(toks[1].offset_from, 7u);
  EXPECT_EQ(toks[1].offset_to, 12u);
}

TEST(StandardAnalyzer, NonAscii) {
  // CJK is segmented with ICU's dictionary.
  auto toks = run("standard", "我爱北京天安门");
  EXPECT_EQ(texts(toks), (Strings{"我", "爱", "北京", "天安门"}));
  EXPECT_EQ(toks[2].offset_from, 6u);
  EXPECT_EQ(toks[2].offset_to, 12u);
  EXPECT_EQ(texts("standard", "カタカナ"), (Strings{"カタカナ"}));
  EXPECT_EQ(texts("standard", "हिन्दी भाषा"), (Strings{"हिन्दी", "भाषा"}));
  EXPECT_EQ(texts("standard", "ภาษาไทย"), (Strings{"ภาษา", "ไทย"}));
  EXPECT_EQ(texts("standard", "Straße ÜBER"), (Strings{"straße", "über"}));
  EXPECT_EQ(texts("standard", "ΟΔΥΣΣΕΥΣ"), (Strings{"οδυσσευσ"}));
  // Emoji segments are not words.
  EXPECT_EQ(texts("standard", "I 😀 👍🏽 👨‍👩‍👧 🇩🇪 rust"), (Strings{"i", "rust"}));
}

TEST(StandardAnalyzer, EmptyAndSeparatorsOnly) {
  EXPECT_TRUE(run("standard", "").empty());
  EXPECT_TRUE(run("standard", " , . ! ? -- ").empty());
}

TEST(StandardAnalyzer, LongTokensDropped) {
  auto toks = run("standard", "a " + std::string(300, 'x') + " b");
  EXPECT_EQ(texts(toks), (Strings{"a", "b"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 2}));
}

TEST(StandardAnalyzer, InvalidUtf8BytesAreSeparators) {
  auto toks = run("standard", "ab\xff" "cd \xC3");
  EXPECT_EQ(texts(toks), (Strings{"ab", "cd"}));
  EXPECT_EQ(toks[1].offset_from, 3u);
  EXPECT_EQ(toks[1].offset_to, 5u);
}

// ---------------------------------------------------------------------------------------------
// raw, lowercase, whitespace

TEST(RawAnalyzer, WholeInputUnchanged) {
  auto toks = run("raw", "Hello, World ÜBER");
  ASSERT_EQ(toks.size(), 1u);
  EXPECT_EQ(toks[0].text, "Hello, World ÜBER");
  EXPECT_EQ(toks[0].position, 0u);
  EXPECT_EQ(toks[0].offset_from, 0u);
  EXPECT_EQ(toks[0].offset_to, 18u);
  // Empty input: one empty token.
  auto empty = run("raw", "");
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].text, "");
  EXPECT_EQ(texts("raw", "   "), (Strings{"   "}));
}

TEST(RawAnalyzer, InvalidUtf8IsReplaced) {
  auto toks = run("raw", "a\xff" "b\xE2\x82");
  ASSERT_EQ(toks.size(), 1u);
  EXPECT_EQ(toks[0].text, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(toks[0].offset_to, 5u);
}

TEST(LowercaseAnalyzer, RawPlusLowercase) {
  EXPECT_EQ(texts("lowercase", "Hello World ÜBER"), (Strings{"hello world über"}));
  EXPECT_EQ(texts("lowercase", ""), (Strings{""}));
}

TEST(WhitespaceAnalyzer, SplitsAtUnicodeWhitespace) {
  auto toks = run("whitespace", "  Foo,Bar\tbaz\nQ\u00a0r\u3000s\u2028t ");
  EXPECT_EQ(texts(toks), (Strings{"Foo,Bar", "baz", "Q", "r", "s", "t"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(toks[0].offset_from, 2u);
  EXPECT_EQ(toks[0].offset_to, 9u);
  EXPECT_TRUE(run("whitespace", "").empty());
  EXPECT_TRUE(run("whitespace", " \t\r\n\v\f\u00a0").empty());
  EXPECT_EQ(texts("whitespace", "😀 ÜBER"), (Strings{"😀", "ÜBER"}));
  // Long tokens are kept.
  EXPECT_EQ(run("whitespace", std::string(300, 'x')).size(), 1u);
}

TEST(WhitespaceAnalyzer, InvalidUtf8IsReplaced) {
  auto toks = run("whitespace", "a\xff" "b c");
  EXPECT_EQ(texts(toks), (Strings{"a\xEF\xBF\xBD" "b", "c"}));
  EXPECT_EQ(toks[0].offset_to, 3u);
}

// ---------------------------------------------------------------------------------------------
// en_stem

TEST(EnStemAnalyzer, Stems) {
  auto toks = run("en_stem", "Running dogs EASILY jumped, the connections");
  EXPECT_EQ(texts(toks), (Strings{"run", "dog", "easili", "jump", "the", "connect"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5}));
}

// ---------------------------------------------------------------------------------------------
// ngram tokenizer

TEST(NgramTokenizer, AllGramsInOrder) {
  auto toks = run_custom(R"({"tokenizer": {"type":"ngram","min_gram":2,"max_gram":3}})", "hello");
  EXPECT_EQ(texts(toks), (Strings{"he", "hel", "el", "ell", "ll", "llo", "lo"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(toks[3].offset_from, 1u);
  EXPECT_EQ(toks[3].offset_to, 4u);
}

TEST(NgramTokenizer, PrefixOnly) {
  auto toks = run_custom(
      R"({"tokenizer": {"type":"ngram","min_gram":1,"max_gram":3,"prefix_only":true}})", "Hello");
  EXPECT_EQ(texts(toks), (Strings{"H", "He", "Hel"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{0, 1, 2}));
}

TEST(NgramTokenizer, EdgeCases) {
  const char* def = R"({"tokenizer": {"type":"ngram","min_gram":2,"max_gram":4},
                        "filters": [{"type":"lowercase"}]})";
  EXPECT_TRUE(run_custom(def, "").empty());
  EXPECT_TRUE(run_custom(def, "a").empty());            // shorter than min_gram
  EXPECT_EQ(texts(run_custom(def, "AB")), (Strings{"ab"}));  // exactly min_gram
  // Code points, not bytes; whitespace is an ordinary character.
  auto toks = run_custom(def, "äö ü");
  EXPECT_EQ(texts(toks), (Strings{"äö", "äö ", "äö ü", "ö ", "ö ü", " ü"}));
  EXPECT_EQ(toks[3].offset_from, 2u);
  EXPECT_EQ(toks[3].offset_to, 5u);
  // min_gram == max_gram
  EXPECT_EQ(texts(run_custom(R"({"tokenizer": {"type":"ngram","min_gram":1,"max_gram":1}})",
                             "日本語")),
            (Strings{"日", "本", "語"}));
  // An ill-formed byte counts as one code point, emitted as U+FFFD.
  EXPECT_EQ(texts(run_custom(R"({"tokenizer": {"type":"ngram","min_gram":2,"max_gram":2}})",
                             "a\xff" "b")),
            (Strings{"a\xEF\xBF\xBD", "\xEF\xBF\xBD" "b"}));
}

// ---------------------------------------------------------------------------------------------
// Robustness: random bytes never crash, every token is valid UTF-8 with sane offsets.

TEST(AnalysisRobustness, RandomBytes) {
  AnalyzerRegistry reg = AnalyzerRegistry::with_builtins();
  reg.add_custom("ng", R"({"tokenizer":{"type":"ngram","min_gram":1,"max_gram":3},
                          "filters":[{"type":"ascii_folding"},{"type":"lowercase"}]})");
  reg.add_custom("all", R"({"tokenizer":"whitespace","filters":["ascii_folding","lowercase",
      {"type":"stemmer","language":"russian"},{"type":"ngram","min_gram":1,"max_gram":2}]})");
  std::mt19937 rng(42);
  const std::string alphabet[] = {"a", "Z", " ", ".", "é", "ß", "Ü", "\xff", "\x80", "\xC3",
                                  "\xE2\x82", "\xF0\x9F", "😀", "我", "\t", "\xED\xA0\x80", "İ", "Σ"};
  std::vector<Token> out;
  for (int iter = 0; iter < 300; ++iter) {
    std::string s;
    int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      if (rng() % 4 == 0) {
        s.push_back(static_cast<char>(rng() % 256));
      } else {
        s += alphabet[rng() % std::size(alphabet)];
      }
    }
    for (const auto& name : reg.names()) {
      reg.get(name)->analyze(s, out);
      for (const auto& t : out) {
        EXPECT_TRUE(valid_utf8(t.text)) << name;
        EXPECT_LE(t.offset_from, t.offset_to) << name;
        EXPECT_LE(t.offset_to, s.size()) << name;
      }
    }
  }
}

// The built-in default and en_stem analyzers fuse remove_long and lowercase into the simple
// tokenizer: on random text (ASCII, upper case, non-ASCII letters whose lowering changes their
// length, digits, ill-formed bytes, long runs) they give exactly the tokens, positions and
// offsets of the unfused chain.
TEST(DefaultAnalyzer, FusedChainMatchesTheFilterChain) {
  const char* chain =
      R"({"tokenizer":"default","filters":[{"type":"remove_long","limit":255},{"type":"lowercase"}]})";
  const char* stem_chain =
      R"({"tokenizer":"default","filters":[{"type":"remove_long","limit":255},{"type":"lowercase"},{"type":"stemmer","language":"english"}]})";
  const std::vector<std::string> pieces = {
      "a", "B", "Zebra", "RUNNING", "x9", "İ", "ß", "ÀÉÎ", "Σ", "ǅ", "ＡＢ", "日本", " ", "  ", ",", "-",
      "\xff", "\xc3", "\xe2\x82", "0", "Straße", std::string(200, 'Q'), std::string(300, 'k'),
      std::string(127, 'E') + "İ" + std::string(127, 'e'), std::string(254, 'a') + "Ä"};
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    const auto want = analysis_test::run_custom(chain, text);
    const auto got = analysis_test::run("default", text);
    ASSERT_EQ(texts(got), texts(want)) << text;
    ASSERT_EQ(positions(got), positions(want)) << text;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].offset_from, want[i].offset_from) << text;
      ASSERT_EQ(got[i].offset_to, want[i].offset_to) << text;
    }
    ASSERT_EQ(texts(analysis_test::run("en_stem", text)), texts(analysis_test::run_custom(stem_chain, text)))
        << text;
    // The direct path to term keys gives the same terms and positions, after the caller's prefix.
    static const AnalyzerRegistry reg = AnalyzerRegistry::with_builtins();
    TermBatch batch;
    const std::string prefix = round % 2 ? std::string("\x00\x01p", 3) : std::string();
    ASSERT_TRUE(reg.get("default")->analyze_terms(text, prefix, batch));
    ASSERT_EQ(batch.size(), got.size()) << text;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(batch.key(i), prefix + got[i].text) << text;
      ASSERT_EQ(batch.positions[i], got[i].position) << text;
    }
    TermBatch unused;
    EXPECT_FALSE(reg.get("en_stem")->analyze_terms(text, prefix, unused));  // has a filter
    EXPECT_EQ(unused.size(), 0u);
  }
}

// The simple tokenizer classifies 8 ASCII bytes at a time: against a reference that classifies
// code point by code point, on random text made of every ASCII byte, letters outside ASCII
// ("é", "ж") and separators outside ASCII ("—", "\u00a0", ill-formed bytes), at every length.
TEST(SimpleTokenizer, WordAtATimeScanMatchesAReference) {
  struct Piece {
    std::string bytes;
    bool alnum;
  };
  std::vector<Piece> pieces;
  for (int c = 1; c < 0x80; ++c) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    pieces.push_back({std::string(1, static_cast<char>(c)), alnum});
  }
  for (int k = 0; k < 40; ++k) pieces.push_back({"e", true});  // long runs of letters
  for (int k = 0; k < 20; ++k) pieces.push_back({" ", false});
  pieces.push_back({"é", true});
  pieces.push_back({"ж", true});
  pieces.push_back({"—", false});
  pieces.push_back({"\u00a0", false});
  pieces.push_back({"\xff", false});
  std::mt19937 rng(5);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    std::vector<std::string> want;
    bool in_token = false;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) {
      const Piece& p = pieces[rng() % pieces.size()];
      text += p.bytes;
      if (p.alnum) {
        if (!in_token) want.emplace_back();
        want.back() += p.bytes;
      }
      in_token = p.alnum;
    }
    ASSERT_EQ(texts(run_custom(R"({"tokenizer":"simple"})", text)), want) << text;
  }
}

}  // namespace
}  // namespace needle
