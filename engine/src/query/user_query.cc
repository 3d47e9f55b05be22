// to_debug_string: the canonical, re-parsable text form of a UserQuery (format in user_query.h).
#include "needle/query/user_query.h"

#include <charconv>
#include <string_view>

namespace needle {

namespace {

bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool is_field_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || static_cast<uint8_t>(c) >= 0x80;
}

// Characters that end or start syntax anywhere in a term.
bool always_special(char c) {
  return is_ws(c) || std::string_view("()\"^~[]{}\\").find(c) != std::string_view::npos;
}

bool needs_escape(char c, size_t i, bool has_field) {
  if (always_special(c)) return true;
  if (c == ':' && !has_field) return true;
  if (i == 0) {
    if (c == '/') return true;
    if (!has_field && (c == '+' || c == '-')) return true;
    if (has_field && (c == '<' || c == '>')) return true;
  }
  return false;
}

// Escapes `text` so that it reads back as one word. `keep_wildcards`: text is a wildcard pattern
// whose '*' and '?' are operators and whose '\x' pairs are already escapes.
void append_word(std::string& out, const std::string& text, bool has_field, bool keep_wildcards) {
  if (!keep_wildcards) {
    bool keyword = has_field ? text == "IN" : (text == "AND" || text == "OR" || text == "NOT");
    if (keyword) out += '\\';
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (keep_wildcards) {
      if (c == '\\') {
        out += '\\';
        out += i + 1 < text.size() ? text[++i] : '\\';
        continue;
      }
      if (c == '*' || c == '?') {
        out += c;
        continue;
      }
    } else if (c == '*' || c == '?') {
      out += '\\';
      out += c;
      continue;
    }
    if (needs_escape(c, i, has_field)) out += '\\';
    out += c;
  }
}

void append_field(std::string& out, const std::optional<std::string>& field) {
  if (!field) return;
  const std::string& f = *field;
  for (size_t i = 0; i < f.size(); ++i) {
    char c = f[i];
    if (!is_field_char(c) || (i == 0 && (c == '-' || c == '+'))) out += '\\';
    out += c;
  }
  out += ':';
}

void append_bound_text(std::string& out, const std::string& v) {
  if (v.empty()) {
    out += "\"\"";
    return;
  }
  if (v == "*") {
    out += "\\*";
    return;
  }
  for (char c : v) {
    if (is_ws(c) || std::string_view("()\"[]{}\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
}

void append_bound(std::string& out, const UserBound& b) {
  if (b.unbounded) {
    out += '*';
  } else {
    append_bound_text(out, b.value);
  }
}

void append_boost(std::string& out, float boost) {
  if (boost == 1.0f) return;
  char buf[128];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), boost, std::chars_format::fixed);
  out += '^';
  if (ec == std::errc()) {
    out.append(buf, ptr);
  } else {
    out += "?";
  }
}

void append(std::string& out, const UserQuery& q) {
  using K = UserQuery::Kind;
  const bool has_field = q.field.has_value();
  switch (q.kind) {
    case K::kTerm:
      append_field(out, q.field);
      append_word(out, q.text, has_field, false);
      break;
    case K::kPrefix:
      append_field(out, q.field);
      append_word(out, q.text, has_field, false);
      out += '*';
      break;
    case K::kWildcard:
      append_field(out, q.field);
      append_word(out, q.text, has_field, true);
      break;
    case K::kFuzzy:
      append_field(out, q.field);
      append_word(out, q.text, has_field, false);
      out += '~';
      out += std::to_string(q.distance);
      break;
    case K::kPhrase:
      append_field(out, q.field);
      out += '"';
      for (char c : q.text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      if (q.slop > 0) {
        out += '~';
        out += std::to_string(q.slop);
      }
      if (q.prefix_phrase) out += '*';
      break;
    case K::kRegex:
      append_field(out, q.field);
      out += '/';
      for (char c : q.text) {
        if (c == '/') out += '\\';
        out += c;
      }
      out += '/';
      break;
    case K::kRange:
      append_field(out, q.field);
      out += q.lower.inclusive ? '[' : '{';
      append_bound(out, q.lower);
      out += " TO ";
      append_bound(out, q.upper);
      out += q.upper.inclusive ? ']' : '}';
      break;
    case K::kSet:
      append_field(out, q.field);
      out += "IN [";
      for (size_t i = 0; i < q.set.size(); ++i) {
        if (i > 0) out += ' ';
        append_bound_text(out, q.set[i]);
      }
      out += ']';
      break;
    case K::kExists:
      append_field(out, q.field);
      out += '*';
      break;
    case K::kAll:
      out += '*';
      break;
    case K::kBoolean:
      out += '(';
      for (size_t i = 0; i < q.clauses.size(); ++i) {
        if (i > 0) out += ' ';
        const auto& [occur, clause] = q.clauses[i];
        if (occur == Occur::kMust) out += '+';
        if (occur == Occur::kMustNot) out += '-';
        if (clause) {
          append(out, *clause);
        } else {
          out += "<null>";
        }
      }
      out += ')';
      break;
    case K::kEmpty:
      out += "<empty>";
      break;
  }
  append_boost(out, q.boost);
}

}  // namespace

std::string to_debug_string(const UserQuery& q) {
  std::string out;
  append(out, q);
  return out;
}

}  // namespace needle
