// Regex, wildcard and Levenshtein automata, all lazily-determinized byte-level DFAs.
//
// Regex and wildcard patterns are parsed into a small AST of code point classes, compiled into a
// byte-level Thompson NFA (each class becomes the UTF-8 byte-range sequences of its code points),
// and determinized on demand (subset construction, one DFA state per reached set of NFA states).
// The Levenshtein automaton computes its states (a row of the edit-distance table, clipped at
// distance + 1) on demand and decodes UTF-8 in its byte-level states.
#include "needle/termdict/automaton.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "needle/common/error.h"

namespace needle {

namespace {

constexpr uint32_t kUnknown = 0xfffffffe;
constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr size_t kMaxNfaStates = 250000;
constexpr size_t kMaxStoredSetSize = 4u << 20;  // NFA ids kept for all DFA states together
constexpr int kMaxNesting = 200;

// ---------------------------------------------------------------------------------------------
// UTF-8

// Decodes one code point at s[i]; returns false for invalid UTF-8 (overlong, surrogate, > 10FFFF).
bool decode_utf8(std::string_view s, size_t& i, uint32_t& cp) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  if (c < 0x80) {
    cp = c;
    ++i;
    return true;
  }
  size_t n;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
    min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
    min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
    min = 0x10000;
  } else {
    return false;
  }
  if (s.size() - i < n) return false;
  for (size_t k = 1; k < n; ++k) {
    uint8_t cc = b(i + k);
    if ((cc & 0xC0) != 0x80) return false;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
  i += n;
  return true;
}

size_t encode_utf8(uint32_t cp, uint8_t* out) {
  if (cp < 0x80) {
    out[0] = static_cast<uint8_t>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
    out[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
    out[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
  out[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
  return 4;
}

struct ByteRange {
  uint8_t lo, hi;
};
using ByteSeq = std::vector<ByteRange>;

// Appends the byte-range sequences that together match exactly the UTF-8 encodings of the code
// points lo..hi (surrogates excluded). Each sequence matches a product of byte ranges.
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<ByteSeq>& out) {
  if (lo > hi) return;
  if (lo <= 0xDFFF && hi >= 0xD800) {
    if (lo < 0xD800) utf8_sequences(lo, 0xD7FF, out);
    if (hi > 0xDFFF) utf8_sequences(0xE000, hi, out);
    return;
  }
  for (uint32_t m : {0x7Fu, 0x7FFu, 0xFFFFu}) {
    if (lo <= m && hi > m) {
      utf8_sequences(lo, m, out);
      utf8_sequences(m + 1, hi, out);
      return;
    }
  }
  uint8_t a[4], b[4];
  size_t n = encode_utf8(lo, a);
  for (size_t i = 1; i < n; ++i) {
    uint32_t m = (1u << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_sequences(lo, lo | m, out);
        utf8_sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_sequences(lo, (hi & ~m) - 1, out);
        utf8_sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  encode_utf8(hi, b);
  ByteSeq seq(n);
  for (size_t i = 0; i < n; ++i) seq[i] = {a[i], b[i]};
  out.push_back(std::move(seq));
}

// ---------------------------------------------------------------------------------------------
// Code point classes and the pattern AST

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

void normalize(Ranges& r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  for (auto [lo, hi] : r) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.push_back({lo, hi});
    }
  }
  r = std::move(out);
}

Ranges complement(Ranges r) {
  normalize(r);
  Ranges out;
  uint32_t next = 0;
  for (auto [lo, hi] : r) {
    if (lo > next) out.push_back({next, lo - 1});
    next = hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

struct Node;
using NodePtr = std::unique_ptr<Node>;
struct Node {
  enum Kind { kEmpty, kClass, kConcat, kAlt, kRepeat } kind = kEmpty;
  Ranges ranges;                // kClass
  std::vector<NodePtr> kids;    // kConcat, kAlt, kRepeat (one kid)
  uint32_t min = 0, max = 0;    // kRepeat; max == UINT32_MAX: unbounded
};
constexpr uint32_t kInf = UINT32_MAX;

NodePtr make_node(Node::Kind k) {
  auto n = std::make_unique<Node>();
  n->kind = k;
  return n;
}
NodePtr make_class(Ranges r) {
  auto n = make_node(Node::kClass);
  normalize(r);
  n->ranges = std::move(r);
  return n;
}
NodePtr make_repeat(NodePtr kid, uint32_t min, uint32_t max) {
  auto n = make_node(Node::kRepeat);
  n->kids.push_back(std::move(kid));
  n->min = min;
  n->max = max;
  return n;
}

Ranges any_char() { return {{0, kMaxCodePoint}}; }
Ranges any_but_newline() { return {{0, 9}, {11, kMaxCodePoint}}; }
Ranges digit_class() { return {{'0', '9'}}; }
Ranges word_class() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
Ranges space_class() { return {{'\t', '\r'}, {' ', ' '}}; }

// ---------------------------------------------------------------------------------------------
// Regex parser

class RegexParser {
 public:
  explicit RegexParser(std::string_view p) : p_(p) {}

  NodePtr parse() {
    NodePtr root = parse_alt();
    if (pos_ < p_.size()) fail(pos_, "unmatched ')'");
    return root;
  }

 private:
  [[noreturn]] void fail(size_t at, const std::string& what) const {
    throw_error(ErrorCode::kQueryParse,
                "regex '" + std::string(p_) + "': position " + std::to_string(at) + ": " + what);
  }
  bool at_end() const { return pos_ >= p_.size(); }
  char peek() const { return p_[pos_]; }

  NodePtr parse_alt() {
    std::vector<NodePtr> branches;
    branches.push_back(parse_concat());
    while (!at_end() && peek() == '|') {
      ++pos_;
      branches.push_back(parse_concat());
    }
    if (branches.size() == 1) return std::move(branches[0]);
    auto n = make_node(Node::kAlt);
    n->kids = std::move(branches);
    return n;
  }

  NodePtr parse_concat() {
    auto n = make_node(Node::kConcat);
    while (!at_end() && peek() != '|' && peek() != ')') n->kids.push_back(parse_repeat());
    if (n->kids.size() == 1) return std::move(n->kids[0]);
    if (n->kids.empty()) return make_node(Node::kEmpty);
    return n;
  }

  uint32_t parse_count(size_t brace) {
    size_t start = pos_;
    uint64_t v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      v = v * 10 + static_cast<uint64_t>(peek() - '0');
      if (v > kMaxRegexRepeat) {
        fail(start, "repetition count exceeds the limit of " + std::to_string(kMaxRegexRepeat));
      }
      ++pos_;
    }
    if (pos_ == start) {
      if (at_end()) fail(brace, "unclosed counted repetition");
      fail(pos_, "expected a decimal number in counted repetition");
    }
    return static_cast<uint32_t>(v);
  }

  NodePtr parse_repeat() {
    NodePtr atom = parse_atom();
    bool quantified = false;
    while (!at_end()) {
      char c = peek();
      if (c != '*' && c != '+' && c != '?' && c != '{') break;
      size_t qpos = pos_;
      if (quantified) fail(qpos, "nested repetition operator (use a group)");
      uint32_t min, max;
      if (c == '*') {
        min = 0, max = kInf;
        ++pos_;
      } else if (c == '+') {
        min = 1, max = kInf;
        ++pos_;
      } else if (c == '?') {
        min = 0, max = 1;
        ++pos_;
      } else {
        ++pos_;
        min = parse_count(qpos);
        max = min;
        if (!at_end() && peek() == ',') {
          ++pos_;
          if (!at_end() && peek() == '}') {
            max = kInf;
          } else {
            max = parse_count(qpos);
          }
        }
        if (at_end()) fail(qpos, "unclosed counted repetition");
        if (peek() != '}') fail(pos_, "expected '}' in counted repetition");
        ++pos_;
        if (max < min) fail(qpos, "invalid counted repetition: minimum above maximum");
      }
      if (!at_end() && peek() == '?') ++pos_;  // lazy: the same set of full matches
      atom = make_repeat(std::move(atom), min, max);
      quantified = true;
    }
    return atom;
  }

  // A code point or, for \d-style escapes, a class.
  struct Escape {
    bool is_class = false;
    uint32_t cp = 0;
    Ranges cls;
  };

  uint32_t parse_hex(size_t start, size_t digits_min, size_t digits_max, char close) {
    uint64_t v = 0;
    size_t n = 0;
    while (!at_end() && n < digits_max && std::isxdigit(static_cast<unsigned char>(peek()))) {
      char c = peek();
      v = v * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      ++pos_;
      ++n;
    }
    if (n < digits_min) fail(start, "invalid hexadecimal escape");
    if (close != 0) {
      if (at_end() || peek() != close) fail(start, "unclosed hexadecimal escape");
      ++pos_;
    }
    if (v > kMaxCodePoint || (v >= 0xD800 && v <= 0xDFFF)) {
      fail(start, "hexadecimal escape is not a Unicode scalar value");
    }
    return static_cast<uint32_t>(v);
  }

  Escape parse_escape() {
    size_t start = pos_;  // at the backslash
    ++pos_;
    if (at_end()) fail(start, "incomplete escape sequence (trailing backslash)");
    char e = peek();
    ++pos_;
    Escape r;
    switch (e) {
      case 'd': r.is_class = true; r.cls = digit_class(); return r;
      case 'D': r.is_class = true; r.cls = complement(digit_class()); return r;
      case 'w': r.is_class = true; r.cls = word_class(); return r;
      case 'W': r.is_class = true; r.cls = complement(word_class()); return r;
      case 's': r.is_class = true; r.cls = space_class(); return r;
      case 'S': r.is_class = true; r.cls = complement(space_class()); return r;
      case 't': r.cp = '\t'; return r;
      case 'n': r.cp = '\n'; return r;
      case 'r': r.cp = '\r'; return r;
      case 'f': r.cp = '\f'; return r;
      case 'v': r.cp = '\v'; return r;
      case 'a': r.cp = 7; return r;
      case '0': r.cp = 0; return r;
      case 'x':
      case 'u':
      case 'U':
        if (!at_end() && peek() == '{') {
          ++pos_;
          r.cp = parse_hex(start, 1, 8, '}');
        } else {
          size_t n = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
          r.cp = parse_hex(start, n, n, 0);
        }
        return r;
      case 'p':
      case 'P':
        fail(start, "Unicode property classes (\\p, \\P) are not supported");
      case 'b':
      case 'B':
      case 'A':
      case 'z':
      case '<':
      case '>':
        fail(start, "assertions are not supported (the whole term always has to match)");
      default:
        break;
    }
    if (e >= '1' && e <= '9') fail(start, "backreferences are not supported");
    if (static_cast<unsigned char>(e) < 0x80 && std::ispunct(static_cast<unsigned char>(e))) {
      r.cp = static_cast<uint8_t>(e);
      return r;
    }
    fail(start, "unrecognized escape sequence");
  }

  uint32_t parse_literal() {
    size_t start = pos_;
    uint32_t cp;
    if (!decode_utf8(p_, pos_, cp)) fail(start, "invalid UTF-8");
    return cp;
  }

  NodePtr parse_atom() {
    size_t start = pos_;
    char c = peek();
    switch (c) {
      case '(': {
        if (++depth_ > kMaxNesting) fail(start, "groups nested too deeply");
        ++pos_;
        if (!at_end() && peek() == '?') {
          if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
            pos_ += 2;
          } else {
            fail(pos_, "group flags and named groups are not supported (only (?:...))");
          }
        }
        NodePtr inner = parse_alt();
        if (at_end()) fail(start, "unclosed group");
        ++pos_;  // ')'
        --depth_;
        return inner;
      }
      case '*':
      case '+':
      case '?':
      case '{':
        fail(start, "repetition operator missing expression");
      case '[':
        return parse_class();
      case '.':
        ++pos_;
        return make_class(any_but_newline());
      case '\\': {
        Escape e = parse_escape();
        return e.is_class ? make_class(std::move(e.cls)) : make_class({{e.cp, e.cp}});
      }
      case '^':
        if (pos_ != 0) fail(start, "'^' is only supported at the start (matches are anchored)");
        ++pos_;
        return make_node(Node::kEmpty);
      case '$':
        if (pos_ + 1 != p_.size()) {
          fail(start, "'$' is only supported at the end (matches are anchored)");
        }
        ++pos_;
        return make_node(Node::kEmpty);
      default: {
        uint32_t cp = parse_literal();
        return make_class({{cp, cp}});
      }
    }
  }

  bool posix_class(std::string_view name, Ranges& out) {
    if (name == "alpha") out.insert(out.end(), {{'A', 'Z'}, {'a', 'z'}});
    else if (name == "digit") out.push_back({'0', '9'});
    else if (name == "alnum") out.insert(out.end(), {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}});
    else if (name == "upper") out.push_back({'A', 'Z'});
    else if (name == "lower") out.push_back({'a', 'z'});
    else if (name == "space") out.insert(out.end(), {{'\t', '\r'}, {' ', ' '}});
    else if (name == "blank") out.insert(out.end(), {{'\t', '\t'}, {' ', ' '}});
    else if (name == "punct") out.insert(out.end(), {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}});
    else if (name == "xdigit") out.insert(out.end(), {{'0', '9'}, {'A', 'F'}, {'a', 'f'}});
    else if (name == "word") out.insert(out.end(), {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}});
    else if (name == "cntrl") out.insert(out.end(), {{0, 0x1f}, {0x7f, 0x7f}});
    else if (name == "print") out.push_back({' ', '~'});
    else if (name == "graph") out.push_back({'!', '~'});
    else if (name == "ascii") out.push_back({0, 0x7f});
    else return false;
    return true;
  }

  // One class member that may start or end a range: a code point, or a class (is_class).
  Escape class_atom() {
    if (peek() == '\\') return parse_escape();
    Escape r;
    r.cp = parse_literal();
    return r;
  }

  NodePtr parse_class() {
    size_t open = pos_;
    ++pos_;  // '['
    bool negate = false;
    if (!at_end() && peek() == '^') {
      negate = true;
      ++pos_;
    }
    Ranges ranges;
    bool first = true;
    for (;;) {
      if (at_end()) fail(open, "unclosed character class");
      char c = peek();
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      if (c == '[') {
        if (pos_ + 1 < p_.size() && p_[pos_ + 1] == ':') {
          size_t end = p_.find(":]", pos_ + 2);
          if (end == std::string_view::npos) fail(pos_, "unclosed POSIX class");
          std::string_view name = p_.substr(pos_ + 2, end - pos_ - 2);
          bool neg = !name.empty() && name[0] == '^';
          if (neg) name.remove_prefix(1);
          Ranges pr;
          if (!posix_class(name, pr)) fail(pos_, "unknown POSIX class '" + std::string(name) + "'");
          if (neg) pr = complement(std::move(pr));
          ranges.insert(ranges.end(), pr.begin(), pr.end());
          pos_ = end + 2;
          continue;
        }
        fail(pos_, "nested character classes are not supported (escape '[' as \\[)");
      }
      size_t item = pos_;
      Escape lo = class_atom();
      if (!at_end() && peek() == '-' && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
        ++pos_;  // '-'
        if (lo.is_class) fail(item, "invalid range: a class cannot start a range");
        size_t hi_pos = pos_;
        if (peek() == '[') fail(hi_pos, "invalid range end");
        Escape hi = class_atom();
        if (hi.is_class) fail(hi_pos, "invalid range: a class cannot end a range");
        if (hi.cp < lo.cp) fail(item, "invalid range: start above end");
        ranges.push_back({lo.cp, hi.cp});
      } else if (lo.is_class) {
        ranges.insert(ranges.end(), lo.cls.begin(), lo.cls.end());
      } else {
        ranges.push_back({lo.cp, lo.cp});
      }
    }
    if (negate) ranges = complement(std::move(ranges));
    return make_class(std::move(ranges));
  }

  std::string_view p_;
  size_t pos_ = 0;
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// NFA

struct NState {
  enum Kind : uint8_t { kRange, kSplit, kMatch, kFail } kind;
  uint8_t lo = 0, hi = 0;
  uint32_t a = 0, b = 0;  // kRange: a = next; kSplit: a, b
};

class NfaBuilder {
 public:
  explicit NfaBuilder(std::string err_name) : err_name_(std::move(err_name)) {}
  std::vector<NState> states;

  uint32_t add(NState s) {
    if (states.size() >= kMaxNfaStates) {
      throw_error(ErrorCode::kResourceExhausted,
                  err_name_ + ": the pattern is too large (more than " +
                      std::to_string(kMaxNfaStates) + " automaton states)");
    }
    states.push_back(s);
    return static_cast<uint32_t>(states.size() - 1);
  }
  uint32_t split(uint32_t a, uint32_t b) { return add({NState::kSplit, 0, 0, a, b}); }

  // Returns the entry state of `n` followed by `next`.
  uint32_t compile(const Node& n, uint32_t next) {
    switch (n.kind) {
      case Node::kEmpty:
        return next;
      case Node::kClass:
        return compile_class(n.ranges, next);
      case Node::kConcat:
        for (size_t i = n.kids.size(); i-- > 0;) next = compile(*n.kids[i], next);
        return next;
      case Node::kAlt: {
        std::vector<uint32_t> entries;
        for (const auto& k : n.kids) entries.push_back(compile(*k, next));
        return join(entries);
      }
      case Node::kRepeat: {
        const Node& x = *n.kids[0];
        uint32_t cur = next;
        if (n.max == kInf) {
          uint32_t loop = split(0, next);
          uint32_t body = compile(x, loop);
          states[loop].a = body;
          cur = loop;
        } else {
          for (uint32_t i = n.min; i < n.max; ++i) {
            uint32_t body = compile(x, cur);
            cur = split(body, next);
          }
        }
        for (uint32_t i = 0; i < n.min; ++i) cur = compile(x, cur);
        return cur;
      }
    }
    return next;
  }

 private:
  uint32_t join(const std::vector<uint32_t>& entries) {
    if (entries.empty()) return add({NState::kFail});
    uint32_t e = entries.back();
    for (size_t i = entries.size() - 1; i-- > 0;) e = split(entries[i], e);
    return e;
  }

  uint32_t compile_class(const Ranges& ranges, uint32_t next) {
    std::vector<ByteSeq> seqs;
    for (auto [lo, hi] : ranges) utf8_sequences(lo, hi, seqs);
    // Sequences often share their tails ([80-BF] continuation bytes): share those states.
    std::map<std::tuple<uint8_t, uint8_t, uint32_t>, uint32_t> memo;
    std::vector<uint32_t> entries;
    for (const ByteSeq& seq : seqs) {
      uint32_t s = next;
      for (size_t i = seq.size(); i-- > 0;) {
        auto key = std::make_tuple(seq[i].lo, seq[i].hi, s);
        auto it = memo.find(key);
        if (it != memo.end() && i > 0) {
          s = it->second;
        } else {
          s = add({NState::kRange, seq[i].lo, seq[i].hi, s, 0});
          memo.emplace(key, s);
        }
      }
      entries.push_back(s);
    }
    return join(entries);
  }

  std::string err_name_;
};

// ---------------------------------------------------------------------------------------------
// Lazy DFA base: transitions by byte class, computed on first use.

class LazyDfa : public Automaton {
 public:
  State start() const override { return start_; }
  State step(State s, uint8_t byte) const override {
    if (s == kDead) return kDead;
    size_t i = static_cast<size_t>(s) * num_classes_ + classes_[byte];
    uint32_t t = trans_[i];
    if (t != kUnknown) return t;
    t = compute(s, byte);
    trans_[i] = t;
    return t;
  }
  bool is_match(State s) const override { return s != kDead && match_[s] != 0; }

 protected:
  virtual uint32_t compute(State s, uint8_t byte) const = 0;
  uint32_t new_state(bool match) const {
    if (match_.size() >= max_states_) {
      throw_error(ErrorCode::kResourceExhausted,
                  err_name_ + ": the automaton needs more than " + std::to_string(max_states_) +
                      " states; use a simpler pattern");
    }
    match_.push_back(match ? 1 : 0);
    trans_.resize(trans_.size() + num_classes_, kUnknown);
    return static_cast<uint32_t>(match_.size() - 1);
  }

  std::string err_name_;
  uint32_t max_states_ = kMaxDfaStates;
  uint8_t classes_[256] = {};
  uint32_t num_classes_ = 1;
  State start_ = kDead;
  mutable std::vector<uint32_t> trans_;
  mutable std::vector<uint8_t> match_;
};

struct VecHash {
  size_t operator()(const std::vector<uint32_t>& v) const {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ v.size();
    for (uint32_t x : v) h = (h ^ x) * 0x100000001B3ull + (h >> 29);
    return static_cast<size_t>(h);
  }
};

class NfaDfa final : public LazyDfa {
 public:
  NfaDfa(std::vector<NState> nfa, uint32_t entry, uint32_t match, std::string err_name)
      : nfa_(std::move(nfa)), match_state_(match) {
    err_name_ = std::move(err_name);
    // Byte classes: bytes that no range boundary separates behave the same.
    bool boundary[257] = {};
    for (const NState& s : nfa_) {
      if (s.kind == NState::kRange) {
        boundary[s.lo] = true;
        boundary[s.hi + 1] = true;
      }
    }
    uint32_t cls = 0;
    for (int b = 0; b < 256; ++b) {
      if (b > 0 && boundary[b]) ++cls;
      classes_[b] = static_cast<uint8_t>(cls);
    }
    num_classes_ = cls + 1;
    compute_useful();
    mark_.assign(nfa_.size(), 0);
    std::vector<uint32_t> set;
    closure(entry, set);
    std::sort(set.begin(), set.end());
    start_ = intern(std::move(set));
  }

 protected:
  uint32_t compute(State s, uint8_t byte) const override {
    scratch_.clear();
    ++gen_;
    for (uint32_t id : sets_[s]) {
      const NState& st = nfa_[id];
      if (st.kind == NState::kRange && byte >= st.lo && byte <= st.hi) closure(st.a, scratch_);
    }
    std::sort(scratch_.begin(), scratch_.end());
    return intern(scratch_);
  }

 private:
  // States that can reach the match state; the others are dropped from DFA sets.
  void compute_useful() {
    size_t n = nfa_.size();
    std::vector<uint32_t> deg(n + 1, 0);
    auto edges = [&](uint32_t i, auto&& fn) {
      const NState& s = nfa_[i];
      if (s.kind == NState::kRange) fn(s.a);
      if (s.kind == NState::kSplit) {
        fn(s.a);
        fn(s.b);
      }
    };
    for (uint32_t i = 0; i < n; ++i) edges(i, [&](uint32_t t) { ++deg[t + 1]; });
    for (size_t i = 0; i < n; ++i) deg[i + 1] += deg[i];
    std::vector<uint32_t> rev(deg[n]);
    std::vector<uint32_t> fill(deg.begin(), deg.end() - 1);
    for (uint32_t i = 0; i < n; ++i) edges(i, [&](uint32_t t) { rev[fill[t]++] = i; });
    useful_.assign(n, 0);
    std::vector<uint32_t> stack{match_state_};
    useful_[match_state_] = 1;
    while (!stack.empty()) {
      uint32_t t = stack.back();
      stack.pop_back();
      for (uint32_t k = deg[t]; k < deg[t + 1]; ++k) {
        uint32_t p = rev[k];
        if (!useful_[p]) {
          useful_[p] = 1;
          stack.push_back(p);
        }
      }
    }
  }

  // Adds the range and match states reachable from `from` by splits to `out` (mark_ dedupes).
  void closure(uint32_t from, std::vector<uint32_t>& out) const {
    stack_.clear();
    stack_.push_back(from);
    while (!stack_.empty()) {
      uint32_t id = stack_.back();
      stack_.pop_back();
      if (mark_[id] == gen_ || !useful_[id]) continue;
      mark_[id] = gen_;
      const NState& s = nfa_[id];
      if (s.kind == NState::kSplit) {
        stack_.push_back(s.b);
        stack_.push_back(s.a);
      } else if (s.kind == NState::kRange || s.kind == NState::kMatch) {
        out.push_back(id);
      }
    }
  }

  uint32_t intern(const std::vector<uint32_t>& set) const {
    if (set.empty()) return kDead;
    auto it = ids_.find(set);
    if (it != ids_.end()) return it->second;
    if (stored_ + set.size() > kMaxStoredSetSize) {
      throw_error(ErrorCode::kResourceExhausted,
                  err_name_ + ": the automaton is too large; use a simpler pattern");
    }
    bool match = std::binary_search(set.begin(), set.end(), match_state_);
    uint32_t id = new_state(match);
    sets_.push_back(set);
    stored_ += set.size();
    ids_.emplace(set, id);
    return id;
  }

  std::vector<NState> nfa_;
  uint32_t match_state_;
  std::vector<uint8_t> useful_;
  mutable std::vector<uint32_t> mark_;
  mutable uint32_t gen_ = 1;
  mutable std::vector<uint32_t> stack_;
  mutable std::vector<uint32_t> scratch_;
  mutable std::vector<std::vector<uint32_t>> sets_;
  mutable std::unordered_map<std::vector<uint32_t>, uint32_t, VecHash> ids_;
  mutable size_t stored_ = 0;
};

std::shared_ptr<const Automaton> build_nfa_dfa(const Node& root, std::string err_name) {
  NfaBuilder b(err_name);
  uint32_t match = b.add({NState::kMatch});
  uint32_t entry = b.compile(root, match);
  return std::make_shared<NfaDfa>(std::move(b.states), entry, match, std::move(err_name));
}

// ---------------------------------------------------------------------------------------------
// Levenshtein

class LevenshteinDfa final : public LazyDfa {
 public:
  LevenshteinDfa(std::vector<uint32_t> term, uint8_t distance, bool transpositions, bool prefix,
                 std::string err_name)
      : term_(std::move(term)), d_(distance), trans_pos_(transpositions), prefix_(prefix) {
    err_name_ = std::move(err_name);
    max_states_ = kMaxLevenshteinDfaStates;
    // Distinct term characters get classes 0..k-1; any other character is class k.
    uniq_ = term_;
    std::sort(uniq_.begin(), uniq_.end());
    uniq_.erase(std::unique(uniq_.begin(), uniq_.end()), uniq_.end());
    build_trie();
    build_byte_classes();
    size_t n = term_.size();
    std::string row(width(), static_cast<char>(d_ + 1));
    for (size_t i = 0; i <= n; ++i) row[i] = static_cast<char>(std::min<size_t>(i, d_ + 1u));
    uint32_t lev = intern_lev(row);
    start_ = byte_state(lev, 0);
  }

 protected:
  uint32_t compute(State s, uint8_t b) const override {
    auto [lev, sub] = byte_states_[s];
    if (lev == kSink) return s;
    bool cont = (b & 0xC0) == 0x80;
    if (sub == 0) {  // at a character boundary
      if (b < 0x80) return char_step(lev, trie_child(0, b));
      if (cont || b < 0xC2 || b > 0xF4) return kDead;
      int32_t node = trie_child(0, b);
      if (node >= 0) return byte_state(lev, static_cast<uint32_t>(node) + 1);
      uint32_t remaining = b < 0xE0 ? 1 : (b < 0xF0 ? 2 : 3);
      return byte_state(lev, other_sub(remaining));
    }
    if (!cont) return kDead;
    if (sub <= trie_.size()) {  // inside a prefix of a term character
      uint32_t node = sub - 1;
      int32_t child = trie_child(node, b);
      if (child < -1) return char_step(lev, child);
      if (child >= 0) return byte_state(lev, static_cast<uint32_t>(child) + 1);
      uint32_t remaining = trie_[node].remaining - 1;
      if (remaining == 0) return char_step(lev, -1);
      return byte_state(lev, other_sub(remaining));
    }
    uint32_t remaining = sub - static_cast<uint32_t>(trie_.size());  // inside another character
    if (remaining == 1) return char_step(lev, -1);
    return byte_state(lev, other_sub(remaining - 1));
  }

 private:
  static constexpr uint32_t kSink = 0xffffffff;  // prefix mode: everything from here matches

  struct TrieNode {
    uint32_t remaining;                              // continuation bytes still to come
    std::vector<std::pair<uint8_t, int32_t>> kids;   // >= 0: node; <= -2: character class -2-c
  };

  size_t width() const { return (term_.size() + 1) * (trans_pos_ ? 2 : 1); }
  uint32_t other_sub(uint32_t remaining) const {
    return static_cast<uint32_t>(trie_.size()) + remaining;
  }

  // -1: no such child; >= 0: a node; <= -2: a complete character of class (-2 - value).
  int32_t trie_child(uint32_t node, uint8_t b) const {
    for (auto [byte, v] : trie_[node].kids) {
      if (byte == b) return v;
    }
    return -1;
  }

  void build_trie() {
    trie_.push_back({0, {}});
    for (uint32_t c = 0; c < uniq_.size(); ++c) {
      uint8_t buf[4];
      size_t n = encode_utf8(uniq_[c], buf);
      uint32_t node = 0;
      for (size_t i = 0; i < n; ++i) {
        if (i + 1 == n) {
          trie_[node].kids.push_back({buf[i], -2 - static_cast<int32_t>(c)});
          break;
        }
        int32_t child = trie_child(node, buf[i]);
        if (child < 0) {
          trie_.push_back({static_cast<uint32_t>(n - 1 - i), {}});
          child = static_cast<int32_t>(trie_.size() - 1);
          trie_[node].kids.push_back({buf[i], child});
        }
        node = static_cast<uint32_t>(child);
      }
    }
  }

  // A byte in the term's encoding is a class of its own; the other bytes fall into classes by
  // their UTF-8 role.
  void build_byte_classes() {
    bool in_term[256] = {};
    for (uint32_t cp : uniq_) {
      uint8_t buf[4];
      size_t n = encode_utf8(cp, buf);
      for (size_t i = 0; i < n; ++i) in_term[buf[i]] = true;
    }
    uint32_t next = 6;
    for (int b = 0; b < 256; ++b) {
      if (in_term[b]) {
        classes_[b] = static_cast<uint8_t>(next++);
      } else if (b < 0x80) {
        classes_[b] = 0;
      } else if (b < 0xC0) {
        classes_[b] = 1;
      } else if (b < 0xC2 || b > 0xF4) {
        classes_[b] = 2;
      } else if (b < 0xE0) {
        classes_[b] = 3;
      } else if (b < 0xF0) {
        classes_[b] = 4;
      } else {
        classes_[b] = 5;
      }
    }
    num_classes_ = next;
  }

  // `v`: a trie_child() value: <= -2 names a term character, -1 any other character.
  uint32_t char_step(uint32_t lev, int32_t v) const {
    uint32_t ch = v <= -2 ? uniq_[static_cast<uint32_t>(-2 - v)] : 0xffffffff;
    const std::string& st = lev_states_[lev];
    size_t n = term_.size();
    uint8_t cap = static_cast<uint8_t>(d_ + 1);
    next_.assign(width(), static_cast<char>(cap));
    auto R = [&](size_t i) { return static_cast<uint8_t>(st[i]); };
    auto T = [&](size_t i) { return static_cast<uint8_t>(st[n + 1 + i]); };
    uint8_t best = cap;
    uint8_t prev = static_cast<uint8_t>(std::min<int>(R(0) + 1, cap));
    next_[0] = static_cast<char>(prev);
    best = std::min(best, prev);
    for (size_t i = 1; i <= n; ++i) {
      int v2 = R(i - 1) + (term_[i - 1] == ch ? 0 : 1);
      v2 = std::min(v2, R(i) + 1);
      v2 = std::min(v2, prev + 1);
      if (trans_pos_ && i >= 2 && term_[i - 2] == ch) v2 = std::min<int>(v2, T(i));
      prev = static_cast<uint8_t>(std::min<int>(v2, cap));
      next_[i] = static_cast<char>(prev);
      best = std::min(best, prev);
    }
    if (best > d_) return kDead;
    if (trans_pos_) {
      for (size_t i = 2; i <= n; ++i) {
        if (term_[i - 1] == ch) next_[n + 1 + i] = static_cast<char>(std::min<int>(R(i - 2) + 1, cap));
      }
    }
    if (prefix_ && static_cast<uint8_t>(next_[n]) <= d_) return byte_state(kSink, 0);
    return byte_state(intern_lev(next_), 0);
  }

  uint32_t intern_lev(const std::string& row) const {
    if (prefix_ && static_cast<uint8_t>(row[term_.size()]) <= d_) return kSink;
    auto it = lev_ids_.find(row);
    if (it != lev_ids_.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(lev_states_.size());
    lev_states_.push_back(row);
    lev_match_.push_back(static_cast<uint8_t>(row[term_.size()]) <= d_);
    lev_ids_.emplace(row, id);
    return id;
  }

  uint32_t byte_state(uint32_t lev, uint32_t sub) const {
    uint64_t key = (static_cast<uint64_t>(lev) << 32) | sub;
    auto it = byte_ids_.find(key);
    if (it != byte_ids_.end()) return it->second;
    bool match = lev == kSink || (sub == 0 && !prefix_ && lev_match_[lev]);
    uint32_t id = new_state(match);
    byte_states_.push_back({lev, sub});
    byte_ids_.emplace(key, id);
    return id;
  }

  std::vector<uint32_t> term_;
  uint8_t d_;
  bool trans_pos_;
  bool prefix_;
  std::vector<uint32_t> uniq_;
  std::vector<TrieNode> trie_;
  mutable std::string next_;
  mutable std::vector<std::string> lev_states_;
  mutable std::vector<uint8_t> lev_match_;
  mutable std::unordered_map<std::string, uint32_t> lev_ids_;
  mutable std::vector<std::pair<uint32_t, uint32_t>> byte_states_;
  mutable std::unordered_map<uint64_t, uint32_t> byte_ids_;
};

}  // namespace

std::shared_ptr<const Automaton> make_regex_automaton(std::string_view pattern) {
  RegexParser parser(pattern);
  NodePtr root = parser.parse();
  return build_nfa_dfa(*root, "regex '" + std::string(pattern) + "'");
}

std::shared_ptr<const Automaton> make_wildcard_automaton(std::string_view pattern) {
  std::string name = "wildcard '" + std::string(pattern) + "'";
  auto fail = [&](size_t at, const std::string& what) {
    throw_error(ErrorCode::kQueryParse, name + ": position " + std::to_string(at) + ": " + what);
  };
  auto root = make_node(Node::kConcat);
  size_t i = 0;
  while (i < pattern.size()) {
    size_t start = i;
    char c = pattern[i];
    if (c == '*') {
      ++i;
      if (!root->kids.empty() && root->kids.back()->kind == Node::kRepeat) continue;
      root->kids.push_back(make_repeat(make_class(any_char()), 0, kInf));
      continue;
    }
    if (c == '?') {
      ++i;
      root->kids.push_back(make_class(any_char()));
      continue;
    }
    if (c == '\\') {
      ++i;
      if (i >= pattern.size()) fail(start, "incomplete escape sequence (trailing backslash)");
    }
    size_t at = i;
    uint32_t cp;
    if (!decode_utf8(pattern, i, cp)) fail(at, "invalid UTF-8");
    root->kids.push_back(make_class({{cp, cp}}));
  }
  return build_nfa_dfa(*root, name);
}

std::shared_ptr<const Automaton> make_levenshtein_automaton(std::string_view term,
                                                            uint8_t distance,
                                                            bool transpositions, bool prefix) {
  std::string name = "fuzzy term '" + std::string(term) + "'";
  if (distance > 2) {
    throw_error(ErrorCode::kQueryParse, name + ": distance " + std::to_string(distance) +
                                            " is above the maximum of 2");
  }
  std::vector<uint32_t> cps;
  size_t i = 0;
  while (i < term.size()) {
    size_t at = i;
    uint32_t cp;
    if (!decode_utf8(term, i, cp)) {
      throw_error(ErrorCode::kQueryParse,
                  name + ": position " + std::to_string(at) + ": invalid UTF-8");
    }
    cps.push_back(cp);
  }
  return std::make_shared<LevenshteinDfa>(std::move(cps), distance, transpositions, prefix,
                                          std::move(name));
}

}  // namespace needle
