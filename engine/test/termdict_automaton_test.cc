#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "needle/store/file_slice.h"
#include "needle/termdict/automaton.h"
#include "needle/termdict/termdict.h"

namespace needle {
namespace {

bool walk(const Automaton& a, std::string_view s) {
  Automaton::State st = a.start();
  for (char c : s) {
    st = a.step(st, static_cast<uint8_t>(c));
    if (!a.can_match(st)) return false;
  }
  return a.is_match(st);
}

std::u32string to_u32(std::string_view s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

std::wstring to_wide(std::string_view s) {
  std::wstring w;
  for (char32_t c : to_u32(s)) w.push_back(static_cast<wchar_t>(c));
  return w;
}

std::string random_term(std::mt19937_64& rng, const std::vector<std::string>& alphabet,
                        size_t max_len) {
  size_t len = rng() % (max_len + 1);
  std::string t;
  for (size_t i = 0; i < len; ++i) t += alphabet[rng() % alphabet.size()];
  return t;
}

// A dictionary of two fields: keys are a field byte (1 or 2) followed by a term.
struct TwoFields {
  std::set<std::string> field1, field2;
  TermDict dict;
};

TwoFields make_dict(std::mt19937_64& rng, const std::vector<std::string>& alphabet, size_t n,
                    size_t max_len, size_t block_size, const std::vector<std::string>& extras = {}) {
  TwoFields f;
  for (const auto& t : extras) {
    f.field1.insert(t);
    f.field2.insert(t + t);
  }
  for (size_t i = 0; i < n; ++i) {
    f.field1.insert(random_term(rng, alphabet, max_len));
    f.field2.insert(random_term(rng, alphabet, max_len));
  }
  TermDictBuilder b(block_size);
  uint8_t v = 0;
  for (const auto& t : f.field1) b.insert("\x01" + t, std::span<const uint8_t>(&v, 1));
  for (const auto& t : f.field2) b.insert("\x02" + t, std::span<const uint8_t>(&v, 1));
  f.dict = TermDict::open(FileSlice::from_bytes(Bytes::from_vector(b.finish()), "two.tdic"));
  return f;
}

// Searches both fields and compares with filtering every term through `ref`.
void check_search(const TwoFields& f, const std::function<std::shared_ptr<const Automaton>()>& make,
                  const std::function<bool(const std::string&)>& ref, const std::string& what) {
  for (int field = 1; field <= 2; ++field) {
    const auto& terms = field == 1 ? f.field1 : f.field2;
    std::string prefix(1, static_cast<char>(field));
    std::vector<std::string> want, got;
    for (const auto& t : terms) {
      if (ref(t)) want.push_back(prefix + t);
    }
    TermStream s = f.dict.search(make(), prefix);
    while (s.next()) got.push_back(std::string(s.key()));
    ASSERT_EQ(got, want) << what << " field " << field;
  }
  // And directly on each term, without the dictionary.
  auto a = make();
  for (const auto& t : f.field1) ASSERT_EQ(walk(*a, t), ref(t)) << what << " term '" << t << "'";
}

const std::vector<std::string> kAscii = {"a", "b", "c", "d", "x", "1", "2", " ", "_", "-"};
const std::vector<std::string> kUnicode = {"a", "b", "c", "x", "é", "ü", "日", "本", "🙂"};

struct RegexCase {
  std::string ours;
  std::string ecma;  // the same language in ECMAScript syntax, if it differs
};

TEST(RegexAutomaton, MatchesStdRegexOnAscii) {
  std::vector<RegexCase> cases = {
      {"a.*b", ""},         {"[a-c]+x?", ""},   {"(ab|cd){2,3}", ""},   {"\\d+", ""},
      {".*", ""},           {"", ""},           {"a|b|", ""},           {"(?:a|x)*d", ""},
      {"[^a]*", ""},        {"x{0,2}a?", ""},   {"\\w\\s?\\W", ""},     {"a+?b", ""},
      {"[[:digit:]_]+", ""}, {"(a|b)*a(a|b)", ""}, {".{2,4}", ""},      {"[\\d-]+", ""},
      {"a{2}", ""},         {"(a*)*b", ""},     {"\\x61.", ""},         {"[a\\-c]{1,}", ""},
      {"\\.?a", ""},        {"^ab*$", ""},      {"[]a]+", "[\\]a]+"},   {"\\S\\D", ""},
      {"(|a)b{1,}c?", ""},  {"[^\\d\\s]{3}", ""}, {"a{0}b", ""},        {"(x|1|_)+-?", ""},
  };
  std::mt19937_64 rng(1);
  for (size_t bs : {64, 4096}) {
    TwoFields f = make_dict(rng, kAscii, 1500, 7, bs,
                            {"abab", "abcd", "cdabcd", "ababab", "abababab", "ab", "12", "a b",
                             "a_-", "aab", "xxa", "axxxb", "ccx", "bbbb", "aa"});
    for (const auto& c : cases) {
      std::regex re(c.ecma.empty() ? c.ours : c.ecma, std::regex::ECMAScript);
      check_search(
          f, [&] { return make_regex_automaton(c.ours); },
          [&](const std::string& t) { return std::regex_match(t, re); }, "regex " + c.ours);
    }
  }
}

TEST(RegexAutomaton, MatchesStdRegexOnUnicode) {
  std::vector<RegexCase> cases = {
      {"é.", ""},          {"a.*b", ""},          {"[a-c]+x?", ""},        {"(é|日本){1,2}", ""},
      {".", ""},           {"..", ""},            {"[^é]+", ""},           {"[é-日]+", ""},
      {"🙂*", ""},         {".*本", ""},          {"[a🙂]{2}", ""},        {"\\x{65e5}.*", "\\u65e5.*"},
      {"(?:ü|\\u00fc)x?", ""}, {"[^a-c日]{1,3}", ""}, {"(.)(.)", ""},        {".?é?.?", ""},
  };
  std::mt19937_64 rng(2);
  for (size_t bs : {64, 4096}) {
    TwoFields f = make_dict(rng, kUnicode, 1500, 6, bs,
                            {"é", "éé", "é日", "日本", "日本é", "ü", "üx", "🙂🙂", "a🙂", "本"});
    for (const auto& c : cases) {
      std::wregex re(to_wide(c.ecma.empty() ? c.ours : c.ecma), std::regex::ECMAScript);
      check_search(
          f, [&] { return make_regex_automaton(c.ours); },
          [&](const std::string& t) { return std::regex_match(to_wide(t), re); },
          "regex " + c.ours);
    }
  }
}

TEST(RegexAutomaton, CodePointsAndBytes) {
  auto dot = make_regex_automaton(".");
  EXPECT_TRUE(walk(*dot, "日"));
  EXPECT_TRUE(walk(*dot, "🙂"));
  EXPECT_FALSE(walk(*dot, "日本"));
  EXPECT_FALSE(walk(*dot, "\n"));
  EXPECT_FALSE(walk(*dot, "\xff"));
  EXPECT_FALSE(walk(*dot, "\xe6\x97"));  // a truncated character
  EXPECT_FALSE(walk(*dot, ""));
  auto e = make_regex_automaton("é.");
  EXPECT_TRUE(walk(*e, "éa"));
  EXPECT_TRUE(walk(*e, "é日"));
  EXPECT_FALSE(walk(*e, "é"));
  EXPECT_FALSE(walk(*e, "éab"));
  auto cls = make_regex_automaton("[^a]");
  EXPECT_TRUE(walk(*cls, "\n"));
  EXPECT_TRUE(walk(*cls, "\xf4\x8f\xbf\xbf"));  // U+10FFFF
  EXPECT_FALSE(walk(*cls, "\xed\xa0\x80"));      // an encoded surrogate is not a character
  auto esc = make_regex_automaton("a\\.b\\*\\\\\\t\\x{1F642}[\\]\\[]");
  EXPECT_TRUE(walk(*esc, "a.b*\\\t🙂]"));
  EXPECT_TRUE(walk(*esc, "a.b*\\\t🙂["));
  EXPECT_FALSE(walk(*esc, "axb*\\\t🙂]"));
  auto posix = make_regex_automaton("[[:alpha:][:^ascii:]]+");
  EXPECT_TRUE(walk(*posix, "aé日Z"));
  EXPECT_FALSE(walk(*posix, "a1"));
  auto dead = make_regex_automaton("ab");
  EXPECT_EQ(dead->step(dead->step(dead->start(), 'x'), 'a'), Automaton::kDead);
}

void expect_parse_error(std::string_view pattern, size_t position) {
  try {
    make_regex_automaton(pattern);
    FAIL() << "accepted " << pattern;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kQueryParse) << pattern;
    std::string want = "regex '" + std::string(pattern) + "': position " + std::to_string(position) + ": ";
    EXPECT_EQ(std::string(e.what()).substr(0, want.size()), want) << e.what();
  }
}

TEST(RegexAutomaton, BadSyntaxGivesPosition) {
  expect_parse_error("(ab", 0);
  expect_parse_error("ab)", 2);
  expect_parse_error("*a", 0);
  expect_parse_error("a|+", 2);
  expect_parse_error("a**", 2);
  expect_parse_error("[abc", 0);
  expect_parse_error("x[]", 1);
  expect_parse_error("[z-a]", 1);
  expect_parse_error("a{2,1}", 1);
  expect_parse_error("a{1001}", 2);
  expect_parse_error("a{1,1001}", 4);
  expect_parse_error("a{", 1);
  expect_parse_error("a{x}", 2);
  expect_parse_error("a{,3}", 2);
  expect_parse_error("a{2", 1);
  expect_parse_error("\\q", 0);
  expect_parse_error("ab\\", 2);
  expect_parse_error("\\p{L}", 0);
  expect_parse_error("\\b", 0);
  expect_parse_error("(\\1)", 1);
  expect_parse_error("(?i)a", 1);
  expect_parse_error("a^", 1);
  expect_parse_error("$a", 0);
  expect_parse_error("a\xff", 1);
  expect_parse_error("[a-\\d]", 3);
  expect_parse_error("[\\w-z]", 1);
  expect_parse_error("\\x{110000}", 0);
  expect_parse_error("\\xZ1", 0);
  expect_parse_error("[[:nope:]]", 1);
  expect_parse_error("[[a]]", 1);
  expect_parse_error(std::string(300, '(') + std::string(300, ')'), 200);
  // Bounded repetitions at the limit are fine.
  EXPECT_TRUE(walk(*make_regex_automaton("a{1000}"), std::string(1000, 'a')));
  EXPECT_FALSE(walk(*make_regex_automaton("a{1000}"), std::string(999, 'a')));
}

TEST(RegexAutomaton, SizeLimits) {
  try {
    make_regex_automaton("((a{1000}){1000})");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kResourceExhausted) << e.what();
  }
  // 2^15 DFA states are needed to walk every {a,b} string of length 16.
  auto a = make_regex_automaton("(a|b)*a(a|b){14}");
  std::function<void(Automaton::State, int)> dfs = [&](Automaton::State s, int depth) {
    if (depth == 16) return;
    for (uint8_t c : {'a', 'b'}) dfs(a->step(s, c), depth + 1);
  };
  try {
    dfs(a->start(), 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kResourceExhausted) << e.what();
    EXPECT_NE(std::string(e.what()).find("states"), std::string::npos);
  }
}

// Reference wildcard matcher on code points.
bool wildcard_ref(std::string_view pattern, std::string_view text) {
  struct Tok {
    int kind;  // 0 literal, 1 '?', 2 '*'
    char32_t c;
  };
  std::vector<Tok> toks;
  std::u32string p = to_u32(pattern);
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == U'\\') {
      toks.push_back({0, p[++i]});
    } else if (p[i] == U'?') {
      toks.push_back({1, 0});
    } else if (p[i] == U'*') {
      toks.push_back({2, 0});
    } else {
      toks.push_back({0, p[i]});
    }
  }
  std::u32string t = to_u32(text);
  // dp[j]: the tokens so far match t[0..j).
  std::vector<char> dp(t.size() + 1, 0);
  dp[0] = 1;
  for (const Tok& tok : toks) {
    std::vector<char> nd(t.size() + 1, 0);
    for (size_t j = 0; j <= t.size(); ++j) {
      if (tok.kind == 2) {
        nd[j] = dp[j] || (j > 0 && nd[j - 1]);
      } else if (j > 0 && dp[j - 1] && (tok.kind == 1 || t[j - 1] == tok.c)) {
        nd[j] = 1;
      }
    }
    dp = std::move(nd);
  }
  return dp[t.size()] != 0;
}

TEST(WildcardAutomaton, MatchesReference) {
  std::vector<std::string> alphabet = {"a", "b", "c", "*", "?", "\\", "é", "日"};
  std::vector<std::string> patterns = {"a*",  "*b",   "?",      "??",   "*",     "",
                                       "a?c*", "*é*", "\\*a",   "\\?*", "日?*",  "*a*b*",
                                       "\\\\*", "?*?", "**a**", "é",    "a\\b?"};
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10; ++i) {
    std::string p;
    size_t len = rng() % 6;
    for (size_t k = 0; k < len; ++k) {
      std::string c = alphabet[rng() % alphabet.size()];
      p += c;
      if (c == "\\") p += alphabet[rng() % alphabet.size()];
    }
    patterns.push_back(p);
  }
  for (size_t bs : {64, 4096}) {
    TwoFields f = make_dict(rng, alphabet, 1500, 6, bs);
    for (const auto& p : patterns) {
      check_search(
          f, [&] { return make_wildcard_automaton(p); },
          [&](const std::string& t) { return wildcard_ref(p, t); }, "wildcard " + p);
    }
  }
}

TEST(WildcardAutomaton, Errors) {
  try {
    make_wildcard_automaton("ab\\");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kQueryParse);
    EXPECT_NE(std::string(e.what()).find("position 2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_wildcard_automaton("a\xc3"), Error);
  // Regex metacharacters are literal.
  auto a = make_wildcard_automaton("a.(b)+[c]");
  EXPECT_TRUE(walk(*a, "a.(b)+[c]"));
  EXPECT_FALSE(walk(*a, "ax(b)+[c]"));
}

// Optimal string alignment distance on code points.
int osa_distance(const std::u32string& a, const std::u32string& b, bool transpositions) {
  size_t n = a.size(), m = b.size();
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (transpositions && i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

bool levenshtein_ref(const std::string& query, const std::string& term, int dist, bool trans,
                     bool prefix) {
  std::u32string q = to_u32(query), t = to_u32(term);
  if (!prefix) return osa_distance(q, t, trans) <= dist;
  for (size_t j = 0; j <= t.size(); ++j) {
    if (osa_distance(q, t.substr(0, j), trans) <= dist) return true;
  }
  return false;
}

TEST(LevenshteinAutomaton, MatchesReference) {
  std::mt19937_64 rng(4);
  for (const auto* alphabet : {&kUnicode, &kAscii}) {
    std::vector<std::string> small(alphabet->begin(), alphabet->begin() + 5);
    TwoFields f = make_dict(rng, small, 1500, 6, rng() % 2 ? 64 : 4096);
    std::vector<std::string> queries = {"", "a", "ab", "abc"};
    for (int i = 0; i < 5; ++i) queries.push_back(random_term(rng, small, 6));
    for (const auto& q : queries) {
      for (int d = 0; d <= 2; ++d) {
        for (bool trans : {false, true}) {
          for (bool prefix : {false, true}) {
            check_search(
                f,
                [&] {
                  return make_levenshtein_automaton(q, static_cast<uint8_t>(d), trans, prefix);
                },
                [&](const std::string& t) { return levenshtein_ref(q, t, d, trans, prefix); },
                "fuzzy '" + q + "' d=" + std::to_string(d) + (trans ? " trans" : "") +
                    (prefix ? " prefix" : ""));
          }
        }
      }
    }
  }
}

TEST(LevenshteinAutomaton, Basics) {
  auto a = make_levenshtein_automaton("abc", 1, false, false);
  for (const char* yes : {"abc", "abd", "ab", "abcd", "xabc", "bc"}) EXPECT_TRUE(walk(*a, yes)) << yes;
  for (const char* no : {"xyz", "a", "abcde", "bca", ""}) EXPECT_FALSE(walk(*a, no)) << no;
  EXPECT_TRUE(walk(*make_levenshtein_automaton("abcd", 1, true, false), "abdc"));
  EXPECT_FALSE(walk(*make_levenshtein_automaton("abcd", 1, false, false), "abdc"));
  auto p = make_levenshtein_automaton("abc", 1, false, true);
  EXPECT_TRUE(walk(*p, "abxyz"));
  EXPECT_TRUE(walk(*p, "xbcdef"));
  EXPECT_TRUE(walk(*p, "ab"));
  EXPECT_FALSE(walk(*p, "xyzabc"));
  auto u = make_levenshtein_automaton("日本語", 1, false, false);
  EXPECT_TRUE(walk(*u, "日本"));
  EXPECT_TRUE(walk(*u, "日x語"));
  EXPECT_TRUE(walk(*u, "日本🙂語"));
  EXPECT_FALSE(walk(*u, "日"));
  EXPECT_FALSE(walk(*u, "日本\xe8"));  // a truncated character
  auto z = make_levenshtein_automaton("", 0, false, false);
  EXPECT_TRUE(walk(*z, ""));
  EXPECT_FALSE(walk(*z, "a"));
  // Long terms stay within the state budget when walked over a dictionary-like set of strings.
  std::string longterm = "internationalization";
  auto l = make_levenshtein_automaton(longterm, 2, true, false);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20000; ++i) {
    std::string t = longterm;
    for (int e = 0; e < 3; ++e) t[rng() % t.size()] = static_cast<char>('a' + rng() % 26);
    (void)walk(*l, t);
  }
  try {
    make_levenshtein_automaton("abc", 3, false, false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kQueryParse);
  }
  EXPECT_THROW(make_levenshtein_automaton("a\xff", 1, false, false), Error);
}

}  // namespace
}  // namespace needle
