#include <algorithm>
#include <cmath>

#include "needle/common/error.h"
#include "needle/query/parser.h"
#include "needle/schema/json.h"
#include "needle/schema/value.h"
#include "needle/search/query.h"

namespace needle {

QueryPtr Query::make_term(uint16_t field, std::string term) {
  auto q = std::make_shared<Query>();
  q->kind = Kind::kTerm;
  q->field = field;
  q->term = std::move(term);
  return q;
}
QueryPtr Query::make_all() {
  auto q = std::make_shared<Query>();
  q->kind = Kind::kAll;
  return q;
}
QueryPtr Query::make_empty() { return std::make_shared<Query>(); }
QueryPtr Query::make_exists(uint16_t field) {
  auto q = std::make_shared<Query>();
  q->kind = Kind::kExists;
  q->field = field;
  return q;
}
QueryPtr Query::make_boolean(std::vector<std::pair<Occur, QueryPtr>> clauses) {
  auto q = std::make_shared<Query>();
  q->kind = Kind::kBoolean;
  q->clauses = std::move(clauses);
  return q;
}
QueryPtr Query::make_boost(QueryPtr inner, float boost) {
  auto q = std::make_shared<Query>();
  q->kind = Kind::kBoost;
  q->inner = std::move(inner);
  q->boost = boost;
  return q;
}
QueryPtr Query::make_range(uint16_t field, std::optional<TermBound> lower, std::optional<TermBound> upper) {
  auto q = std::make_shared<Query>();
  q->kind = Kind::kMultiTerm;
  q->multi = Multi::kRange;
  q->field = field;
  q->lower = std::move(lower);
  q->upper = std::move(upper);
  return q;
}
QueryPtr Query::make_set(uint16_t field, std::vector<std::string> terms) {
  auto q = std::make_shared<Query>();
  q->kind = Kind::kMultiTerm;
  q->multi = Multi::kSet;
  q->field = field;
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  q->set = std::move(terms);
  return q;
}

namespace {

std::string show_term(const Schema& schema, uint16_t field, const std::string& term) {
  std::string out;
  const auto& f = schema.field(field);
  if (f.type == FieldType::kText || f.type == FieldType::kString) return term;
  if (f.type == FieldType::kJson) return json_term_to_string(term);
  append_value_json(out, decode_term_value(f.type, term));
  return out;
}

// A field named in a query: a schema field, and for json fields the path inside it ("" = root).
struct FieldRef {
  const FieldEntry* field = nullptr;
  std::string path;
};

// Resolves `name`: a schema field of that exact name, else the longest json field whose name
// followed by '.' starts `name` (the rest is the path). Returns an error message on failure.
std::string resolve_field(const Schema& schema, const std::string& name, FieldRef& out) {
  if (const FieldEntry* f = schema.find(name)) {
    out = FieldRef{f, ""};
    return "";
  }
  const FieldEntry* best = nullptr;
  for (const auto& e : schema.fields()) {
    if (name.size() > e.name.size() + 1 && name.compare(0, e.name.size(), e.name) == 0 && name[e.name.size()] == '.' &&
        (best == nullptr || e.name.size() > best->name.size())) {
      best = &e;
    }
  }
  if (best != nullptr && best->type != FieldType::kJson) {
    return "unknown field '" + name + "' (field '" + best->name + "' is " + std::string(field_type_name(best->type)) +
           ", not json, so it has no paths)";
  }
  if (best == nullptr) {
    std::string known;
    for (const auto& e : schema.fields()) known += (known.empty() ? "" : ", ") + e.name;
    return "unknown field '" + name + "' (fields: " + known + ")";
  }
  std::string path = name.substr(best->name.size() + 1);
  if (path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos) {
    return "field '" + best->name + "': path '" + path + "' has an empty segment";
  }
  if (path.size() > kMaxJsonPathBytes) {
    return "field '" + best->name + "': path is longer than " + std::to_string(kMaxJsonPathBytes) + " bytes";
  }
  out = FieldRef{best, std::move(path)};
  return "";
}

// The number bounds of a json range, as the parts of the i64 and of the f64 encoding they cover.
struct JsonNumBound {
  bool unbounded = true;
  bool inclusive = true;
  JsonNumber n;
};

// Exact comparison of a double that was converted from `v` with `v`: -1, 0, 1.
int compare_rounded(double x, int64_t v) {
  if (x >= 9223372036854775808.0) return 1;
  if (x < -9223372036854775808.0) return -1;
  auto xi = static_cast<int64_t>(x);
  return xi < v ? -1 : xi > v ? 1 : 0;
}

struct Builder {
  const Schema& schema;
  const AnalyzerRegistry& analyzers;
  const QueryOptions& options;
  std::vector<FieldRef> default_fields;
  std::vector<Token> tokens;

  [[noreturn]] void fail(const UserQuery& q, const std::string& msg) {
    throw_error(ErrorCode::kQuery, "position " + std::to_string(q.position) + ": " + msg);
  }

  FieldRef field_named(const UserQuery& q, const std::string& name) {
    FieldRef ref;
    std::string err = resolve_field(schema, name, ref);
    if (!err.empty()) fail(q, err);
    return ref;
  }

  void analyze(const FieldEntry& f, std::string_view text) {
    analyzers.get(f.options.tokenizer)->analyze(text, tokens);
  }

  // The text as the field's analyzer would case it: lower-cased when the analyzer lower-cases.
  std::string normalize(const FieldEntry& f, std::string_view text) {
    if (!is_analyzed(f.type)) return std::string(text);
    std::vector<Token> probe;
    analyzers.get(f.options.tokenizer)->analyze("A", probe);
    if (probe.size() == 1 && probe[0].text == "a") {
      analyzers.get("lowercase")->analyze(text, probe);
      return probe.empty() ? std::string() : probe[0].text;
    }
    return std::string(text);
  }

  QueryPtr multi(const FieldEntry& f, Query::Multi kind, std::string text, const std::string& prefix = "") {
    auto q = std::make_shared<Query>();
    q->kind = Query::Kind::kMultiTerm;
    q->multi = kind;
    q->field = f.id;
    q->term = std::move(text);
    q->prefix = prefix;
    return q;
  }

  // A value of a non-text field from query text.
  std::string typed_term(const UserQuery& q, const FieldEntry& f, const std::string& text) {
    try {
      return encode_term_value(f.type, parse_value_text(f.type, text, f.name));
    } catch (const Error& e) {
      fail(q, e.what());
    }
  }

  bool parses_as(const FieldEntry& f, const std::string& text) {
    try {
      parse_value_text(f.type, text, f.name);
      return true;
    } catch (const Error&) {
      return false;
    }
  }

  // `prefix` goes before every token (json: `path 0x00 s`).
  QueryPtr text_terms(const UserQuery& q, const FieldEntry& f, std::string_view text, uint32_t slop, bool as_phrase,
                      bool implicit, const std::string& prefix = "") {
    analyze(f, text);
    for (auto& t : tokens) t.text.insert(0, prefix);
    if (tokens.empty()) return Query::make_empty();
    if (tokens.size() == 1) return Query::make_term(f.id, tokens[0].text);
    if (f.options.record != IndexRecordOption::kPosition) {
      if (as_phrase) {
        if (implicit) return nullptr;  // a default field that cannot answer phrases is skipped
        fail(q, "field '" + f.name + "' has no positions, so it cannot answer the phrase \"" + std::string(text) +
                    "\"; index it with \"record\":\"position\"");
      }
      std::vector<std::pair<Occur, QueryPtr>> must;
      for (const auto& t : tokens) must.emplace_back(Occur::kMust, Query::make_term(f.id, t.text));
      return Query::make_boolean(std::move(must));
    }
    auto p = std::make_shared<Query>();
    p->kind = Query::Kind::kPhrase;
    p->field = f.id;
    p->slop = slop;
    uint32_t first = tokens[0].position;
    for (const auto& t : tokens) p->phrase.emplace_back(t.position - first, t.text);
    return p;
  }

  // A fuzzy clause: one Levenshtein multi-term per word, all of which must match. On analyzed
  // fields (text, json string leaves) the words are the tokens the analyzer makes of the text,
  // elsewhere (string) the text itself. `prefix` goes before every term (json: `path 0x00 s`);
  // the automaton matches what follows it.
  QueryPtr fuzzy(const UserQuery& q, const FieldEntry& f, const std::string& prefix = "") {
    std::vector<std::string> words;
    if (is_analyzed(f.type)) {
      analyze(f, q.text);
      for (const auto& t : tokens) words.push_back(t.text);
    } else {
      words.push_back(q.text);
    }
    std::vector<std::pair<Occur, QueryPtr>> parts;
    for (auto& w : words) {
      auto m = std::const_pointer_cast<Query>(multi(f, Query::Multi::kFuzzy, w, prefix));
      m->distance = q.distance;
      m->transpositions = true;
      // Built here once so that a bad clause fails before any search starts.
      make_levenshtein_automaton(m->term, m->distance, m->transpositions, m->fuzzy_prefix);
      parts.emplace_back(Occur::kMust, m);
    }
    if (parts.empty()) return Query::make_empty();
    if (parts.size() == 1) return parts[0].second;
    return Query::make_boolean(std::move(parts));
  }

  // One leaf on one field; nullptr when `implicit` (a default field) and the leaf does not apply.
  QueryPtr leaf(const UserQuery& q, const FieldRef& ref, bool implicit) {
    if (ref.field->type == FieldType::kJson) return json_leaf(q, *ref.field, ref.path, implicit);
    const FieldEntry& f = *ref.field;
    using K = UserQuery::Kind;
    const bool textual = f.type == FieldType::kText || f.type == FieldType::kString;
    if (q.kind == K::kExists) return Query::make_exists(f.id);
    if (!f.options.indexed) {
      if (implicit) return nullptr;
      fail(q, "field '" + f.name + "' is not indexed, so it cannot be searched");
    }
    switch (q.kind) {
      case K::kTerm:
      case K::kPhrase: {
        bool phrase = q.kind == K::kPhrase;
        if (f.type == FieldType::kText) {
          if (phrase && q.prefix_phrase) return phrase_prefix(q, f, implicit);
          return text_terms(q, f, q.text, q.slop, phrase, implicit);
        }
        if (f.type == FieldType::kString) return Query::make_term(f.id, q.text);
        if (f.type == FieldType::kIp && q.text.find('/') != std::string::npos) {
          auto cidr = parse_cidr(q.text);
          if (!cidr) {
            if (implicit) return nullptr;
            fail(q, "field '" + f.name + "': '" + q.text + "' is not a CIDR block");
          }
          return Query::make_range(f.id, TermBound{encode_term_value(f.type, cidr->first), true},
                                   TermBound{encode_term_value(f.type, cidr->second), true});
        }
        if (implicit && !parses_as(f, q.text)) return nullptr;
        return Query::make_term(f.id, typed_term(q, f, q.text));
      }
      case K::kPrefix:
      case K::kWildcard:
      case K::kRegex:
      case K::kFuzzy: {
        if (!textual) {
          if (implicit) return nullptr;
          fail(q, "field '" + f.name + "' is " + std::string(field_type_name(f.type)) +
                      ": prefix, wildcard, regex and fuzzy queries need a text or string field");
        }
        // Automata are built here once so that a bad pattern fails before any search starts.
        if (q.kind == K::kRegex) {
          make_regex_automaton(q.text);
          return multi(f, Query::Multi::kRegex, q.text);
        }
        if (q.kind == K::kPrefix) return multi(f, Query::Multi::kPrefix, normalize(f, q.text));
        if (q.kind == K::kWildcard) {
          std::string pattern = normalize(f, q.text);
          make_wildcard_automaton(pattern);
          return multi(f, Query::Multi::kWildcard, pattern);
        }
        return fuzzy(q, f);
      }
      case K::kRange: {
        auto bound = [&](const UserBound& b) -> std::optional<TermBound> {
          if (b.unbounded) return std::nullopt;
          if (textual) return TermBound{normalize(f, b.value), b.inclusive};
          return TermBound{typed_term(q, f, b.value), b.inclusive};
        };
        if (implicit && !textual && ((!q.lower.unbounded && !parses_as(f, q.lower.value)) ||
                                     (!q.upper.unbounded && !parses_as(f, q.upper.value)))) {
          return nullptr;
        }
        return Query::make_range(f.id, bound(q.lower), bound(q.upper));
      }
      case K::kSet: {
        std::vector<std::string> terms;
        for (const auto& v : q.set) {
          if (f.type == FieldType::kText) {
            analyze(f, v);
            for (const auto& t : tokens) terms.push_back(t.text);
          } else if (f.type == FieldType::kString) {
            terms.push_back(v);
          } else {
            if (implicit && !parses_as(f, v)) continue;
            terms.push_back(typed_term(q, f, v));
          }
        }
        return Query::make_set(f.id, std::move(terms));
      }
      default:
        fail(q, "internal: unexpected leaf kind");
    }
  }


  // ---- json fields -------------------------------------------------------------------------

  static QueryPtr any_of(std::vector<QueryPtr> parts) {
    std::vector<std::pair<Occur, QueryPtr>> keep;
    for (auto& p : parts) {
      if (p && p->kind != Query::Kind::kEmpty) keep.emplace_back(Occur::kShould, std::move(p));
    }
    if (keep.empty()) return Query::make_empty();
    if (keep.size() == 1) return keep[0].second;
    return Query::make_boolean(std::move(keep));
  }

  QueryPtr multi_union(const FieldEntry& f, std::vector<QueryPtr> parts) {
    std::vector<std::pair<Occur, QueryPtr>> keep;
    for (auto& p : parts) {
      if (p) keep.emplace_back(Occur::kShould, std::move(p));
    }
    if (keep.empty()) return Query::make_empty();
    if (keep.size() == 1) return keep[0].second;
    auto u = std::make_shared<Query>();
    u->kind = Query::Kind::kMultiTerm;
    u->multi = Query::Multi::kUnion;
    u->field = f.id;
    u->clauses = std::move(keep);
    return u;
  }

  QueryPtr json_range_query(const FieldEntry& f, const std::string& prefix, TermBound lo, TermBound hi) {
    auto r = std::const_pointer_cast<Query>(Query::make_range(f.id, std::move(lo), std::move(hi)));
    r->prefix = prefix;
    return r;
  }

  // The end of the keys of one path and type: the prefix with its type byte plus one.
  static std::string type_end(const std::string& prefix) {
    std::string e = prefix;
    e.back() = static_cast<char>(static_cast<uint8_t>(e.back()) + 1);
    return e;
  }

  // A numeric range on a json path: the i64 terms and the f64 terms it covers (numbers have one
  // encoding each: schema/json.h), exactly.
  QueryPtr json_number_range(const FieldEntry& f, const std::string& path, const JsonNumBound& lo, const JsonNumBound& hi) {
    std::vector<QueryPtr> parts;
    // i64 part: [ilo, ihi] inclusive.
    constexpr double kTwo63 = 9223372036854775808.0;
    bool empty = false;
    int64_t ilo = INT64_MIN, ihi = INT64_MAX;
    if (!lo.unbounded) {
      if (lo.n.is_int) {
        if (lo.inclusive) ilo = lo.n.i;
        else if (lo.n.i == INT64_MAX) empty = true;
        else ilo = lo.n.i + 1;
      } else if (lo.n.f >= kTwo63) {
        empty = true;
      } else if (lo.n.f >= -kTwo63) {
        ilo = static_cast<int64_t>(std::ceil(lo.n.f));  // not an integer: ceil is above it
      }
    }
    if (!hi.unbounded) {
      if (hi.n.is_int) {
        if (hi.inclusive) ihi = hi.n.i;
        else if (hi.n.i == INT64_MIN) empty = true;
        else ihi = hi.n.i - 1;
      } else if (hi.n.f < -kTwo63) {
        empty = true;
      } else if (hi.n.f < kTwo63) {
        ihi = static_cast<int64_t>(std::floor(hi.n.f));
      }
    }
    if (!empty && ilo <= ihi) {
      parts.push_back(json_range_query(f, json_term_prefix(path, JsonType::kI64),
                                       TermBound{json_number_term(path, json_number_from_i64(ilo)), true},
                                       TermBound{json_number_term(path, json_number_from_i64(ihi)), true}));
    }
    // f64 part. f64 terms are never integers in [-2^63, 2^63), so an integer bound v can be moved
    // to the double x nearest it: no f64 term lies between v and x, and none equals x when x == v.
    const std::string fprefix = json_term_prefix(path, JsonType::kF64);
    auto fterm = [&](double d) { return fprefix + encode_term_value(FieldType::kF64, Value(d)); };
    TermBound flo{fprefix, true}, fhi{type_end(fprefix), false};
    if (!lo.unbounded) {
      if (lo.n.is_int) {
        double x = static_cast<double>(lo.n.i);
        flo = TermBound{fterm(x), compare_rounded(x, lo.n.i) >= 0};
      } else {
        flo = TermBound{fterm(lo.n.f), lo.inclusive};
      }
    }
    if (!hi.unbounded) {
      if (hi.n.is_int) {
        double x = static_cast<double>(hi.n.i);
        fhi = TermBound{fterm(x), compare_rounded(x, hi.n.i) <= 0};
      } else {
        fhi = TermBound{fterm(hi.n.f), hi.inclusive};
      }
    }
    if (flo.key < fhi.key || (flo.key == fhi.key && flo.inclusive && fhi.inclusive)) {
      parts.push_back(json_range_query(f, fprefix, std::move(flo), std::move(fhi)));
    }
    return multi_union(f, std::move(parts));
  }

  QueryPtr json_leaf(const UserQuery& q, const FieldEntry& f, const std::string& path, bool implicit) {
    using K = UserQuery::Kind;
    // `field:*` is "the field has a value" (its exists list), for every value, `{}` and `[]`
    // included. Every other clause with an empty path searches the root leaves (path ""): a
    // value that is a scalar, and the scalars of an array value at any depth (not those inside
    // objects, which have paths). Their terms start with `0x00 type`, so no walk below reaches
    // a path's terms.
    if (q.kind == K::kExists && path.empty()) return Query::make_exists(f.id);
    if (!f.options.indexed) {
      if (implicit) return nullptr;
      fail(q, "field '" + f.name + "' is not indexed, so it cannot be searched");
    }
    const std::string sprefix = json_term_prefix(path, JsonType::kString);
    // Typed alternatives of a value: a number, a boolean.
    auto typed_terms = [&](const std::string& text, std::vector<std::string>& out) {
      if (auto n = parse_json_number(text)) out.push_back(json_number_term(path, *n));
      if (text == "true" || text == "false") out.push_back(json_bool_term(path, text == "true"));
    };
    switch (q.kind) {
      case K::kExists: {
        // Any leaf at the path itself (`path 0x00`) or below it (`path .`); path is not empty here
        // (the root's `field:*` is the exists list above).
        return multi_union(f, {multi(f, Query::Multi::kPrefix, "", path + std::string(1, kJsonPathEnd)),
                               multi(f, Query::Multi::kPrefix, "", path + ".")});
      }
      case K::kTerm:
      case K::kPhrase: {
        std::vector<QueryPtr> parts;
        if (q.kind == K::kPhrase && q.prefix_phrase) return phrase_prefix(q, f, implicit, sprefix);
        parts.push_back(text_terms(q, f, q.text, q.slop, q.kind == K::kPhrase, implicit, sprefix));
        std::vector<std::string> typed;
        typed_terms(q.text, typed);
        for (auto& t : typed) parts.push_back(Query::make_term(f.id, std::move(t)));
        return any_of(std::move(parts));
      }
      case K::kPrefix:
      case K::kWildcard:
      case K::kRegex:
      case K::kFuzzy: {
        if (q.kind == K::kRegex) {
          make_regex_automaton(q.text);
          return multi(f, Query::Multi::kRegex, q.text, sprefix);
        }
        if (q.kind == K::kPrefix) return multi(f, Query::Multi::kPrefix, normalize(f, q.text), sprefix);
        if (q.kind == K::kWildcard) {
          std::string pattern = normalize(f, q.text);
          make_wildcard_automaton(pattern);
          return multi(f, Query::Multi::kWildcard, pattern, sprefix);
        }
        return fuzzy(q, f, sprefix);
      }
      case K::kRange: {
        // Numeric when every given bound is a number (or none is given), else a string range.
        bool numeric = true;
        JsonNumBound lo, hi;
        auto num = [&](const UserBound& b, JsonNumBound& out) {
          if (b.unbounded) return;
          auto n = parse_json_number(b.value);
          if (!n) {
            numeric = false;
            return;
          }
          out = JsonNumBound{false, b.inclusive, *n};
        };
        num(q.lower, lo);
        num(q.upper, hi);
        if (numeric) return json_number_range(f, path, lo, hi);
        TermBound slo{sprefix, true}, shi{type_end(sprefix), false};
        if (!q.lower.unbounded) slo = TermBound{sprefix + normalize(f, q.lower.value), q.lower.inclusive};
        if (!q.upper.unbounded) shi = TermBound{sprefix + normalize(f, q.upper.value), q.upper.inclusive};
        return json_range_query(f, sprefix, std::move(slo), std::move(shi));
      }
      case K::kSet: {
        std::vector<std::string> terms;
        for (const auto& v : q.set) {
          analyze(f, v);
          for (const auto& t : tokens) terms.push_back(sprefix + t.text);
          typed_terms(v, terms);
        }
        return Query::make_set(f.id, std::move(terms));
      }
      default:
        fail(q, "internal: unexpected leaf kind");
    }
  }

  QueryPtr phrase_prefix(const UserQuery& q, const FieldEntry& f, bool implicit, const std::string& prefix = "") {
    analyze(f, q.text);
    if (tokens.empty()) return Query::make_empty();
    if (tokens.size() == 1) return multi(f, Query::Multi::kPrefix, tokens[0].text, prefix);
    for (auto& t : tokens) t.text.insert(0, prefix);
    if (f.options.record != IndexRecordOption::kPosition) {
      if (implicit) return nullptr;
      fail(q, "field '" + f.name + "' has no positions, so it cannot answer a phrase prefix query");
    }
    auto p = std::make_shared<Query>();
    p->kind = Query::Kind::kPhrase;
    p->field = f.id;
    p->slop = q.slop;
    p->phrase_prefix = true;
    uint32_t first = tokens[0].position;
    for (const auto& t : tokens) p->phrase.emplace_back(t.position - first, t.text);
    return p;
  }

  QueryPtr build(const UserQuery& q) {
    using K = UserQuery::Kind;
    QueryPtr out;
    switch (q.kind) {
      case K::kEmpty: out = Query::make_empty(); break;
      case K::kAll: out = Query::make_all(); break;
      case K::kBoolean: {
        std::vector<std::pair<Occur, QueryPtr>> clauses;
        for (const auto& [occur, sub] : q.clauses) clauses.emplace_back(occur, build(*sub));
        out = Query::make_boolean(std::move(clauses));
        break;
      }
      default: {
        if (q.field) {
          out = leaf(q, field_named(q, *q.field), false);
        } else {
          if (default_fields.empty()) fail(q, "no default field to search; name a field (field:term)");
          std::vector<std::pair<Occur, QueryPtr>> per_field;
          for (const FieldRef& ref : default_fields) {
            if (auto sub = leaf(q, ref, true)) per_field.emplace_back(Occur::kShould, sub);
          }
          if (per_field.empty()) out = Query::make_empty();
          else if (per_field.size() == 1) out = per_field[0].second;
          else out = Query::make_boolean(std::move(per_field));
        }
      }
    }
    if (q.boost != 1.0f) out = Query::make_boost(out, q.boost);
    return out;
  }
};

}  // namespace

QueryPtr build_query(const UserQuery& q, const Schema& schema, const AnalyzerRegistry& analyzers,
                     const QueryOptions& options) {
  Builder b{schema, analyzers, options, {}, {}};
  if (options.default_fields.empty()) {
    for (const auto& f : schema.fields()) {
      if (f.type == FieldType::kText && f.options.indexed) b.default_fields.push_back(FieldRef{&f, ""});
    }
  } else {
    for (const auto& name : options.default_fields) {
      FieldRef ref;
      std::string err = resolve_field(schema, name, ref);
      if (!err.empty()) throw_error(ErrorCode::kQuery, "default field: " + err);
      b.default_fields.push_back(std::move(ref));
    }
  }
  return b.build(q);
}

QueryPtr parse_and_build(std::string_view query, const Schema& schema, const AnalyzerRegistry& analyzers,
                         const QueryOptions& options) {
  ParserOptions po;
  po.default_conjunction = options.default_conjunction;
  UserQueryPtr uq = parse_query(query, po);
  try {
    return build_query(*uq, schema, analyzers, options);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kQuery) throw;
    throw_error(ErrorCode::kQuery, "query '" + std::string(query) + "': " + e.what());
  }
}

std::string to_string(const Query& q, const Schema& schema) {
  using K = Query::Kind;
  auto fname = [&](uint16_t f) { return f < schema.num_fields() ? schema.field(f).name : std::to_string(f); };
  switch (q.kind) {
    case K::kTerm: return fname(q.field) + ":" + show_term(schema, q.field, q.term);
    case K::kPhrase: {
      std::string s = fname(q.field) + ":\"";
      for (size_t i = 0; i < q.phrase.size(); ++i) s += (i ? " " : "") + q.phrase[i].second;
      s += "\"";
      if (q.slop) s += "~" + std::to_string(q.slop);
      if (q.phrase_prefix) s += "*";
      return s;
    }
    case K::kMultiTerm: {
      std::string s = fname(q.field) + ":";
      if (!q.prefix.empty() && q.multi != Query::Multi::kRange && q.multi != Query::Multi::kSet) {
        s += json_term_to_string(q.prefix);
      }
      switch (q.multi) {
        case Query::Multi::kPrefix: return s + q.term + "*";
        case Query::Multi::kWildcard: return s + "wildcard(" + q.term + ")";
        case Query::Multi::kRegex: return s + "/" + q.term + "/";
        case Query::Multi::kFuzzy: return s + q.term + "~" + std::to_string(q.distance);
        case Query::Multi::kRange:
          return s + (q.lower && q.lower->inclusive ? "[" : "{") + (q.lower ? show_term(schema, q.field, q.lower->key) : "*") +
                 " TO " + (q.upper ? show_term(schema, q.field, q.upper->key) : "*") +
                 (q.upper && q.upper->inclusive ? "]" : "}");
        case Query::Multi::kSet: {
          s += "IN [";
          for (size_t i = 0; i < q.set.size(); ++i) s += (i ? " " : "") + show_term(schema, q.field, q.set[i]);
          return s + "]";
        }
        case Query::Multi::kUnion: {
          std::string u = "union(";
          for (size_t i = 0; i < q.clauses.size(); ++i) u += (i ? " " : "") + to_string(*q.clauses[i].second, schema);
          return u + ")";
        }
      }
      return s;
    }
    case K::kAll: return "*";
    case K::kExists: return fname(q.field) + ":*";
    case K::kEmpty: return "<empty>";
    case K::kBoolean: {
      std::string s = "(";
      for (size_t i = 0; i < q.clauses.size(); ++i) {
        if (i) s += " ";
        s += q.clauses[i].first == Occur::kMust ? "+" : q.clauses[i].first == Occur::kMustNot ? "-" : "";
        s += to_string(*q.clauses[i].second, schema);
      }
      return s + ")";
    }
    case K::kBoost: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "^%g", static_cast<double>(q.boost));
      return "(" + to_string(*q.inner, schema) + ")" + buf;
    }
  }
  return "?";
}

}  // namespace needle
