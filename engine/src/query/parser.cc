// The query string parser: a hand-written recursive-descent parser over the bytes of the query.
// Tokenizing depends on the context (a value after `field:` may contain ':', a range bound may
// contain '^'), so there is no separate lexer. See parser.h and docs/query-language.md.
#include "needle/query/parser.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "needle/common/error.h"

namespace needle {

namespace {

using Node = std::shared_ptr<UserQuery>;

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_utf8_continuation(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

// Where a word ends, by context.
enum class WordMode {
  kClauseStart,  // a bare word at the start of a clause: may be a field name, so ':' ends it
  kValue,        // the value after `field:` or a comparison: ':' is part of it
  kBound,        // a range bound or set element: only whitespace, brackets, parens, quotes end it
};

bool ends_word(char c, WordMode mode) {
  if (is_ws(c)) return true;
  switch (mode) {
    case WordMode::kClauseStart:
      return std::string_view("()\"^~:[]{}").find(c) != std::string_view::npos;
    case WordMode::kValue:
      return std::string_view("()\"^~[]{}").find(c) != std::string_view::npos;
    case WordMode::kBound:
      return std::string_view("()\"[]{}").find(c) != std::string_view::npos;
  }
  return true;
}

bool is_field_char(char c) {
  auto u = static_cast<uint8_t>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
         c == '-' || c == '.' || u >= 0x80;
}

struct Word {
  size_t start = 0, end = 0;  // source bytes [start, end)
  std::string text;           // unescaped
  std::string pattern;        // as a wildcard pattern: '\' kept before '*', '?' and '\'
  bool any_escape = false;
  size_t wildcards = 0;       // unescaped '*' and '?'
  bool trailing_star = false; // the last character is an unescaped '*'
  size_t bad_field_char = std::string::npos;  // source offset of the first non-field character

  bool empty() const { return start == end; }
  bool is_star() const { return end - start == 1 && wildcards == 1 && text == "*"; }
};

enum class Keyword { kNone, kAnd, kOr, kNot };

class Parser {
 public:
  Parser(std::string_view q, const ParserOptions& options) : q_(q), opt_(options) {}

  UserQueryPtr parse() {
    if (q_.size() > std::numeric_limits<uint32_t>::max()) {
      fail(0, "a query of at most 4294967295 bytes", std::to_string(q_.size()) + " bytes");
    }
    skip_ws();
    if (at_end()) {
      auto n = std::make_shared<UserQuery>();
      n->kind = UserQuery::Kind::kEmpty;
      return n;
    }
    Node n = parse_sequence(0, nullptr);
    skip_ws();
    if (!at_end()) {
      // parse_sequence stops only at the end or at ')'.
      fail(pos_, "an operator, a clause or end of query", "')' without a matching '('");
    }
    return n;
  }

 private:
  struct Operand {
    Occur occur;
    Node node;
  };

  // --- errors --------------------------------------------------------------------------------

  [[noreturn]] void fail(size_t pos, const std::string& expected, const std::string& found) const {
    throw_error(ErrorCode::kQueryParse, "query '" + excerpt(pos) + "': position " +
                                            std::to_string(pos) + ": expected " + expected +
                                            ", found " + found);
  }
  [[noreturn]] void fail(size_t pos, const std::string& expected) const {
    fail(pos, expected, describe(pos));
  }

  // The query, or for a long one the part around `pos`.
  std::string excerpt(size_t pos) const {
    constexpr size_t kMax = 200, kSide = 80;
    if (q_.size() <= kMax) return std::string(q_);
    size_t b = pos > kSide ? pos - kSide : 0;
    size_t e = std::min(q_.size(), pos + kSide);
    while (b > 0 && is_utf8_continuation(q_[b])) --b;
    while (e < q_.size() && is_utf8_continuation(q_[e])) ++e;
    return (b > 0 ? "..." : "") + std::string(q_.substr(b, e - b)) + (e < q_.size() ? "..." : "");
  }

  // What is at `pos`, for "found ...".
  std::string describe(size_t pos) const {
    if (pos >= q_.size()) return "end of query";
    char c = q_[pos];
    if (is_ws(c)) return "whitespace";
    switch (keyword_at(pos)) {
      case Keyword::kAnd:
        return "'AND'";
      case Keyword::kOr:
        return "'OR'";
      case Keyword::kNot:
        return "'NOT'";
      case Keyword::kNone:
        break;
    }
    auto u = static_cast<uint8_t>(c);
    if (u < 0x20 || u == 0x7f) {
      static const char* hex = "0123456789abcdef";
      return std::string("byte 0x") + hex[u >> 4] + hex[u & 15];
    }
    if (ends_word(c, WordMode::kClauseStart)) return "'" + std::string(1, c) + "'";
    // A word: show it up to where a bare word would end (at most ~24 bytes).
    size_t e = pos;
    while (e < q_.size() && !ends_word(q_[e], WordMode::kClauseStart) && e - pos < 24) {
      e += (q_[e] == '\\' && e + 1 < q_.size()) ? 2 : 1;
    }
    while (e < q_.size() && is_utf8_continuation(q_[e])) ++e;
    bool more = e < q_.size() && !ends_word(q_[e], WordMode::kClauseStart);
    return "'" + std::string(q_.substr(pos, e - pos)) + (more ? "...'" : "'");
  }

  // --- scanning ------------------------------------------------------------------------------

  bool at_end() const { return pos_ >= q_.size(); }
  char peek() const { return q_[pos_]; }
  void skip_ws() {
    while (!at_end() && is_ws(peek())) ++pos_;
  }
  // At the end of a clause: the end, whitespace or ')'.
  bool at_clause_end(size_t p) const { return p >= q_.size() || is_ws(q_[p]) || q_[p] == ')'; }

  Keyword keyword_at(size_t p) const {
    auto try_kw = [&](std::string_view kw) {
      if (q_.substr(p, kw.size()) != kw) return false;
      size_t after = p + kw.size();
      return after >= q_.size() || (ends_word(q_[after], WordMode::kClauseStart) && q_[after] != ':');
    };
    if (try_kw("AND")) return Keyword::kAnd;
    if (try_kw("OR")) return Keyword::kOr;
    if (try_kw("NOT")) return Keyword::kNot;
    return Keyword::kNone;
  }

  Word scan_word(WordMode mode) {
    Word w;
    w.start = pos_;
    bool last_star = false;
    while (!at_end()) {
      char c = peek();
      if (c == '\\') {
        if (pos_ + 1 >= q_.size()) fail(pos_ + 1, "a character after '\\'");
        char e = q_[pos_ + 1];
        w.text += e;
        if (e == '*' || e == '?' || e == '\\') w.pattern += '\\';
        w.pattern += e;
        w.any_escape = true;
        last_star = false;
        pos_ += 2;
        continue;
      }
      if (ends_word(c, mode)) break;
      if (c == '*' || c == '?') ++w.wildcards;
      if (!is_field_char(c) && w.bad_field_char == std::string::npos) w.bad_field_char = pos_;
      last_star = c == '*';
      w.text += c;
      w.pattern += c;
      ++pos_;
    }
    w.end = pos_;
    w.trailing_star = last_star;
    return w;
  }

  // A quoted string at pos_ ('"'); `\x` is x. Returns the unescaped text.
  std::string scan_quoted(const char* what) {
    const size_t open = pos_++;
    std::string text;
    while (true) {
      if (at_end()) {
        fail(pos_, std::string("'\"' closing the ") + what + " opened at position " +
                       std::to_string(open));
      }
      char c = peek();
      if (c == '\\') {
        if (pos_ + 1 >= q_.size()) fail(pos_ + 1, "a character after '\\'");
        text += q_[pos_ + 1];
        pos_ += 2;
      } else if (c == '"') {
        ++pos_;
        return text;
      } else {
        text += c;
        ++pos_;
      }
    }
  }

  // Digits at pos_ as an unsigned number; nullopt when there are none. Saturates at UINT64_MAX.
  std::optional<uint64_t> scan_uint() {
    if (at_end() || !is_digit(peek())) return std::nullopt;
    uint64_t v = 0;
    while (!at_end() && is_digit(peek())) {
      uint64_t d = static_cast<uint64_t>(peek() - '0');
      v = (v > (UINT64_MAX - d) / 10) ? UINT64_MAX : v * 10 + d;
      ++pos_;
    }
    return v;
  }

  void expect_clause_end() {
    if (!at_clause_end(pos_)) fail(pos_, "whitespace, ')' or end of query after the clause");
  }

  Node leaf(UserQuery::Kind kind, const std::string* field, size_t start) {
    auto n = std::make_shared<UserQuery>();
    n->kind = kind;
    if (field != nullptr) n->field = *field;
    n->position = static_cast<uint32_t>(start);
    return n;
  }

  // --- grammar -------------------------------------------------------------------------------

  // operand ( [AND|OR] operand )*, up to the end or ')'.
  Node parse_sequence(size_t depth, const std::string* field) {
    std::vector<std::vector<Operand>> groups(1);
    bool first = true;
    while (true) {
      skip_ws();
      if (at_end() || peek() == ')') {
        if (first) fail(pos_, "a clause");
        break;
      }
      Keyword kw = keyword_at(pos_);
      bool same_group = opt_.default_conjunction;
      if (kw == Keyword::kAnd || kw == Keyword::kOr) {
        const char* name = kw == Keyword::kAnd ? "'AND'" : "'OR'";
        if (first) fail(pos_, "a clause");
        same_group = kw == Keyword::kAnd;
        pos_ += kw == Keyword::kAnd ? 3 : 2;
        skip_ws();
        Keyword next = keyword_at(pos_);
        if (at_end() || peek() == ')' || next == Keyword::kAnd || next == Keyword::kOr) {
          fail(pos_, std::string("a clause after ") + name);
        }
      }
      Operand o = parse_operand(depth, field);
      if (!first && !same_group) groups.emplace_back();
      groups.back().push_back(std::move(o));
      first = false;
    }
    return combine(std::move(groups));
  }

  static Occur in_and_group(Occur o) { return o == Occur::kMustNot ? Occur::kMustNot : Occur::kMust; }

  Node combine(std::vector<std::vector<Operand>> groups) {
    auto boolean = [](uint32_t position) {
      auto b = std::make_shared<UserQuery>();
      b->kind = UserQuery::Kind::kBoolean;
      b->position = position;
      return b;
    };
    if (groups.size() == 1 && groups[0].size() == 1) {
      Operand& o = groups[0][0];
      if (o.occur != Occur::kMustNot) return o.node;
      Node b = boolean(o.node->position);
      b->clauses.emplace_back(Occur::kMustNot, o.node);
      return b;
    }
    auto and_group = [&](std::vector<Operand>& g) {
      Node b = boolean(g[0].node->position);
      for (auto& o : g) b->clauses.emplace_back(in_and_group(o.occur), std::move(o.node));
      return b;
    };
    if (groups.size() == 1) return and_group(groups[0]);
    Node top = boolean(groups[0][0].node->position);
    for (auto& g : groups) {
      if (g.size() == 1) {
        top->clauses.emplace_back(g[0].occur, std::move(g[0].node));
      } else {
        top->clauses.emplace_back(Occur::kShould, and_group(g));
      }
    }
    return top;
  }

  Operand parse_operand(size_t depth, const std::string* field) {
    Occur occur = Occur::kShould;
    char c = peek();
    if (c == '+' || c == '-') {
      occur = c == '+' ? Occur::kMust : Occur::kMustNot;
      std::string after = c == '+' ? "'+'" : "'-'";
      ++pos_;
      if (at_end() || is_ws(peek())) fail(pos_, "a clause right after " + after);
      if (peek() == '+' || peek() == '-' || peek() == ')' || keyword_at(pos_) != Keyword::kNone) {
        fail(pos_, "a clause after " + after);
      }
    } else if (keyword_at(pos_) == Keyword::kNot) {
      occur = Occur::kMustNot;
      pos_ += 3;
      skip_ws();
      if (at_end() || peek() == '+' || peek() == '-' || peek() == ')' ||
          keyword_at(pos_) != Keyword::kNone) {
        fail(pos_, "a clause after 'NOT'");
      }
    }
    Node node = parse_primary(depth, field);
    expect_clause_end();
    return {occur, std::move(node)};
  }

  Node parse_group(size_t depth, const std::string* field, size_t start) {
    const size_t open = pos_;
    if (depth + 1 > kMaxQueryDepth) {
      fail(pos_, "at most " + std::to_string(kMaxQueryDepth) + " levels of nested parentheses",
           "a '(' at level " + std::to_string(depth + 1));
    }
    ++pos_;
    Node inner = parse_sequence(depth + 1, field);
    skip_ws();
    if (at_end()) fail(pos_, "')' closing the '(' at position " + std::to_string(open));
    ++pos_;  // ')'
    if (inner->kind == UserQuery::Kind::kBoolean) inner->position = static_cast<uint32_t>(start);
    parse_boost(*inner);
    return inner;
  }

  Node parse_primary(size_t depth, const std::string* field) {
    const size_t start = pos_;
    switch (peek()) {
      case '(':
        return parse_group(depth, field, start);
      case '"':
        return parse_phrase(field, start);
      case '/':
        return parse_regex(field, start);
      case '[':
      case '{':
        return parse_range(field, start);
      default:
        break;
    }
    if (keyword_at(pos_) != Keyword::kNone) fail(pos_, "a clause");
    Word w = scan_word(WordMode::kClauseStart);
    if (w.empty()) fail(pos_, "a clause");
    if (!at_end() && peek() == ':') {
      // `*:*` (Lucene's match-all) is '*'.
      if (w.is_star() && q_.substr(pos_, 2) == ":*" &&
          (pos_ + 2 >= q_.size() || is_ws(q_[pos_ + 2]) || q_[pos_ + 2] == ')' ||
           q_[pos_ + 2] == '^')) {
        pos_ += 2;
        Node n = leaf(UserQuery::Kind::kAll, nullptr, start);
        parse_boost(*n);
        return n;
      }
      if (w.bad_field_char != std::string::npos) {
        fail(w.bad_field_char,
             "a field name (letters, digits, '_', '-' and '.'; escape other characters with "
             "'\\')",
             "'" + std::string(1, q_[w.bad_field_char]) + "'");
      }
      ++pos_;  // ':'
      return parse_field_value(depth, w.text, start);
    }
    return word_leaf(w, field, start);
  }

  Node parse_field_value(size_t depth, const std::string& field, size_t start) {
    if (at_clause_end(pos_)) fail(pos_, "a value after '" + field + ":'");
    switch (peek()) {
      case '(':
        return parse_group(depth, &field, start);
      case '"':
        return parse_phrase(&field, start);
      case '/':
        return parse_regex(&field, start);
      case '[':
      case '{':
        return parse_range(&field, start);
      case '>':
      case '<':
        return parse_comparison(field, start);
      default:
        break;
    }
    if (q_.substr(pos_, 2) == "IN") {
      size_t p = pos_ + 2;
      while (p < q_.size() && is_ws(q_[p])) ++p;
      if (p < q_.size() && q_[p] == '[') {
        pos_ = p;
        return parse_set(field, start);
      }
    }
    Word w = scan_word(WordMode::kValue);
    if (w.empty()) fail(pos_, "a value after '" + field + ":'");
    return word_leaf(w, &field, start);
  }

  // A term, prefix, wildcard, fuzzy term, '*' (all) or field:* (exists), with its boost.
  Node word_leaf(const Word& w, const std::string* field, size_t start) {
    Node n;
    if (w.is_star()) {
      n = leaf(field ? UserQuery::Kind::kExists : UserQuery::Kind::kAll, field, start);
    } else if (w.wildcards == 0) {
      n = leaf(UserQuery::Kind::kTerm, field, start);
      n->text = w.text;
    } else if (w.wildcards == 1 && w.trailing_star) {
      n = leaf(UserQuery::Kind::kPrefix, field, start);
      n->text = w.text.substr(0, w.text.size() - 1);
    } else {
      n = leaf(UserQuery::Kind::kWildcard, field, start);
      n->text = w.pattern;
    }
    if (!at_end() && peek() == '~') {
      if (n->kind != UserQuery::Kind::kTerm) {
        fail(pos_, "whitespace, ')' or end of query ('~' fuzzy matching applies to plain terms only)");
      }
      ++pos_;
      n->kind = UserQuery::Kind::kFuzzy;
      n->distance = 1;
      const size_t digits = pos_;
      if (auto d = scan_uint()) {
        if (*d > 2) {
          fail(digits, "a fuzzy distance of 0, 1 or 2",
               "'" + std::string(q_.substr(digits, pos_ - digits)) + "'");
        }
        n->distance = static_cast<uint8_t>(*d);
      }
    }
    parse_boost(*n);
    return n;
  }

  Node parse_phrase(const std::string* field, size_t start) {
    Node n = leaf(UserQuery::Kind::kPhrase, field, start);
    n->text = scan_quoted("phrase");
    if (!at_end() && peek() == '~') {
      ++pos_;
      const size_t digits = pos_;
      auto slop = scan_uint();
      if (!slop) fail(pos_, "a number (the phrase slop) after '~'");
      if (*slop > std::numeric_limits<uint32_t>::max()) {
        fail(digits, "a phrase slop of at most 4294967295",
             "'" + std::string(q_.substr(digits, pos_ - digits)) + "'");
      }
      n->slop = static_cast<uint32_t>(*slop);
    } else if (!at_end() && peek() == '*') {
      ++pos_;
      n->prefix_phrase = true;
    }
    parse_boost(*n);
    return n;
  }

  Node parse_regex(const std::string* field, size_t start) {
    Node n = leaf(UserQuery::Kind::kRegex, field, start);
    const size_t open = pos_++;
    while (true) {
      if (at_end()) fail(pos_, "'/' closing the regex opened at position " + std::to_string(open));
      char c = peek();
      if (c == '\\') {
        if (pos_ + 1 >= q_.size()) fail(pos_ + 1, "a character after '\\'");
        char e = q_[pos_ + 1];
        if (e != '/') n->text += '\\';
        n->text += e;
        pos_ += 2;
      } else if (c == '/') {
        ++pos_;
        break;
      } else {
        n->text += c;
        ++pos_;
      }
    }
    parse_boost(*n);
    return n;
  }

  // A range bound or set element: a quoted string or a bare word; '*' alone is unbounded.
  UserBound parse_bound(const std::string& what) {
    UserBound b;
    if (at_end()) fail(pos_, what);
    if (peek() == '"') {
      b.value = scan_quoted(what.c_str());
      return b;
    }
    Word w = scan_word(WordMode::kBound);
    if (w.empty()) fail(pos_, what);
    if (w.is_star()) {
      b.unbounded = true;
    } else {
      b.value = w.text;
    }
    return b;
  }

  Node parse_range(const std::string* field, size_t start) {
    Node n = leaf(UserQuery::Kind::kRange, field, start);
    const size_t open = pos_;
    const bool lower_inclusive = peek() == '[';
    ++pos_;
    skip_ws();
    n->lower = parse_bound("the lower bound of the range");
    n->lower.inclusive = lower_inclusive;
    if (!at_end() && !is_ws(peek())) fail(pos_, "whitespace and 'TO' after the lower bound");
    skip_ws();
    bool to = q_.substr(pos_, 2) == "TO" &&
              (pos_ + 2 >= q_.size() || is_ws(q_[pos_ + 2]) || q_[pos_ + 2] == ']' ||
               q_[pos_ + 2] == '}');
    if (!to) fail(pos_, "'TO' after the lower bound");
    pos_ += 2;
    skip_ws();
    n->upper = parse_bound("the upper bound of the range");
    skip_ws();
    const std::string closing =
        "']' or '}' closing the range opened at position " + std::to_string(open);
    if (at_end() || (peek() != ']' && peek() != '}')) fail(pos_, closing);
    n->upper.inclusive = peek() == ']';
    ++pos_;
    parse_boost(*n);
    return n;
  }

  // field:>v, field:>=v, field:<v, field:<=v.
  Node parse_comparison(const std::string& field, size_t start) {
    Node n = leaf(UserQuery::Kind::kRange, &field, start);
    const bool greater = peek() == '>';
    ++pos_;
    bool or_equal = false;
    if (!at_end() && peek() == '=') {
      or_equal = true;
      ++pos_;
    }
    const std::string op = std::string(greater ? ">" : "<") + (or_equal ? "=" : "");
    const std::string what = "a value after '" + op + "'";
    if (at_clause_end(pos_)) fail(pos_, what);
    UserBound value;
    if (peek() == '"') {
      value.value = scan_quoted(("value after '" + op + "'").c_str());
    } else {
      Word w = scan_word(WordMode::kValue);
      if (w.empty()) fail(pos_, what);
      if (w.is_star()) fail(w.start, what + " ('*' is an open end only inside [a TO b])", "'*'");
      value.value = w.text;
    }
    value.inclusive = or_equal;
    UserBound open_end;
    open_end.unbounded = true;
    open_end.inclusive = false;
    n->lower = greater ? value : open_end;
    n->upper = greater ? open_end : value;
    parse_boost(*n);
    return n;
  }

  // field:IN [a b c]; pos_ is at '['.
  Node parse_set(const std::string& field, size_t start) {
    Node n = leaf(UserQuery::Kind::kSet, &field, start);
    const size_t open = pos_++;
    const std::string closing = "']' closing the set opened at position " + std::to_string(open);
    while (true) {
      skip_ws();
      if (at_end()) fail(pos_, closing);
      if (peek() == ']') {
        ++pos_;
        break;
      }
      if (peek() == '"') {
        n->set.push_back(scan_quoted("set element"));
      } else {
        Word w = scan_word(WordMode::kBound);
        if (w.empty()) fail(pos_, "a set element or " + closing);
        n->set.push_back(w.text);
      }
      if (!at_end() && !is_ws(peek()) && peek() != ']') {
        fail(pos_, "whitespace or ']' after the set element");
      }
    }
    parse_boost(*n);
    return n;
  }

  // '^' number: multiplies the node's boost.
  void parse_boost(UserQuery& n) {
    if (at_end() || peek() != '^') return;
    ++pos_;
    const size_t b = pos_;
    while (!at_end() && is_digit(peek())) ++pos_;
    size_t int_digits = pos_ - b;
    size_t frac_digits = 0;
    if (!at_end() && peek() == '.') {
      ++pos_;
      const size_t f = pos_;
      while (!at_end() && is_digit(peek())) ++pos_;
      frac_digits = pos_ - f;
    }
    if (int_digits + frac_digits == 0) {
      pos_ = b;
      fail(b, "a number (the boost) after '^'");
    }
    std::string_view num = q_.substr(b, pos_ - b);
    if (num.back() == '.') num.remove_suffix(1);
    float v = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v, std::chars_format::fixed);
    float boost = n.boost * v;
    if (ec != std::errc() || ptr != num.data() + num.size() || !std::isfinite(boost)) {
      fail(b, "a boost between 0 and 3.4e38", "'" + std::string(q_.substr(b, pos_ - b)) + "'");
    }
    n.boost = boost;
  }

  std::string_view q_;
  ParserOptions opt_;
  size_t pos_ = 0;
};

}  // namespace

UserQueryPtr parse_query(std::string_view query, const ParserOptions& options) {
  return Parser(query, options).parse();
}

}  // namespace needle
