// Token filters, through custom analyzers.

#include <gtest/gtest.h>
#include <libstemmer.h>

#include <string>
#include <vector>

#include "analysis_test_util.h"
#include "needle/analysis/analyzer.h"

namespace needle {
namespace {

using namespace analysis_test;
using analysis_test::texts;  // overloaded below

Strings texts(std::string_view json, std::string_view text) { return texts(run_custom(json, text)); }

TEST(LowercaseFilter, FullUnicode) {
  const char* def = R"({"tokenizer":"whitespace","filters":[{"type":"lowercase"}]})";
  EXPECT_EQ(texts(def, "HeLLo ÜBER ΣΑΣ İ ǅ ＡＢ Ω"),
            (Strings{"hello", "über", "σασ", "i\xCC\x87", "ǆ", "ａｂ", "ω"}));
  // ß and already lower-case text are unchanged.
  EXPECT_EQ(texts(def, "straße ok"), (Strings{"straße", "ok"}));
  // Default tokenizer without filters keeps case.
  EXPECT_EQ(texts(R"({"tokenizer":"default"})", "Hello World"), (Strings{"Hello", "World"}));
}

// The ASCII path lowers 8 bytes at a time: every byte value, at every offset and length, against
// a byte-by-byte reference (whitespace tokenizer, so each text is one token).
TEST(LowercaseFilter, AsciiWordsMatchByteByByte) {
  const char* def = R"({"tokenizer":"whitespace","filters":[{"type":"lowercase"}]})";
  std::string alphabet;
  for (int c = 0x21; c < 0x7f; ++c) alphabet.push_back(static_cast<char>(c));
  for (size_t len = 1; len <= 40; ++len) {
    for (size_t start = 0; start < alphabet.size(); start += 7) {
      std::string word;
      for (size_t i = 0; i < len; ++i) word.push_back(alphabet[(start + i * 13) % alphabet.size()]);
      std::string want = word;
      for (char& c : want) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      }
      ASSERT_EQ(texts(def, word), Strings{want}) << word;
      // A non-ASCII letter at the end sends the whole word through full lowering.
      ASSERT_EQ(texts(def, word + "Ä"), Strings{want + "ä"}) << word;
    }
  }
}

TEST(RemoveLongFilter, LimitInBytesKeepsPositions) {
  auto toks = texts(R"({"tokenizer":"default","filters":[{"type":"remove_long","limit":3}]})",
                    "ab abc abcd é éé");
  EXPECT_EQ(toks, (Strings{"ab", "abc", "é"}));  // "éé" is 4 bytes
  auto t2 = run_custom(R"({"tokenizer":"default","filters":[{"type":"remove_long","limit":3}]})",
                       "abcd x yyyy z");
  EXPECT_EQ(positions(t2), (std::vector<uint32_t>{1, 3}));
  // Without "limit": 255.
  EXPECT_EQ(texts(R"({"tokenizer":"default","filters":[{"type":"remove_long"}]})",
                  std::string(256, 'a') + " " + std::string(255, 'b')),
            (Strings{std::string(255, 'b')}));
}

TEST(StopFilter, EnglishWithPositionGaps) {
  auto toks = run_custom(
      R"({"tokenizer":"default","filters":[{"type":"lowercase"},{"type":"stop","language":"english"}]})",
      "The quick brown fox is in the box");
  EXPECT_EQ(texts(toks), (Strings{"quick", "brown", "fox", "box"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{1, 2, 3, 7}));
  EXPECT_EQ(toks[3].offset_from, 30u);
  // All stop words: nothing left.
  EXPECT_TRUE(run_custom(
                  R"({"tokenizer":"default","filters":[{"type":"stop","language":"english"}]})",
                  "a an and the of")
                  .empty());
}

TEST(StopFilter, CustomWordsExactBytes) {
  const char* def =
      R"({"tokenizer":"whitespace","filters":[{"type":"stop","words":["le","la","für"]}]})";
  auto toks = run_custom(def, "le chat La souris für");
  EXPECT_EQ(texts(toks), (Strings{"chat", "La", "souris"}));  // case-sensitive
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(texts(R"({"tokenizer":"whitespace","filters":[{"type":"stop","words":[]}]})", "a b"),
            (Strings{"a", "b"}));
}

TEST(AsciiFoldingFilter, FoldsLatin) {
  const char* def = R"({"tokenizer":"whitespace","filters":[{"type":"ascii_folding"}]})";
  EXPECT_EQ(texts(def, "Café Straße Ærøskøbing łódź Đuro naïve ﬁne Ｆｕｌｌ Þór"),
            (Strings{"Cafe", "Strasse", "AEroskobing", "lodz", "Duro", "naive", "fine", "Full",
                     "THor"}));
  // Decomposed accents too.
  EXPECT_EQ(texts(def, "cafe\xCC\x81"), (Strings{"cafe"}));
  // Non-Latin scripts are untouched; ASCII is untouched.
  EXPECT_EQ(texts(def, "αβγ Привет 我 plain"), (Strings{"αβγ", "Привет", "我", "plain"}));
  // With lowercase after it.
  EXPECT_EQ(texts(R"({"tokenizer":"default","filters":["ascii_folding","lowercase"]})",
                  "ÉCOLE Ünïcödé"),
            (Strings{"ecole", "unicode"}));
}

TEST(StemmerFilter, Languages) {
  auto stem = [](const std::string& lang, std::string_view text) {
    return texts(R"({"tokenizer":"default","filters":[{"type":"lowercase"},{"type":"stemmer","language":")" +
                     lang + R"("}]})",
                 text);
  };
  EXPECT_EQ(stem("english", "cats running generously"), (Strings{"cat", "run", "generous"}));
  EXPECT_EQ(stem("porter", "cats running generously"), (Strings{"cat", "run", "gener"}));
  EXPECT_EQ(stem("german", "Häuser Katzen"), (Strings{"haus", "katz"}));
  EXPECT_EQ(stem("french", "continuellement chevaux"), (Strings{"continuel", "cheval"}));
  EXPECT_EQ(stem("russian", "книги бегающий"), (Strings{"книг", "бега"}));
  EXPECT_EQ(stem("spanish", "corriendo gatos"), (Strings{"corr", "gat"}));
}

TEST(StemmerFilter, EveryLibstemmerLanguageConstructible) {
  int count = 0;
  for (const char** l = sb_stemmer_list(); *l != nullptr; ++l) {
    std::string def = std::string(R"({"tokenizer":"default","filters":[{"type":"stemmer","language":")") +
                      *l + R"("}]})";
    AnalyzerRegistry reg;
    ASSERT_NO_THROW(reg.add_custom(std::string("stem_") + *l, def)) << *l;
    std::vector<Token> out;
    reg.get(std::string("stem_") + *l)->analyze("running cats Häuser книги 123", out);
    EXPECT_FALSE(out.empty()) << *l;
    ++count;
  }
  EXPECT_GE(count, 20);
}

TEST(NgramFilter, GramsKeepSourcePosition) {
  auto toks = run_custom(
      R"({"tokenizer":"default","filters":[{"type":"ngram","min_gram":2,"max_gram":3}]})",
      "a hello xyz");
  EXPECT_EQ(texts(toks), (Strings{"he", "hel", "el", "ell", "ll", "llo", "lo", "xy", "xyz", "yz"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{1, 1, 1, 1, 1, 1, 1, 2, 2, 2}));
  EXPECT_EQ(toks[0].offset_from, 2u);  // the source token's offsets
  EXPECT_EQ(toks[0].offset_to, 7u);
}

TEST(NgramFilter, PrefixOnlyAndShortTokens) {
  const char* def =
      R"({"tokenizer":"default","filters":[{"type":"lowercase"},
          {"type":"ngram","min_gram":2,"max_gram":4,"prefix_only":true}]})";
  auto toks = run_custom(def, "I Über Hello ab");
  EXPECT_EQ(texts(toks), (Strings{"üb", "übe", "über", "he", "hel", "hell", "ab"}));
  EXPECT_EQ(positions(toks), (std::vector<uint32_t>{1, 1, 1, 2, 2, 2, 3}));
  EXPECT_TRUE(run_custom(def, "a b c").empty());
}

TEST(FilterChain, OrderMatters) {
  // Stop before lowercase: "The" is not removed.
  EXPECT_EQ(texts(R"({"tokenizer":"default","filters":[{"type":"stop","language":"english"},"lowercase"]})",
                  "The end"),
            (Strings{"the", "end"}));
  EXPECT_EQ(texts(R"({"tokenizer":"default","filters":["lowercase",{"type":"stop","language":"english"}]})",
                  "The end"),
            (Strings{"end"}));
}

}  // namespace
}  // namespace needle
