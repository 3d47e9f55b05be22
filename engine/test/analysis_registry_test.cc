// AnalyzerRegistry: built-ins, custom definitions, errors, concurrency.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "needle/analysis/analyzer.h"

namespace needle {
namespace {

using Strings = std::vector<std::string>;

TEST(AnalyzerRegistry, Builtins) {
  auto reg = AnalyzerRegistry::with_builtins();
  EXPECT_EQ(reg.names(),
            (Strings{"default", "en_stem", "lowercase", "raw", "standard", "whitespace"}));
  for (const auto& n : reg.names()) {
    EXPECT_TRUE(reg.contains(n));
    EXPECT_NE(reg.get(n), nullptr);
  }
  EXPECT_FALSE(reg.contains("nope"));
  EXPECT_TRUE(AnalyzerRegistry().names().empty());
}

TEST(AnalyzerRegistry, UnknownNameIsSchemaError) {
  auto reg = AnalyzerRegistry::with_builtins();
  try {
    reg.get("nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kSchema);
    EXPECT_EQ(std::string(e.what()),
              "unknown tokenizer 'nope' (known: default, en_stem, lowercase, raw, standard, "
              "whitespace)");
  }
}

TEST(AnalyzerRegistry, CustomAndShorthand) {
  auto reg = AnalyzerRegistry::with_builtins();
  reg.add_custom("mine", R"({"tokenizer": {"type": "standard"}, "filters": ["lowercase",
                             {"type": "stemmer", "language": "english"}]})");
  reg.add_custom("plain", R"({"tokenizer": "simple"})");
  EXPECT_TRUE(reg.contains("mine"));
  EXPECT_TRUE(reg.contains("plain"));
  std::vector<Token> out;
  reg.get("mine")->analyze("Running DOGS", out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text, "run");
  EXPECT_EQ(out[1].text, "dog");
  reg.get("plain")->analyze("A.b", out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].text, "A");

  // Copies share analyzers; adding to a copy does not change the original.
  AnalyzerRegistry copy = reg;
  copy.add_custom("extra", R"({"tokenizer":"raw"})");
  EXPECT_FALSE(reg.contains("extra"));
  EXPECT_EQ(copy.get("mine"), reg.get("mine"));
}

TEST(AnalyzerRegistry, NameClashes) {
  auto reg = AnalyzerRegistry::with_builtins();
  EXPECT_THROW(reg.add_custom("default", R"({"tokenizer":"raw"})"), Error);
  reg.add_custom("x", R"({"tokenizer":"raw"})");
  try {
    reg.add_custom("x", R"({"tokenizer":"raw"})");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kSchema);
    EXPECT_NE(std::string(e.what()).find("'x'"), std::string::npos);
  }
  EXPECT_THROW(reg.add_custom("", R"({"tokenizer":"raw"})"), Error);
  EXPECT_THROW(reg.add("default", reg.get("raw")), Error);
}

struct BadCase {
  const char* json;
  const char* expect;  // a substring of the message
};

TEST(AnalyzerRegistry, BadDefinitionsAreSchemaErrors) {
  const BadCase cases[] = {
      {"", "invalid JSON"},
      {"{", "invalid JSON"},
      {R"({"tokenizer": "raw",})", "invalid JSON"},
      {"[]", "must be a JSON object"},
      {"42", "must be a JSON object"},
      {"{}", "missing \"tokenizer\""},
      {R"({"filters": []})", "missing \"tokenizer\""},
      {R"({"tokenizer": "raw", "filter": []})", "unknown key \"filter\""},
      {R"({"tokenizer": "raw", "tokenizer": "raw"})", "duplicate key \"tokenizer\""},
      {R"({"tokenizer": "bogus"})", "unknown tokenizer type 'bogus'"},
      {R"({"tokenizer": 3})", "tokenizer must be a string or a JSON object"},
      {R"({"tokenizer": {}})", "missing \"type\""},
      {R"({"tokenizer": {"type": 1}})", "\"type\" must be a string"},
      {R"({"tokenizer": {"type": "raw", "x": 1}})", "unknown key \"x\""},
      {R"({"tokenizer": "ngram"})", "ngram needs an object"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 2}})", "missing \"max_gram\""},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 0, "max_gram": 2}})",
       "\"min_gram\" must be between 1 and 255"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 3, "max_gram": 2}})",
       "\"max_gram\" (2) is less than \"min_gram\" (3)"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": "2", "max_gram": 3}})",
       "\"min_gram\" must be an integer"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 2.0, "max_gram": 3}})",
       "\"min_gram\" must be an integer"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 1, "max_gram": 18446744073709551615}})",
       "\"max_gram\" must be between 1 and 255"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 1, "max_gram": 99999999999}})",
       "\"max_gram\" must be between 1 and 255"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 1, "max_gram": 1e400}})", "invalid JSON"},
      {R"({"tokenizer": {"type": "ngram", "min_gram": 1, "max_gram": 2, "prefix_only": 1}})",
       "\"prefix_only\" must be a boolean"},
      {R"({"tokenizer": "raw", "filters": {}})", "\"filters\" must be an array"},
      {R"({"tokenizer": "raw", "filters": [7]})", "filter #0 must be a string or a JSON object"},
      {R"({"tokenizer": "raw", "filters": ["lowercase", {"type": "snowball"}]})",
       "filter #1: unknown filter type 'snowball'"},
      {R"({"tokenizer": "raw", "filters": [{"type": "lowercase", "locale": "tr"}]})",
       "unknown key \"locale\""},
      {R"({"tokenizer": "raw", "filters": [{"type": "stemmer", "language": "klingon"}]})",
       "unknown stemmer language 'klingon'"},
      {R"({"tokenizer": "raw", "filters": [{"type": "stemmer"}]})", "missing \"language\""},
      {R"({"tokenizer": "raw", "filters": ["stemmer"]})", "needs an object"},
      {R"({"tokenizer": "raw", "filters": [{"type": "stop"}]})", "missing \"language\" or \"words\""},
      {R"({"tokenizer": "raw", "filters": [{"type": "stop", "language": "english", "words": []}]})",
       "not both"},
      {R"({"tokenizer": "raw", "filters": [{"type": "stop", "language": "french"}]})",
       "no built-in stop word list for language 'french'"},
      {R"({"tokenizer": "raw", "filters": [{"type": "stop", "words": ["a", 1]}]})",
       "\"words\" must be an array of strings"},
      {R"({"tokenizer": "raw", "filters": [{"type": "stop", "words": "a"}]})",
       "\"words\" must be an array of strings"},
      {R"({"tokenizer": "raw", "filters": [{"type": "remove_long", "limit": 0}]})",
       "\"limit\" must be between 1"},
      {R"({"tokenizer": "raw", "filters": [{"type": "remove_long", "limit": -5}]})",
       "\"limit\" must be between 1"},
      {R"({"tokenizer": "raw", "filters": [{"type": "ngram", "min_gram": 1}]})",
       "missing \"max_gram\""},
  };
  for (const auto& c : cases) {
    AnalyzerRegistry reg;
    try {
      reg.add_custom("my_analyzer", c.json);
      ADD_FAILURE() << "no error for " << c.json;
    } catch (const Error& e) {
      std::string msg = e.what();
      EXPECT_EQ(e.code(), ErrorCode::kSchema) << c.json;
      EXPECT_NE(msg.find("analyzer 'my_analyzer'"), std::string::npos) << msg;
      EXPECT_NE(msg.find(c.expect), std::string::npos) << "message: " << msg
                                                       << "\nexpected: " << c.expect;
    }
    EXPECT_FALSE(reg.contains("my_analyzer"));
    EXPECT_THROW(AnalyzerRegistry::validate_custom("my_analyzer", c.json), Error);
  }
  EXPECT_NO_THROW(AnalyzerRegistry::validate_custom("ok", R"({"tokenizer":"raw"})"));
}

TEST(AnalyzerRegistry, ConcurrentAnalyzeSameResults) {
  auto reg = AnalyzerRegistry::with_builtins();
  reg.add_custom("folded", R"({"tokenizer":"standard","filters":["ascii_folding","lowercase",
      {"type":"stop","language":"english"},{"type":"stemmer","language":"french"}]})");
  reg.add_custom("grams", R"({"tokenizer":"default","filters":["lowercase",
      {"type":"ngram","min_gram":2,"max_gram":3}]})");
  const std::vector<std::string> inputs = {
      "The Quick brown fox jumps over the lazy dog; powershell.exe 192.168.0.1",
      "Les élèves étudient l'économie à l'École Normale Supérieure",
      "我爱北京天安门 ΟΔΥΣΣΕΥΣ Straße ÜBER 😀 user_name",
      std::string(1000, 'a') + " tail",
  };
  const Strings names = {"default", "standard", "en_stem", "whitespace", "folded", "grams"};
  std::vector<std::vector<Token>> expected;
  for (const auto& n : names) {
    for (const auto& in : inputs) {
      std::vector<Token> out;
      reg.get(n)->analyze(in, out);
      expected.push_back(out);
    }
  }
  auto same = [](const std::vector<Token>& a, const std::vector<Token>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].text != b[i].text || a[i].position != b[i].position ||
          a[i].offset_from != b[i].offset_from || a[i].offset_to != b[i].offset_to) {
        return false;
      }
    }
    return true;
  };
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<Token> out;
      for (int iter = 0; iter < 50; ++iter) {
        size_t k = 0;
        for (const auto& n : names) {
          auto a = reg.get(n);
          for (const auto& in : inputs) {
            a->analyze(in, out);
            if (!same(out, expected[k])) ++mismatches[t];
            ++k;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, (std::vector<int>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace needle
