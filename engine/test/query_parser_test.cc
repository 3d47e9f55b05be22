#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "needle/common/error.h"
#include "needle/query/parser.h"
#include "needle/query/user_query.h"

namespace needle {
namespace {

using K = UserQuery::Kind;

std::string debug(std::string_view q, const ParserOptions& o = {}) {
  return to_debug_string(*parse_query(q, o));
}

// Parses, expecting a kQueryParse error; returns its message.
std::string error_of(std::string_view q, const ParserOptions& o = {}) {
  try {
    auto r = parse_query(q, o);
    ADD_FAILURE() << "'" << q << "' parsed as " << to_debug_string(*r);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kQueryParse) << q;
    return e.what();
  }
  return "";
}

// The "position N" of an error message.
long error_position(std::string_view q) {
  std::string m = error_of(q);
  auto p = m.find("': position ");
  if (p == std::string::npos) return -1;
  return std::stol(m.substr(p + 12));
}

struct Case {
  const char* query;
  const char* debug;
};

void check_table(const std::vector<Case>& cases, const ParserOptions& o = {}) {
  for (const auto& c : cases) {
    try {
      EXPECT_EQ(debug(c.query, o), c.debug) << "query: " << c.query;
    } catch (const Error& e) {
      ADD_FAILURE() << "query: " << c.query << " threw " << e.what();
    }
  }
}

// debug(parse(debug(parse(q)))) == debug(parse(q)): the debug form re-parses to the same tree.
void expect_reparses(std::string_view q) {
  std::string d1 = debug(q);
  if (d1 == "<empty>") return;
  std::string d2;
  try {
    d2 = debug(d1);
  } catch (const Error& e) {
    ADD_FAILURE() << "query '" << q << "' -> '" << d1 << "' does not re-parse: " << e.what();
    return;
  }
  EXPECT_EQ(d1, d2) << "query: " << q;
}

TEST(QueryParser, Terms) {
  check_table({
      {"foo", "foo"},
      {"  foo  ", "foo"},
      {"title:foo", "title:foo"},
      {"payload.user.name:alice", "payload.user.name:alice"},
      {"my-field_2:x", "my-field_2:x"},
      {"and", "and"},
      {"or not", "(or not)"},
      {"foo-bar", "foo-bar"},
      {"c++", "c++"},
      {"a+b", "a+b"},
      {"don't", "don't"},
      {"a/b", "a/b"},
      {"café", "café"},
      {"日本語 検索", "(日本語 検索)"},
      {"title:日本", "title:日本"},
      {">5", ">5"},
      {"a!", "a!"},
      {"f:-1", "f:-1"},
      {"f:+1", "f:+1"},
      {"f:a:b", "f:a:b"},
      {"a:b:c", "a:b:c"},
      {"f:AND", "f:AND"},
      {"f:IN", "f:\\IN"},
      {"f:INDIA", "f:INDIA"},
      {"AND:x", "AND:x"},
  });
}

TEST(QueryParser, Escapes) {
  check_table({
      {"a\\ b", "a\\ b"},
      {"path:c\\:\\\\windows", "path:c:\\\\windows"},
      {"c\\:\\\\windows", "c\\:\\\\windows"},
      {"\\AND", "\\AND"},
      {"\\-a", "\\-a"},
      {"\\+a", "\\+a"},
      {"a\\*", "a\\*"},
      {"\\*", "\\*"},
      {"a\\?b", "a\\?b"},
      {"my\\ field:x", "my\\ field:x"},
      {"f\\:g:x", "f\\:g:x"},
      {"\\-f:x", "\\-f:x"},
      {"a\\\"b", "a\\\"b"},
      {"a\\(b\\)", "a\\(b\\)"},
      {"f:\\(x", "f:\\(x"},
      {"f:\\>5", "f:\\>5"},
      {"\\/x", "\\/x"},
      {"a\\~b", "a\\~b"},
      {"a\\^2", "a\\^2"},
  });
}

TEST(QueryParser, EveryAsciiPunctuationEscaped) {
  const std::string punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  for (char c : punct) {
    std::string q = std::string("a\\") + c + "b";
    auto r = parse_query(q);
    ASSERT_EQ(r->kind, K::kTerm) << q;
    EXPECT_EQ(r->text, std::string("a") + c + "b") << q;
    expect_reparses(q);
    // The same with a field, and at the start of a term.
    q = std::string("f:\\") + c + "x";
    r = parse_query(q);
    ASSERT_EQ(r->kind, K::kTerm) << q;
    EXPECT_EQ(*r->field, "f");
    EXPECT_EQ(r->text, std::string(1, c) + "x") << q;
    expect_reparses(q);
    q = std::string("\\") + c;
    r = parse_query(q);
    ASSERT_EQ(r->kind, K::kTerm) << q;
    EXPECT_EQ(r->text, std::string(1, c)) << q;
    expect_reparses(q);
  }
  // All of them in one term and in one field name.
  std::string all;
  for (char c : punct) all += std::string("\\") + c;
  auto r = parse_query(all);
  ASSERT_EQ(r->kind, K::kTerm);
  EXPECT_EQ(r->text, punct);
  r = parse_query(all + ":" + all);
  ASSERT_EQ(r->kind, K::kTerm);
  EXPECT_EQ(*r->field, punct);
  EXPECT_EQ(r->text, punct);
  expect_reparses(all + ":" + all);
}

TEST(QueryParser, BooleanOperatorsAndPrecedence) {
  check_table({
      {"a b", "(a b)"},
      {"a OR b", "(a b)"},
      {"a AND b", "(+a +b)"},
      {"a AND b AND c", "(+a +b +c)"},
      {"a OR b AND c", "(a (+b +c))"},
      {"a AND b OR c", "((+a +b) c)"},
      {"a AND b OR c AND d", "((+a +b) (+c +d))"},
      {"a b AND c", "(a (+b +c))"},
      {"+a b", "(+a b)"},
      {"+a -b c", "(+a -b c)"},
      {"a OR +b", "(a +b)"},
      {"a OR -b", "(a -b)"},
      {"a AND -b", "(+a -b)"},
      {"-a AND b", "(-a +b)"},
      {"+a AND b", "(+a +b)"},
      {"a AND NOT b", "(+a -b)"},
      {"a OR NOT b", "(a -b)"},
      {"a NOT b", "(a -b)"},
      {"NOT a", "(-a)"},
      {"NOT a AND b", "(-a +b)"},
      {"NOT a OR b", "(-a b)"},
      {"-a", "(-a)"},
      {"-a -b", "(-a -b)"},
      {"+a", "a"},
      {"(a)", "a"},
      {"((a))", "a"},
      {"(+a)", "a"},
      {"(-a)", "(-a)"},
      {"(a b)", "(a b)"},
      {"(a OR b) AND c", "(+(a b) +c)"},
      {"a AND (b OR c)", "(+a +(b c))"},
      {"-(a b) c", "(-(a b) c)"},
      {"NOT (a b)", "(-(a b))"},
      {"NOT(a b)", "(-(a b))"},
      {"a AND(b)", "(+a +b)"},
      {"a AND b AND NOT c OR d", "((+a +b -c) d)"},
      {"(a AND b) OR (c AND d)", "((+a +b) (+c +d))"},
      {"title:foo AND -body:bar", "(+title:foo -body:bar)"},
      {"a\tb\nc", "(a b c)"},
  });
}

TEST(QueryParser, DefaultConjunction) {
  ParserOptions o;
  o.default_conjunction = true;
  check_table(
      {
          {"a b", "(+a +b)"},
          {"a b c", "(+a +b +c)"},
          {"a OR b", "(a b)"},
          {"a b OR c", "((+a +b) c)"},
          {"a OR b c", "(a (+b +c))"},
          {"a -b", "(+a -b)"},
          {"+a b", "(+a +b)"},
          {"a", "a"},
          {"-a", "(-a)"},
          {"(a b) OR c", "((+a +b) c)"},
      },
      o);
}

TEST(QueryParser, FieldGroups) {
  check_table({
      {"title:(a b)", "(title:a title:b)"},
      {"title:(a AND b)", "(+title:a +title:b)"},
      {"title:(a)", "title:a"},
      {"title:(a body:b)", "(title:a body:b)"},
      {"title:(a (b \"c d\"))", "(title:a (title:b title:\"c d\"))"},
      {"title:(-a +b*)", "(-title:a +title:b*)"},
      {"title:(*)", "title:*"},
      {"title:([1 TO 2] /x/)", "(title:[1 TO 2] title:/x/)"},
      {"title:(a b)^2", "(title:a title:b)^2"},
      {"-title:(a b)", "(-(title:a title:b))"},
      {"f:(g:(x))", "g:x"},
  });
}

TEST(QueryParser, Phrases) {
  check_table({
      {"\"a b\"", "\"a b\""},
      {"body:\"a b\"", "body:\"a b\""},
      {"\"a b\"~2", "\"a b\"~2"},
      {"\"a b\"~0", "\"a b\""},
      {"\"a b\"*", "\"a b\"*"},
      {"body:\"a b\"*^2", "body:\"a b\"*^2"},
      {"\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\""},
      {"\"back\\\\slash\"", "\"back\\\\slash\""},
      {"\"\"", "\"\""},
      {"\"a:b (c)\"", "\"a:b (c)\""},
      {"\"a b\"^2", "\"a b\"^2"},
      {"\"a b\"~2^3", "\"a b\"~2^3"},
      {"+body:\"a b\"~2 -id:x*", "(+body:\"a b\"~2 -id:x*)"},
      {"ip:\"2001:db8::1\"", "ip:\"2001:db8::1\""},
  });
}

TEST(QueryParser, PrefixWildcardRegexFuzzy) {
  check_table({
      {"foo*", "foo*"},
      {"title:foo*", "title:foo*"},
      {"f?o*bar", "f?o*bar"},
      {"*foo", "*foo"},
      {"?", "?"},
      {"fo?", "fo?"},
      {"foo**", "foo**"},
      {"foo\\**", "foo\\**"},
      {"a\\*b*c", "a\\*b*c"},
      {"a\\ b*c", "a\\ b*c"},
      {"a\\\\b*c", "a\\\\b*c"},
      {"f:a\\:b*c", "f:a:b*c"},
      {"a\\:b?", "a\\:b?"},
      {"/ab.*c/", "/ab.*c/"},
      {"field:/a\\/b/", "field:/a\\/b/"},
      {"/\\d+/", "/\\d+/"},
      {"/a\\\\/", "/a\\\\/"},
      {"/a b(c)/^2", "/a b(c)/^2"},
      {"foo~", "foo~1"},
      {"foo~0", "foo~0"},
      {"foo~1", "foo~1"},
      {"foo~2", "foo~2"},
      {"f:foo~2^3", "f:foo~2^3"},
      {"foo~^2", "foo~1^2"},
      {"\\AND~1", "\\AND~1"},
  });
  auto p = parse_query("f?o*bar");
  EXPECT_EQ(p->kind, K::kWildcard);
  EXPECT_EQ(p->text, "f?o*bar");
  p = parse_query("foo*");
  EXPECT_EQ(p->kind, K::kPrefix);
  EXPECT_EQ(p->text, "foo");
  p = parse_query("foo\\**");
  EXPECT_EQ(p->kind, K::kPrefix);
  EXPECT_EQ(p->text, "foo*");
  p = parse_query("a\\*b*c");
  EXPECT_EQ(p->kind, K::kWildcard);
  EXPECT_EQ(p->text, "a\\*b*c");  // the literal '*' keeps its escape for the wildcard matcher
  p = parse_query("a\\:b?");
  EXPECT_EQ(p->text, "a:b?");  // other escapes are resolved
  p = parse_query("/a\\/b\\d/");
  EXPECT_EQ(p->kind, K::kRegex);
  EXPECT_EQ(p->text, "a/b\\d");
  p = parse_query("foo~");
  EXPECT_EQ(p->kind, K::kFuzzy);
  EXPECT_EQ(p->distance, 1);
}

TEST(QueryParser, Ranges) {
  check_table({
      {"[a TO b]", "[a TO b]"},
      {"f:[a TO b]", "f:[a TO b]"},
      {"f:{a TO b}", "f:{a TO b}"},
      {"f:[a TO b}", "f:[a TO b}"},
      {"f:{a TO b]", "f:{a TO b]"},
      {"f:[10 TO *]", "f:[10 TO *]"},
      {"f:[* TO 10]", "f:[* TO 10]"},
      {"f:[ 1  TO  2 ]", "f:[1 TO 2]"},
      {"f:[\"2024-01-01T00:00:00Z\" TO *]", "f:[2024-01-01T00:00:00Z TO *]"},
      {"ts:[2024-01-01T00:00:00Z TO 2024-02-01T00:00:00Z]",
       "ts:[2024-01-01T00:00:00Z TO 2024-02-01T00:00:00Z]"},
      {"ts:[2024-01-01T00:00:00.5+01:00 TO *}", "ts:[2024-01-01T00:00:00.5+01:00 TO *}"},
      {"ip:[10.0.0.0 TO 10.255.255.255]", "ip:[10.0.0.0 TO 10.255.255.255]"},
      {"ip:[2001:db8:: TO 2001:db8::ffff]", "ip:[2001:db8:: TO 2001:db8::ffff]"},
      {"f:[-5 TO -1]", "f:[-5 TO -1]"},
      {"f:[\"a b\" TO \"\"]", "f:[a\\ b TO \"\"]"},
      {"f:[\"*\" TO b]", "f:[\\* TO b]"},
      {"f:[TO TO b]", "f:[TO TO b]"},
      {"f:[a^2 TO b~]", "f:[a^2 TO b~]"},
      {"f:[a TO b]^2", "f:[a TO b]^2"},
      {"f:>10", "f:{10 TO *}"},
      {"f:>=10", "f:[10 TO *}"},
      {"f:<10", "f:{* TO 10}"},
      {"f:<=10", "f:{* TO 10]"},
      {"body:>=1", "body:[1 TO *}"},
      {"ts:>=2024-01-01T00:00:00Z", "ts:[2024-01-01T00:00:00Z TO *}"},
      {"ip:<2001:db8::1", "ip:{* TO 2001:db8::1}"},
      {"f:>\"a b\"", "f:{a\\ b TO *}"},
      {"f:>-5", "f:{-5 TO *}"},
      {"f:>10^2", "f:{10 TO *}^2"},
      {"f:>1 AND f:<5", "(+f:{1 TO *} +f:{* TO 5})"},
  });
  auto r = parse_query("f:[1 TO *}");
  EXPECT_EQ(r->kind, K::kRange);
  EXPECT_EQ(r->lower.value, "1");
  EXPECT_TRUE(r->lower.inclusive);
  EXPECT_FALSE(r->lower.unbounded);
  EXPECT_TRUE(r->upper.unbounded);
  EXPECT_FALSE(r->upper.inclusive);
}

TEST(QueryParser, IpAndDateValues) {
  check_table({
      {"ip:192.168.0.0/16", "ip:192.168.0.0/16"},
      {"ip:2001\\:db8\\:\\:1", "ip:2001:db8::1"},
      {"ip:2001:db8::1", "ip:2001:db8::1"},
      {"ip:::1", "ip:::1"},
      {"ip:::ffff:10.0.0.1", "ip:::ffff:10.0.0.1"},
      {"ip:fe80::1%eth0", "ip:fe80::1%eth0"},
      {"ts:2024-01-01T00:00:00Z", "ts:2024-01-01T00:00:00Z"},
      {"ts:2024-01-01T00:00:00+01:00", "ts:2024-01-01T00:00:00+01:00"},
      {"(ip:2001:db8::1)", "ip:2001:db8::1"},
      {"ip:2001:db8::1 AND ts:2024-01-01T00:00:00Z",
       "(+ip:2001:db8::1 +ts:2024-01-01T00:00:00Z)"},
      {"ip:2001:db8::*", "ip:2001:db8::*"},
      // Without a field, the first ':' makes a field name.
      {"2001:db8::1", "2001:db8::1"},
      {"2001\\:db8\\:\\:1", "2001\\:db8\\:\\:1"},
  });
  auto r = parse_query("2001:db8::1");
  EXPECT_EQ(*r->field, "2001");
  EXPECT_EQ(r->text, "db8::1");
  r = parse_query("ip:2001:db8::1");
  EXPECT_EQ(*r->field, "ip");
  EXPECT_EQ(r->text, "2001:db8::1");
}

TEST(QueryParser, SetsAllExistsBoosts) {
  check_table({
      {"f:IN [a b c]", "f:IN [a b c]"},
      {"f:IN[a]", "f:IN [a]"},
      {"f:IN []", "f:IN []"},
      {"f:IN [ \"a b\" 10.0.0.1 2001:db8::1 ]", "f:IN [a\\ b 10.0.0.1 2001:db8::1]"},
      {"f:IN [a TO b]", "f:IN [a TO b]"},
      {"f:IN [a b]^2", "f:IN [a b]^2"},
      {"*", "*"},
      {"*:*", "*"},
      {"*^2", "*^2"},
      {"f:*", "f:*"},
      {"-f:*", "(-f:*)"},
      {"* -f:*", "(* -f:*)"},
      {"title:foo^2", "title:foo^2"},
      {"foo^0.5", "foo^0.5"},
      {"foo^.5", "foo^0.5"},
      {"foo^2.", "foo^2"},
      {"foo^1", "foo"},
      {"foo^0", "foo^0"},
      {"foo^0.1", "foo^0.1"},
      {"foo^10000000000", "foo^10000000000"},
      {"(a b)^3", "(a b)^3"},
      {"(a)^3", "a^3"},
      {"((a)^2)^3", "a^6"},
      {"+a^2", "a^2"},
      {"-a^2", "(-a^2)"},
      {"(-a)^2", "(-a)^2"},
      {"a^2 b^0.25", "(a^2 b^0.25)"},
  });
  auto r = parse_query("f:IN [a \"b c\"]");
  ASSERT_EQ(r->kind, K::kSet);
  EXPECT_EQ(r->set, (std::vector<std::string>{"a", "b c"}));
  EXPECT_FLOAT_EQ(parse_query("foo^0.5")->boost, 0.5f);
}

TEST(QueryParser, EmptyQuery) {
  for (const char* q : {"", " ", "\t\n  \r"}) {
    auto r = parse_query(q);
    EXPECT_EQ(r->kind, K::kEmpty);
    EXPECT_EQ(to_debug_string(*r), "<empty>");
  }
}

TEST(QueryParser, Positions) {
  auto r = parse_query("  title:foo -\"a b\" (c d)^2");
  ASSERT_EQ(r->kind, K::kBoolean);
  ASSERT_EQ(r->clauses.size(), 3u);
  EXPECT_EQ(r->position, 2u);
  EXPECT_EQ(r->clauses[0].second->position, 2u);
  EXPECT_EQ(r->clauses[1].first, Occur::kMustNot);
  EXPECT_EQ(r->clauses[1].second->position, 13u);
  EXPECT_EQ(r->clauses[2].second->position, 19u);
  EXPECT_EQ(r->clauses[2].second->clauses[1].second->position, 22u);
  r = parse_query("a AND f:[1 TO 2]");
  EXPECT_EQ(r->clauses[1].second->position, 6u);
  r = parse_query("x f:(a b)");
  EXPECT_EQ(r->clauses[1].second->position, 2u);
  EXPECT_EQ(r->clauses[1].second->clauses[1].second->position, 7u);
}

TEST(QueryParser, ErrorPositions) {
  struct ErrCase {
    const char* query;
    long position;
  };
  const std::vector<ErrCase> cases = {
      {"(", 1},
      {"(a", 2},
      {"(a b", 4},
      {"a)", 1},
      {"a))", 1},
      {"()", 1},
      {"( )", 2},
      {"\"a b", 4},
      {"f:\"a", 4},
      {"field:", 6},
      {"field: a", 6},
      {"(field:)", 7},
      {"[a TO", 5},
      {"[a TO ", 6},
      {"[a", 2},
      {"[a TO b", 7},
      {"[a b]", 3},
      {"[a TO]", 5},
      {"[a TOb]", 3},
      {"[ TO b]", 5},
      {"[]", 1},
      {"f:[a TO b)", 9},
      {"^x", 0},
      {"a^x", 2},
      {"a^", 2},
      {"a^2^3", 3},
      {"a^2b", 3},
      {"a^-1", 2},
      {"AND", 0},
      {"OR", 0},
      {"NOT", 3},
      {"AND a", 0},
      {"a AND", 5},
      {"a OR", 4},
      {"a AND OR b", 6},
      {"a AND AND b", 6},
      {"a AND )", 6},
      {"NOT NOT a", 4},
      {"NOT -a", 4},
      {"a NOT", 5},
      {"-", 1},
      {"+", 1},
      {"a -", 3},
      {"- a", 1},
      {"+-a", 1},
      {"--a", 1},
      {"+AND", 1},
      {"+)", 1},
      {"foo~3", 4},
      {"foo~10", 4},
      {"foo*~", 4},
      {"f?o~1", 3},
      {"*~", 1},
      {"\"a\"~", 4},
      {"\"a\"~x", 4},
      {"\"a\"~2*", 5},
      {"/ab", 3},
      {"a\\", 2},
      {"\"a\\", 3},
      {"/a\\", 3},
      {"a*b:c", 1},
      {"a b:c)", 5},
      {":a", 0},
      {"a:", 2},
      {"~a", 0},
      {"a\"b\"", 1},
      {"\"a\"b", 3},
      {"(a)b", 3},
      {"a(b)", 1},
      {"f:>", 3},
      {"f:>=", 4},
      {"f:> 5", 3},
      {"f:>*", 3},
      {"f:IN [a", 7},
      {"f:IN [a [b]", 8},
      {"f:IN [\"a\"b]", 9},
      {"}", 0},
      {"a ]", 2},
      {"f:]", 2},
      {"/a/b", 3},
      {"foo^99999999999999999999999999999999999999999", 4},
      {"\"a\"~99999999999", 4},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(error_position(c.query), c.position) << "query: " << c.query;
  }
}

TEST(QueryParser, ErrorMessagesArePrecise) {
  EXPECT_EQ(error_of("(a"),
            "query '(a': position 2: expected ')' closing the '(' at position 0, found end of query");
  EXPECT_EQ(error_of("field:"),
            "query 'field:': position 6: expected a value after 'field:', found end of query");
  EXPECT_EQ(error_of("[a TO"),
            "query '[a TO': position 5: expected the upper bound of the range, found end of query");
  EXPECT_EQ(error_of("^x"), "query '^x': position 0: expected a clause, found '^'");
  EXPECT_EQ(error_of("AND"), "query 'AND': position 0: expected a clause, found 'AND'");
  EXPECT_EQ(error_of("a AND"),
            "query 'a AND': position 5: expected a clause after 'AND', found end of query");
  EXPECT_EQ(error_of("a)"),
            "query 'a)': position 1: expected an operator, a clause or end of query, found ')' "
            "without a matching '('");
  EXPECT_EQ(error_of("\"a b"),
            "query '\"a b': position 4: expected '\"' closing the phrase opened at position 0, "
            "found end of query");
  EXPECT_EQ(error_of("foo~3"),
            "query 'foo~3': position 4: expected a fuzzy distance of 0, 1 or 2, found '3'");
  EXPECT_EQ(error_of("a^x"),
            "query 'a^x': position 2: expected a number (the boost) after '^', found 'x'");
  EXPECT_EQ(error_of("a*b:c"),
            "query 'a*b:c': position 1: expected a field name (letters, digits, '_', '-' and '.'; "
            "escape other characters with '\\'), found '*'");
  EXPECT_EQ(error_of("[a TOb]"),
            "query '[a TOb]': position 3: expected 'TO' after the lower bound, found 'TOb'");
  EXPECT_EQ(error_of("a^\x01"),
            "query 'a^\x01': position 2: expected a number (the boost) after '^', found byte 0x01");
  EXPECT_EQ(error_of("- a"),
            "query '- a': position 1: expected a clause right after '-', found whitespace");
}

TEST(QueryParser, DeepNesting) {
  // kMaxQueryDepth levels parse; one more is a clean error; 1000 and 100000 too.
  auto nested = [](size_t depth) {
    return std::string(depth, '(') + "a" + std::string(depth, ')');
  };
  EXPECT_EQ(debug(nested(kMaxQueryDepth)), "a");
  EXPECT_EQ(debug(std::string(kMaxQueryDepth, '(') + "a b" + std::string(kMaxQueryDepth, ')')),
            "(a b)");
  for (size_t depth : {kMaxQueryDepth + 1, size_t{1000}, size_t{100000}}) {
    std::string m = error_of(nested(depth));
    EXPECT_NE(m.find("position " + std::to_string(kMaxQueryDepth) + ": expected at most 100 levels"),
              std::string::npos)
        << m;
    EXPECT_LT(m.size(), 400u);  // long queries are shown as an excerpt
  }
  // Nesting through field groups and operators counts the same way.
  std::string q;
  for (size_t i = 0; i < 1000; ++i) q += "f:(a AND -";
  EXPECT_EQ(error_of(q).find("expected at most 100 levels") != std::string::npos, true);
  // Unbalanced deep nesting.
  error_of(std::string(50, '(') + "a");
}

TEST(QueryParser, VeryLongQueries) {
  std::string q;
  for (int i = 0; i < 200000; ++i) q += (i % 3 == 1 ? "AND " : "") + std::string("t") + std::to_string(i % 97) + " ";
  auto r = parse_query(q);
  ASSERT_EQ(r->kind, K::kBoolean);
  std::string phrase = "\"" + std::string(1 << 20, 'x') + "\"";
  EXPECT_EQ(parse_query(phrase)->text.size(), 1u << 20);
  std::string term(1 << 20, 'y');
  EXPECT_EQ(parse_query("f:" + term)->text.size(), 1u << 20);
  // An error at the end of a long query: the message shows the part around the position.
  std::string bad = std::string(100000, 'a') + " (";
  std::string m = error_of(bad);
  EXPECT_NE(m.find("position 100002"), std::string::npos);
  EXPECT_LT(m.size(), 400u);
  EXPECT_NE(m.find("'...aaaa"), std::string::npos) << m;
  EXPECT_NE(m.find("aaaa ('"), std::string::npos) << m;
}

TEST(QueryParser, NonAscii) {
  auto r = parse_query("título:niño AND 東京 \"ελληνικά λέξη\" emoji:😀*");
  EXPECT_EQ(to_debug_string(*r), "((+título:niño +東京) \"ελληνικά λέξη\" emoji:😀*)");
  EXPECT_EQ(r->clauses[0].second->clauses[1].second->text, "東京");
  // Non-ASCII in an error message is shown whole.
  EXPECT_EQ(error_of("a é)"),
            "query 'a é)': position 4: expected an operator, a clause or end of query, found ')' "
            "without a matching '('");
  EXPECT_EQ(error_of("(é"), "query '(é': position 3: expected ')' closing the '(' at position 0, found end of query");
  EXPECT_EQ(error_of("^é"), "query '^é': position 0: expected a clause, found '^'");
  EXPECT_EQ(error_of("a^é"), "query 'a^é': position 2: expected a number (the boost) after '^', found 'é'");
}

TEST(QueryParser, DebugFormReparses) {
  for (const char* q :
       {"+body:\"a b\"~2 -id:x*", "a AND b OR c", "f:(a -b)^2", "(a b)^3 c", "x\\ y:\\-1",
        "\\AND \\OR f:\\IN", "ip:2001:db8::1", "f:[\"a b\" TO *}", "f:IN [\"\" \\* a]",
        "a\\*b*c?", "/a\\/b/", "\"x\\\"y\"~3", "f:\\>5 \\/x", "((a)^2)^0.1", "*:* f:*",
        "-(-(-a))", "a\\:b", "\\+x", "f:AND", "f:(a \\AND)"}) {
    expect_reparses(q);
  }
}

TEST(QueryParser, FuzzRandomStringsNeverCrash) {
  const std::vector<std::string> alphabet = {"a",  "b",   "  ",  ":",  "(",  ")",   "\"", "[",
                                             "]",  "{",   "}",   "TO", "AND", "OR", "NOT", "+",
                                             "-",  "*",   "?",   "~",  "^",  "/",   "\\", "1",
                                             ".",  " ",   " ",   "IN", "f:", "2",   "é"};
  std::mt19937 rng(12345);
  size_t ok = 0, errors = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 100000; ++i) {
    std::string q;
    size_t len = rng() % 16;
    for (size_t k = 0; k < len; ++k) q += alphabet[rng() % alphabet.size()];
    ParserOptions o;
    o.default_conjunction = (i % 5 == 0);
    try {
      auto r = parse_query(q, o);
      ASSERT_NE(r, nullptr);
      ++ok;
      if (!o.default_conjunction) expect_reparses(q);
    } catch (const Error& e) {
      ASSERT_EQ(e.code(), ErrorCode::kQueryParse) << q;
      std::string m = e.what();
      auto p = m.find("': position ");
      ASSERT_NE(p, std::string::npos) << m;
      size_t pos = std::stoul(m.substr(p + 12));
      ASSERT_LE(pos, q.size()) << m;
      ++errors;
    }
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 120.0);
  EXPECT_GT(ok, 1000u);
  EXPECT_GT(errors, 1000u);
}

}  // namespace
}  // namespace needle
