#include <algorithm>

#include "needle/common/error.h"
#include "needle/query/parser.h"
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
  append_value_json(out, decode_term_value(f.type, term));
  return out;
}

struct Builder {
  const Schema& schema;
  const AnalyzerRegistry& analyzers;
  const QueryOptions& options;
  std::vector<uint16_t> default_fields;
  std::vector<Token> tokens;

  [[noreturn]] void fail(const UserQuery& q, const std::string& msg) {
    throw_error(ErrorCode::kQuery, "position " + std::to_string(q.position) + ": " + msg);
  }

  const FieldEntry& field_named(const UserQuery& q, const std::string& name) {
    const FieldEntry* f = schema.find(name);
    if (f == nullptr) {
      std::string known;
      for (const auto& e : schema.fields()) known += (known.empty() ? "" : ", ") + e.name;
      fail(q, "unknown field '" + name + "' (fields: " + known + ")");
    }
    return *f;
  }

  void analyze(const FieldEntry& f, std::string_view text) {
    analyzers.get(f.options.tokenizer)->analyze(text, tokens);
  }

  // The text as the field's analyzer would case it: lower-cased when the analyzer lower-cases.
  std::string normalize(const FieldEntry& f, std::string_view text) {
    if (f.type != FieldType::kText) return std::string(text);
    std::vector<Token> probe;
    analyzers.get(f.options.tokenizer)->analyze("A", probe);
    if (probe.size() == 1 && probe[0].text == "a") {
      analyzers.get("lowercase")->analyze(text, probe);
      return probe.empty() ? std::string() : probe[0].text;
    }
    return std::string(text);
  }

  QueryPtr multi(const FieldEntry& f, Query::Multi kind, std::string text) {
    auto q = std::make_shared<Query>();
    q->kind = Query::Kind::kMultiTerm;
    q->multi = kind;
    q->field = f.id;
    q->term = std::move(text);
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

  QueryPtr text_terms(const UserQuery& q, const FieldEntry& f, std::string_view text, uint32_t slop, bool as_phrase,
                      bool implicit) {
    analyze(f, text);
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

  // One leaf on one field; nullptr when `implicit` (a default field) and the leaf does not apply.
  QueryPtr leaf(const UserQuery& q, const FieldEntry& f, bool implicit) {
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
        std::vector<std::string> words = {q.text};
        if (f.type == FieldType::kText) {
          // Each token the analyzer makes of the word must match within the distance.
          analyze(f, q.text);
          words.clear();
          for (const auto& t : tokens) words.push_back(t.text);
        }
        std::vector<std::pair<Occur, QueryPtr>> parts;
        for (auto& w : words) {
          auto m = std::const_pointer_cast<Query>(multi(f, Query::Multi::kFuzzy, w));
          m->distance = q.distance;
          m->transpositions = true;
          make_levenshtein_automaton(m->term, m->distance, m->transpositions, m->fuzzy_prefix);
          parts.emplace_back(Occur::kMust, m);
        }
        if (parts.empty()) return Query::make_empty();
        if (parts.size() == 1) return parts[0].second;
        return Query::make_boolean(std::move(parts));
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

  QueryPtr phrase_prefix(const UserQuery& q, const FieldEntry& f, bool implicit) {
    analyze(f, q.text);
    if (tokens.empty()) return Query::make_empty();
    if (tokens.size() == 1) return multi(f, Query::Multi::kPrefix, tokens[0].text);
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
          for (uint16_t fid : default_fields) {
            if (auto sub = leaf(q, schema.field(fid), true)) per_field.emplace_back(Occur::kShould, sub);
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
      if (f.type == FieldType::kText && f.options.indexed) b.default_fields.push_back(f.id);
    }
  } else {
    for (const auto& name : options.default_fields) {
      const FieldEntry* f = schema.find(name);
      if (f == nullptr) throw_error(ErrorCode::kQuery, "unknown default field '" + name + "'");
      b.default_fields.push_back(f->id);
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
