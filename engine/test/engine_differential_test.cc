// Randomized differential test: random documents and random queries of every kind, answered by
// the engine and by a brute-force evaluator written independently of the engine's postings,
// dictionaries and scorers. Same hits, same counts, BM25 scores equal within 1e-4 relative.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "needle/codec/fieldnorm.h"
#include "needle/index/index.h"
#include "needle/schema/value.h"
#include "needle/search/searcher.h"
#include "needle/split/split.h"

namespace needle {
namespace {

const char* kSchema = R"({"fields":[
  {"name":"id","type":"u64","stored":true},
  {"name":"body","type":"text","stored":true,"record":"position"},
  {"name":"title","type":"text","record":"freq"},
  {"name":"tag","type":"string","stored":true},
  {"name":"n","type":"i64","stored":true},
  {"name":"f","type":"f64"},
  {"name":"ts","type":"timestamp"},
  {"name":"ip","type":"ip"},
  {"name":"flag","type":"bool"},
  {"name":"u","type":"u64"},
  {"name":"b","type":"bytes"},
  {"name":"note","type":"text","indexed":false,"stored":true},
  {"name":"payload","type":"json","stored":true,"indexed":true,"tokenizer":"default","record":"position"}
]})";

const std::vector<std::string> kWords = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
                                         "theta", "iota", "kappa", "Lambda", "mu", "alphabet", "betamax",
                                         "gammon", "deltas", "user_name", "error.log", "Über", "naïve"};
const char* kBlobs[] = {"AAE=", "AAI=", "/w==", "aGVsbG8="};
const std::vector<std::string> kTags = {"red", "green", "blue", "Red", "light blue", "x:y", ""};

// ---- the reference model ------------------------------------------------------------------

struct RefDoc {
  uint64_t id = 0;
  bool alive = true;
  // per field: the terms (encoded) in order, and for text their positions
  std::map<uint16_t, std::vector<std::pair<std::string, uint32_t>>> terms;
  std::map<uint16_t, uint8_t> norm;  // text fields with norms
  std::set<uint16_t> present;
};

struct Reference {
  const Schema& schema;
  const AnalyzerRegistry& analyzers;
  std::vector<RefDoc> docs;
  Bm25Params params;

  void add(uint64_t id, const Document& d) {
    RefDoc r;
    r.id = id;
    std::map<uint16_t, uint32_t> next_pos, counts;
    std::vector<Token> tokens;
    for (const auto& fv : d.values) {
      const auto& f = schema.field(fv.field);
      r.present.insert(f.id);
      if (!f.options.indexed) continue;
      if (f.type == FieldType::kJson) {
        add_json(r, f, std::get<JsonValue>(fv.value).json, next_pos[f.id], counts[f.id]);
        continue;
      }
      if (f.type != FieldType::kText) {
        r.terms[f.id].emplace_back(encode_term_value(f.type, fv.value), 0);
        continue;
      }
      analyzers.get(f.options.tokenizer)->analyze(std::get<std::string>(fv.value), tokens);
      uint32_t base = next_pos[f.id];
      for (const auto& t : tokens) r.terms[f.id].emplace_back(t.text, base + t.position);
      if (!tokens.empty()) next_pos[f.id] = base + tokens.back().position + 1 + kValuePositionGap;
      counts[f.id] += static_cast<uint32_t>(tokens.size());
    }
    for (const auto& f : schema.fields()) {
      if ((f.type == FieldType::kText || f.type == FieldType::kJson) && f.options.indexed && f.options.fieldnorms) r.norm[f.id] = fieldnorm_to_id(counts[f.id]);
    }
    docs.push_back(std::move(r));
  }

  // json leaves, written from docs/format/schema.md: path + 0x00 + type byte + value; numbers
  // with an integral value in the i64 range are 'i', others 'f'.
  void add_json(RefDoc& r, const FieldEntry& f, const std::string& json, uint32_t& next_pos, uint32_t& count) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root = parser.parse(padded).value();
    std::vector<Token> tokens;
    std::function<void(simdjson::dom::element, const std::string&)> walk = [&](simdjson::dom::element e, const std::string& path) {
      using T = simdjson::dom::element_type;
      std::string head = path + std::string(1, '\0');
      switch (e.type()) {
        case T::OBJECT: {
          simdjson::dom::object obj;
          ASSERT_FALSE(e.get_object().get(obj));
          for (auto [k, v] : obj) walk(v, path.empty() ? std::string(k) : path + "." + std::string(k));
          return;
        }
        case T::ARRAY: {
          simdjson::dom::array arr;
          ASSERT_FALSE(e.get_array().get(arr));
          for (auto v : arr) walk(v, path);
          return;
        }
        case T::NULL_VALUE: return;
        case T::STRING: {
          analyzers.get(f.options.tokenizer)->analyze(e.get_string().value(), tokens);
          for (const auto& t : tokens) r.terms[f.id].emplace_back(head + "s" + t.text, next_pos + t.position);
          if (!tokens.empty()) next_pos += tokens.back().position + 1 + kValuePositionGap;
          count += static_cast<uint32_t>(tokens.size());
          return;
        }
        case T::BOOL:
          r.terms[f.id].emplace_back(head + "b" + std::string(1, e.get_bool().value() ? '\1' : '\0'), next_pos);
          next_pos += 1 + kValuePositionGap;
          return;
        case T::INT64:
          r.terms[f.id].emplace_back(head + "i" + encode_term_value(FieldType::kI64, Value(e.get_int64().value())), next_pos);
          break;
        case T::UINT64: {
          uint64_t u = e.get_uint64().value();
          if (u <= static_cast<uint64_t>(INT64_MAX)) {
            r.terms[f.id].emplace_back(head + "i" + encode_term_value(FieldType::kI64, Value(static_cast<int64_t>(u))), next_pos);
          } else {
            r.terms[f.id].emplace_back(head + "f" + encode_term_value(FieldType::kF64, Value(static_cast<double>(u))), next_pos);
          }
          break;
        }
        case T::DOUBLE: {
          double x = e.get_double().value();
          if (std::floor(x) == x && x >= -9223372036854775808.0 && x < 9223372036854775808.0) {
            r.terms[f.id].emplace_back(head + "i" + encode_term_value(FieldType::kI64, Value(static_cast<int64_t>(x))), next_pos);
          } else {
            r.terms[f.id].emplace_back(head + "f" + encode_term_value(FieldType::kF64, Value(x)), next_pos);
          }
          break;
        }
      }
      next_pos += 1 + kValuePositionGap;
    };
    walk(root, "");
  }

  // Statistics over alive documents (the tests that compare scores have no deleted documents left).
  double n_docs() const {
    double n = 0;
    for (const auto& d : docs) n += d.alive;
    return n;
  }
  mutable std::map<std::pair<uint16_t, std::string>, double> idf_cache;
  mutable std::map<uint16_t, double> avg_cache;
  double idf(uint16_t field, const std::string& term) const {
    auto key = std::make_pair(field, term);
    auto hit = idf_cache.find(key);
    if (hit != idf_cache.end()) return hit->second;
    double df = 0;
    for (const auto& d : docs) {
      if (!d.alive) continue;
      auto it = d.terms.find(field);
      if (it == d.terms.end()) continue;
      for (const auto& [t, p] : it->second) {
        if (t == term) {
          df += 1;
          break;
        }
      }
    }
    double n = n_docs();
    return idf_cache[key] = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
  }
  double avg_norm(uint16_t field) const {
    auto hit = avg_cache.find(field);
    if (hit != avg_cache.end()) return hit->second;
    double total = 0;
    for (const auto& d : docs) {
      if (!d.alive) continue;
      auto it = d.norm.find(field);
      if (it != d.norm.end()) total += id_to_fieldnorm(it->second);
    }
    double n = n_docs();
    return avg_cache[field] = (n > 0 && total > 0) ? total / n : 1.0;
  }
  double bm25(const RefDoc& d, uint16_t field, double idf, double tf, double boost) const {
    double k;
    auto it = d.norm.find(field);
    if (it == d.norm.end()) {
      k = params.k1;
    } else {
      double dl = id_to_fieldnorm(it->second);
      k = params.k1 * (1 - params.b + params.b * dl / avg_norm(field));
    }
    return boost * idf * (params.k1 + 1) * tf / (tf + k);
  }

  static std::u32string utf32(const std::string& s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
      for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      out.push_back(cp);
      i += len;
    }
    return out;
  }
  static bool wildcard(const std::u32string& p, size_t pi, const std::u32string& t, size_t ti) {
    if (pi == p.size()) return ti == t.size();
    if (p[pi] == U'*') {
      for (size_t k = ti; k <= t.size(); ++k) {
        if (wildcard(p, pi + 1, t, k)) return true;
      }
      return false;
    }
    if (ti == t.size()) return false;
    if (p[pi] == U'?') return wildcard(p, pi + 1, t, ti + 1);
    char32_t want = p[pi];
    if (want == U'\\' && pi + 1 < p.size()) return p[pi + 1] == t[ti] && wildcard(p, pi + 2, t, ti + 1);
    return want == t[ti] && wildcard(p, pi + 1, t, ti + 1);
  }
  static int osa_distance(const std::u32string& a, const std::u32string& b) {
    std::vector<std::vector<int>> d(a.size() + 1, std::vector<int>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = static_cast<int>(i);
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = static_cast<int>(j);
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        int cost = a[i - 1] == b[j - 1] ? 0 : 1;
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
    return d[a.size()][b.size()];
  }
  // Simple regexes used by the generator: literal chars, '.', and '.*' / '+' on the previous atom.
  static bool regex(const std::u32string& p, size_t pi, const std::u32string& t, size_t ti) {
    if (pi == p.size()) return ti == t.size();
    char32_t atom = p[pi];
    bool star = pi + 1 < p.size() && p[pi + 1] == U'*';
    bool plus = pi + 1 < p.size() && p[pi + 1] == U'+';
    auto matches = [&](size_t k) { return k < t.size() && (atom == U'.' || t[k] == atom); };
    if (star || plus) {
      size_t k = ti;
      if (plus) {
        if (!matches(k)) return false;
        ++k;
      }
      for (;;) {
        if (regex(p, pi + 2, t, k)) return true;
        if (!matches(k)) return false;
        ++k;
      }
    }
    return matches(ti) && regex(p, pi + 1, t, ti + 1);
  }

  bool multi_match(const Query& q, const std::string& full) const {
    if (q.multi == Query::Multi::kUnion) {
      for (const auto& [occur, sub] : q.clauses) {
        if (multi_match(*sub, full)) return true;
      }
      return false;
    }
    // json: every term of the query starts with `prefix` (path 0x00 type); the rest is matched.
    if (full.compare(0, q.prefix.size(), q.prefix) != 0) return false;
    const std::string term = q.multi == Query::Multi::kRange || q.multi == Query::Multi::kSet ? full : full.substr(q.prefix.size());
    switch (q.multi) {
      case Query::Multi::kUnion: return false;
      case Query::Multi::kPrefix: return term.compare(0, q.term.size(), q.term) == 0;
      case Query::Multi::kWildcard: return wildcard(utf32(q.term), 0, utf32(term), 0);
      case Query::Multi::kRegex: return regex(utf32(q.term), 0, utf32(term), 0);
      case Query::Multi::kFuzzy: return osa_distance(utf32(q.term), utf32(term)) <= q.distance;
      case Query::Multi::kRange:
        if (q.lower && (q.lower->inclusive ? term < q.lower->key : term <= q.lower->key)) return false;
        if (q.upper && (q.upper->inclusive ? term > q.upper->key : term >= q.upper->key)) return false;
        return true;
      case Query::Multi::kSet: return std::find(q.set.begin(), q.set.end(), term) != q.set.end();
    }
    return false;
  }

  uint32_t phrase_freq(const Query& q, const RefDoc& d) const {
    auto it = d.terms.find(q.field);
    if (it == d.terms.end()) return 0;
    std::vector<std::vector<uint32_t>> pos(q.phrase.size());
    for (size_t i = 0; i < q.phrase.size(); ++i) {
      bool prefix = q.phrase_prefix && i + 1 == q.phrase.size();
      for (const auto& [t, p] : it->second) {
        if (prefix ? t.compare(0, q.phrase[i].second.size(), q.phrase[i].second) == 0 : t == q.phrase[i].second) pos[i].push_back(p);
      }
      std::sort(pos[i].begin(), pos[i].end());
    }
    std::set<uint32_t> starts(pos[0].begin(), pos[0].end());
    uint32_t freq = 0;
    const int64_t first_off = q.phrase[0].first;
    for (uint32_t p0 : starts) {
      bool ok = false;
      if (q.slop == 0) {
        ok = true;
        for (size_t i = 1; i < pos.size() && ok; ++i) {
          uint32_t want = p0 + q.phrase[i].first - q.phrase[0].first;
          ok = std::find(pos[i].begin(), pos[i].end(), want) != pos[i].end();
        }
      } else {
        // some window [lo, lo + slop] holds p0 - 0 and, for every other term, position - offset
        const int64_t r0 = static_cast<int64_t>(p0);
        for (int64_t lo = r0 - q.slop; lo <= r0 && !ok; ++lo) {
          bool all = true;
          for (size_t i = 1; i < pos.size() && all; ++i) {
            bool any = false;
            for (uint32_t p : pos[i]) {
              int64_t r = static_cast<int64_t>(p) - (q.phrase[i].first - first_off);
              if (r >= 0 && r >= lo && r <= lo + q.slop) any = true;
            }
            all = any;
          }
          ok = all;
        }
      }
      freq += ok;
    }
    return freq;
  }

  // Score of `d` under `q`, or nullopt when it does not match.
  std::optional<double> eval(const Query& q, const RefDoc& d, double boost) const {
    using K = Query::Kind;
    switch (q.kind) {
      case K::kEmpty: return std::nullopt;
      case K::kAll: return boost;
      case K::kExists: return d.present.count(q.field) ? std::optional<double>(boost) : std::nullopt;
      case K::kBoost: return eval(*q.inner, d, boost * q.boost);
      case K::kTerm: {
        auto it = d.terms.find(q.field);
        if (it == d.terms.end()) return std::nullopt;
        double tf = 0;
        for (const auto& [t, p] : it->second) tf += t == q.term;
        if (tf == 0) return std::nullopt;
        const auto& f = schema.field(q.field);
        if (f.options.record == IndexRecordOption::kBasic) tf = 1;
        return bm25(d, q.field, idf(q.field, q.term), tf, boost);
      }
      case K::kMultiTerm: {
        auto it = d.terms.find(q.field);
        if (it == d.terms.end()) return std::nullopt;
        for (const auto& [t, p] : it->second) {
          if (multi_match(q, t)) return boost;
        }
        return std::nullopt;
      }
      case K::kPhrase: {
        uint32_t freq = phrase_freq(q, d);
        if (freq == 0) return std::nullopt;
        double idf_sum = 0;
        for (size_t i = 0; i < q.phrase.size(); ++i) {
          if (!(q.phrase_prefix && i + 1 == q.phrase.size())) idf_sum += idf(q.field, q.phrase[i].second);
        }
        return bm25(d, q.field, idf_sum, freq, boost);
      }
      case K::kBoolean: {
        double score = 0;
        bool any_must = false, any_should = false, should_matched = false, any_positive = false;
        for (const auto& [occur, sub] : q.clauses) {
          auto s = eval(*sub, d, boost);
          if (occur == Occur::kMustNot) {
            if (s) return std::nullopt;
            continue;
          }
          any_positive = true;
          if (occur == Occur::kMust) {
            any_must = true;
            if (!s) return std::nullopt;
            score += *s;
          } else {
            any_should = true;
            if (s) {
              should_matched = true;
              score += *s;
            }
          }
        }
        if (q.clauses.empty()) return std::nullopt;
        if (!any_positive) return boost;  // only negative clauses: all documents but those
        if (!any_must && any_should && !should_matched) return std::nullopt;
        return score;
      }
    }
    return std::nullopt;
  }
};

// ---- random data and queries ---------------------------------------------------------------

struct Gen {
  std::mt19937_64 rng;
  explicit Gen(uint64_t seed) : rng(seed) {}
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
  bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng); }
  const std::string& word() { return kWords[pick(kWords.size())]; }

  std::string text(size_t max_words) {
    static const char* seps[] = {" ", " ", " ", ", ", "-", " (", ") ", "/"};
    std::string s;
    size_t n = pick(max_words + 1);
    for (size_t i = 0; i < n; ++i) {
      if (i) s += seps[pick(8)];
      s += word();
    }
    return s;
  }
  std::string json_doc(uint64_t id) {
    std::string j = "{\"id\":" + std::to_string(id);
    auto str = [](const std::string& s) {
      std::string o;
      append_json_string(o, s);
      return o;
    };
    if (coin(0.9)) {
      if (coin(0.2)) j += ",\"body\":[" + str(text(8)) + "," + str(text(8)) + "]";
      else j += ",\"body\":" + str(text(20));
    }
    if (coin(0.7)) j += ",\"title\":" + str(text(4));
    if (coin(0.7)) {
      if (coin(0.3)) j += ",\"tag\":[" + str(kTags[pick(kTags.size())]) + "," + str(kTags[pick(kTags.size())]) + "]";
      else j += ",\"tag\":" + str(kTags[pick(kTags.size())]);
    }
    if (coin(0.8)) j += ",\"n\":" + std::to_string(static_cast<int64_t>(pick(41)) - 20);
    if (coin(0.6)) j += ",\"f\":" + std::to_string((static_cast<double>(pick(200)) - 100) / 8);
    if (coin(0.6)) j += ",\"ts\":\"2024-01-" + std::string(pick(2) ? "1" : "2") + std::to_string(pick(10)) + "T0" + std::to_string(pick(10)) + ":00:00Z\"";
    if (coin(0.6)) j += ",\"ip\":\"10.0." + std::to_string(pick(3)) + "." + std::to_string(pick(5)) + "\"";
    if (coin(0.5)) j += std::string(",\"flag\":") + (coin() ? "true" : "false");
    if (coin(0.3)) j += ",\"note\":" + str(text(3));
    if (coin(0.5)) j += ",\"u\":" + std::to_string(pick(30) * 1000000007ull);
    if (coin(0.4)) j += ",\"b\":\"" + std::string(kBlobs[pick(4)]) + "\"";
    if (coin(0.7)) j += ",\"payload\":" + payload_field();
    return j + "}";
  }
  // The payload field of a document: an object, a value of any other kind (whose scalars are
  // root leaves), or an array of several values, each of any kind; null or [] for none.
  std::string payload_field() {
    switch (pick(20)) {
      case 0: return coin() ? "null" : "[]";
      case 1: return "{}";
      case 2:
      case 3: return "[" + payload() + "," + payload() + "]";
      case 4:
      case 5:
      case 6:
      case 7: return any_value(0);  // an array here is several values
      case 8:
      case 9: return "[" + any_value(0) + "," + any_value(0) + "]";  // several values, arrays included
      default: return payload();
    }
  }
  // Any JSON value: strings, numbers, booleans, null, objects and arrays of them, nested.
  std::string any_value(int depth) {
    auto str = [](const std::string& s) {
      std::string o;
      append_json_string(o, s);
      return o;
    };
    switch (pick(depth < 2 ? 9 : 5)) {
      case 0:
      case 1: return str(text(3));
      case 2: return jnum();
      case 3: return pick(6) == 0 ? "null" : coin() ? "true" : "false";
      case 4: return depth < 2 && coin(0.3) ? payload() : str(lw());
      default: {
        std::string a = "[";
        size_t n = pick(4);
        for (size_t i = 0; i < n; ++i) a += (i ? "," : "") + any_value(depth + 1);
        return a + "]";
      }
    }
  }
  // A number as JSON: integers, integral floats (3.0), halves, and a few far outside i64.
  std::string jnum() {
    switch (pick(6)) {
      case 0: return std::to_string(static_cast<int>(pick(11)) - 5) + ".0";
      case 1: return std::to_string(static_cast<int>(pick(11)) - 5) + ".5";
      case 2: return coin() ? "1e19" : "-2e19";
      default: return std::to_string(static_cast<int>(pick(11)) - 5);
    }
  }
  std::string payload() {
    auto str = [](const std::string& s) {
      std::string o;
      append_json_string(o, s);
      return o;
    };
    std::vector<std::string> parts;
    if (coin(0.7)) {
      std::string u = "\"user\":{";
      if (coin(0.8)) u += "\"name\":" + str(text(3));
      else u += "\"name\":null";
      if (coin(0.6)) u += ",\"age\":" + jnum();
      parts.push_back(u + "}");
    }
    if (coin(0.5)) {
      std::string t = "\"tags\":[";
      size_t n = pick(4);
      for (size_t i = 0; i < n; ++i) t += (i ? "," : "") + str(text(2));
      parts.push_back(t + "]");
    }
    if (coin(0.5)) {
      std::string t = "\"items\":[";
      size_t n = 1 + pick(3);
      for (size_t i = 0; i < n; ++i) {
        t += (i ? "," : "") + std::string("{\"n\":") + jnum();
        if (coin()) t += ",\"s\":" + str(lw());
        t += "}";
      }
      parts.push_back(t + "]");
    }
    if (coin(0.4)) parts.push_back(std::string("\"ok\":") + (coin() ? "true" : "false"));
    if (coin(0.4)) parts.push_back("\"a.b\":" + (coin() ? jnum() : str(lw())));
    if (coin(0.3)) parts.push_back("\"code\":" + str(coin() ? "3" : lw()));
    std::string out = "{";
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? "," : "") + parts[i];
    return out + "}";
  }

  std::string lw() {  // a lower-case word as the analyzer indexes it
    std::string w = word();
    for (auto& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return w;
  }
  std::string bound() {
    switch (pick(4)) {
      case 0: return std::to_string(static_cast<int>(pick(11)) - 5) + ".5";
      case 1: return "*";
      default: return std::to_string(static_cast<int>(pick(11)) - 5);
    }
  }
  std::string json_leaf() {
    switch (pick(24)) {
      case 0: return "payload.user.name:" + lw();
      case 1: return "payload.user.name:\"" + lw() + " " + lw() + "\"";
      case 2: return "payload.tags:\"" + lw() + " " + lw() + "\"~" + std::to_string(1 + pick(3));
      case 3: return "payload.tags:" + lw().substr(0, 1 + pick(3)) + "*";
      case 4: return "payload.items.s:" + lw() + "~1";
      case 5: return "payload.user.name:/" + lw().substr(0, 2) + ".*/";
      case 6: return "payload.items.n:" + std::string(coin() ? "[" : "{") + bound() + " TO " + bound() + (coin() ? "]" : "}");
      case 7: return "payload.items.n:" + jnum();
      case 8: return "payload.user.age:>" + std::string(coin() ? "=" : "") + std::to_string(static_cast<int>(pick(11)) - 5) + (coin() ? ".5" : "");
      case 9: return "payload.user.age:<" + jnum();
      case 10: return "payload.items.s:IN [" + lw() + " " + lw() + " 3]";
      case 11: return std::string(coin() ? "payload.user" : coin() ? "payload.items" : "payload.user.name") + ":*";
      case 12: return "payload:*";
      case 13: return "payload.ok:" + std::string(coin() ? "true" : "false");
      case 14: return "payload.a.b:" + (coin() ? jnum() : lw());
      case 15: return "payload.code:3";
      case 16: return "payload.tags:" + lw().substr(0, 2) + "?*";
      case 17: return "payload.user.name:[" + lw() + " TO " + lw() + "]";
      case 18: return "payload.user.name:\"" + lw() + " " + lw().substr(0, 2) + "\"*";
      case 19: return "payload.tags:" + lw();
      default: return json_root_leaf();
    }
  }
  // Clauses on the json field without a path: its root leaves.
  std::string json_root_leaf() {
    switch (pick(14)) {
      case 0: return "payload:\"" + lw() + " " + lw() + "\"" + (coin(0.3) ? "~" + std::to_string(1 + pick(3)) : "");
      case 1: return "payload:" + lw().substr(0, 1 + pick(3)) + "*";
      case 2: return "payload:" + lw().substr(0, 2) + "?*";
      case 3: return "payload:/" + lw().substr(0, 2) + ".*/";
      case 4: return "payload:" + lw() + "~1";
      case 5: return "payload:" + jnum();
      case 6: return "payload:" + std::string(coin() ? "[" : "{") + bound() + " TO " + bound() + (coin() ? "]" : "}");
      case 7: return "payload:>" + std::string(coin() ? "=" : "") + std::to_string(static_cast<int>(pick(11)) - 5);
      case 8: return "payload:" + std::string(coin() ? "true" : "false");
      case 9: return "payload:[" + lw() + " TO " + lw() + "]";
      case 10: return "payload:IN [" + lw() + " " + lw() + " 3 true]";
      case 11: return "payload:\"" + lw() + " " + lw().substr(0, 2) + "\"*";
      default: return "payload:" + lw();
    }
  }
  std::string leaf() {
    if (pick(4) == 0) return json_leaf();
    switch (pick(27)) {
      case 0: return "body:" + lw();
      case 1: return "title:" + lw();
      case 2: return lw();
      case 3: {  // a term twice (its slots share one cursor)
        std::string w = lw();
        return "body:\"" + w + " " + lw() + " " + w + "\"" + (coin(0.3) ? "~" + std::to_string(1 + pick(3)) : "");
      }
      case 4: return "body:\"" + lw() + " " + lw() + "\"~" + std::to_string(1 + pick(3));
      case 5: return "body:" + lw().substr(0, 1 + pick(3)) + "*";
      case 6: return "body:" + lw().substr(0, 2) + "?" + "*";
      case 7: return "title:/" + lw().substr(0, 2) + ".*/";
      case 8: return "body:" + lw() + "~" + std::to_string(1 + pick(2));
      case 9: return "n:[" + std::to_string(static_cast<int>(pick(21)) - 10) + " TO " + std::to_string(pick(21)) + "]";
      case 10: return "n:{" + std::to_string(static_cast<int>(pick(21)) - 10) + " TO *]";
      case 11: return "n:>=" + std::to_string(static_cast<int>(pick(41)) - 20);
      case 12: return "f:[" + std::to_string(static_cast<int>(pick(10)) - 5) + " TO " + std::to_string(pick(10)) + "}";
      case 13: return "ts:[2024-01-1" + std::to_string(pick(10)) + "T00:00:00Z TO *}";
      case 14: return "ip:10.0." + std::to_string(pick(3)) + ".0/30";
      case 15: return "ip:10.0.1." + std::to_string(pick(5));
      case 16: return "tag:" + std::string(coin() ? "red" : "Red");
      case 17: return "tag:IN [red blue green]";
      case 18: return "flag:" + std::string(coin() ? "true" : "false");
      case 19: return std::string(coin() ? "body" : coin() ? "tag" : "note") + ":*";
      case 20: return "*";
      case 21: return "body:\"" + lw() + " " + lw().substr(0, 2) + "\"*";
      case 22: return "n:" + std::to_string(static_cast<int>(pick(41)) - 20);
      case 23: return "u:[" + std::to_string(pick(15) * 1000000007ull) + " TO " + std::to_string(pick(30) * 1000000007ull) + "]";
      case 24: return "b:\"" + std::string(kBlobs[pick(4)]) + "\"";
      case 25: return "u:>" + std::to_string(pick(30) * 1000000007ull);
      default: return "\"" + lw() + " " + lw() + "\"";
    }
  }
  std::string query(int depth = 0) {
    if (depth >= 2 || coin(0.4)) {
      std::string l = leaf();
      if (coin(0.1)) l += "^" + std::to_string(1 + pick(3));
      return l;
    }
    size_t n = 1 + pick(3);
    std::string q = "(";
    for (size_t i = 0; i < n; ++i) {
      if (i) q += pick(4) == 0 ? (coin() ? " AND " : " OR ") : " ";
      int r = static_cast<int>(pick(5));
      if (r == 0) q += "+";
      if (r == 1) q += "-";
      q += query(depth + 1);
    }
    return q + ")";
  }
};

struct Built {
  std::shared_ptr<Directory> dir;
  std::unique_ptr<Searcher> searcher;
};

void check_queries(const Searcher& searcher, const Reference& ref, Gen& gen, int num_queries, bool compare_scores,
                   const std::string& label) {
  int nonempty = 0, json_nonempty = 0, root_nonempty = 0, root_queries = 0;
  for (int qi = 0; qi < num_queries; ++qi) {
    QueryOptions qo;
    qo.default_fields = {"body", "title"};
    if (gen.coin(0.25)) qo.default_fields.push_back("payload");  // bare clauses also search its root leaves
    std::string text = gen.query();
    SCOPED_TRACE(label + " query: " + text + (qo.default_fields.size() == 3 ? " (default fields + payload)" : ""));
    QueryPtr q = searcher.parse(text, qo);
    // the engine's answer, keyed by the stored id
    std::map<uint64_t, float> engine;
    searcher.for_each(*q, [&](const Hit& h) {
      Document d = searcher.doc(h);
      uint64_t id = std::get<uint64_t>(d.values.at(0).value);
      engine[id] = h.score;
    });
    std::map<uint64_t, double> expected;
    for (const auto& d : ref.docs) {
      if (!d.alive) continue;
      if (auto s = ref.eval(*q, d, 1.0)) expected[d.id] = *s;
    }
    ASSERT_EQ(searcher.count(*q), expected.size()) << to_string(*q, searcher.schema());
    ASSERT_EQ(engine.size(), expected.size()) << to_string(*q, searcher.schema());
    nonempty += !expected.empty();
    json_nonempty += !expected.empty() && text.find("payload") != std::string::npos;
    const bool root = text.find("payload:") != std::string::npos || qo.default_fields.size() == 3;
    root_queries += root;
    root_nonempty += root && !expected.empty();
    for (const auto& [id, s] : expected) {
      auto it = engine.find(id);
      ASSERT_TRUE(it != engine.end()) << "missing id " << id << " for " << to_string(*q, searcher.schema());
      if (compare_scores) {
        ASSERT_NEAR(it->second, s, 1e-4 * std::max(1.0, std::abs(s))) << "id " << id << " " << to_string(*q, searcher.schema());
      }
    }
    // top-k: scores of the k best equal the reference's k best; each hit's score is its own
    // small k (a heap) and large (a buffer, wider union windows)
    size_t k = qi % 4 == 3 ? 33 + gen.pick(400) : 1 + gen.pick(12);
    auto top = searcher.top_k_with_count(*q, k);
    ASSERT_EQ(top.count, expected.size());
    ASSERT_EQ(top.hits.size(), std::min(k, expected.size()));
    // top-k without a count takes the skipping paths (block-max, MaxScore): same scores
    auto fast = searcher.top_k(*q, k);
    ASSERT_EQ(fast.size(), top.hits.size());
    for (size_t i = 0; i < fast.size(); ++i) {
      ASSERT_NEAR(fast[i].score, top.hits[i].score, 1e-5 * std::max(1.0f, top.hits[i].score)) << "rank " << i;
    }
    if (compare_scores) {
      std::vector<double> best;
      for (const auto& [id, s] : expected) best.push_back(s);
      std::sort(best.rbegin(), best.rend());
      for (size_t i = 0; i < top.hits.size(); ++i) {
        ASSERT_NEAR(top.hits[i].score, best[i], 1e-4 * std::max(1.0, best[i])) << "rank " << i;
        if (i > 0) {
          ASSERT_GE(top.hits[i - 1].score, top.hits[i].score);
        }
      }
    }
  }
  EXPECT_GT(nonempty, num_queries / 4) << "too few queries matched anything: the test would prove little";
  EXPECT_GT(json_nonempty, num_queries / 10) << "too few json queries matched anything";
  EXPECT_GT(root_nonempty, num_queries / 10) << "too few queries on json root leaves matched anything";
}

// The root leaves of the json field, checked against the reference's terms directly rather than
// through the built query (the comparison above evaluates the builder's own query, so it cannot
// see a builder that aims at the wrong terms): `payload:w` finds the documents with a root string
// token w, `payload:p*` those with a root string token starting with p (never a path's terms,
// such as user.name for `payload:u*`), `payload:[a TO b]` those with a root number in [a, b].
void check_root_semantics(const Searcher& searcher, const Reference& ref, Gen& gen, const std::string& label) {
  const uint16_t fid = searcher.schema().find("payload")->id;
  auto engine_ids = [&](const std::string& text) {
    std::set<uint64_t> out;
    searcher.for_each(*searcher.parse(text), [&](const Hit& h) { out.insert(std::get<uint64_t>(searcher.doc(h).values.at(0).value)); });
    return out;
  };
  auto ref_ids = [&](const std::function<bool(const std::string&)>& match) {
    std::set<uint64_t> out;
    for (const auto& d : ref.docs) {
      if (!d.alive) continue;
      auto it = d.terms.find(fid);
      if (it == d.terms.end()) continue;
      for (const auto& [t, p] : it->second) {
        if (match(t)) {
          out.insert(d.id);
          break;
        }
      }
    }
    return out;
  };
  const std::string root_s = std::string(1, '\0') + "s";
  int nonempty = 0;
  for (int i = 0; i < 40; ++i) {
    std::string w = gen.lw();
    if (!std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; })) continue;
    std::string p = w.substr(0, 1 + gen.pick(3));
    int lo = static_cast<int>(gen.pick(11)) - 5, hi = lo + static_cast<int>(gen.pick(6));
    std::string range = "payload:[" + std::to_string(lo) + " TO " + std::to_string(hi) + "]";
    SCOPED_TRACE(label + " root check: " + w + " / " + p + "* / " + range);
    auto want_term = ref_ids([&](const std::string& t) { return t == root_s + w; });
    auto want_prefix = ref_ids([&](const std::string& t) { return t.compare(0, root_s.size() + p.size(), root_s + p) == 0; });
    auto want_range = ref_ids([&](const std::string& t) {
      if (t.size() != 10 || t[0] != '\0' || (t[1] != 'i' && t[1] != 'f')) return false;
      double x = t[1] == 'i' ? static_cast<double>(std::get<int64_t>(decode_term_value(FieldType::kI64, t.substr(2))))
                             : std::get<double>(decode_term_value(FieldType::kF64, t.substr(2)));
      return x >= lo && x <= hi;
    });
    ASSERT_EQ(engine_ids("payload:" + w), want_term);
    ASSERT_EQ(engine_ids("payload:" + p + "*"), want_prefix);
    ASSERT_EQ(engine_ids(range), want_range);
    nonempty += !want_term.empty() + !want_prefix.empty() + !want_range.empty();
  }
  EXPECT_GT(nonempty, 20) << "too few root checks matched anything";
}

void run_differential(uint64_t seed, size_t num_docs, unsigned threads, bool use_split, bool with_deletes, bool force_merge) {
  Schema schema = Schema::from_json(kSchema);
  auto analyzers = analyzers_for(schema);
  Gen gen(seed);
  Reference ref{schema, *analyzers, {}, {}, {}, {}};
  std::shared_ptr<Directory> dir = new_ram_directory();
  IndexWriterOptions opts;
  opts.num_threads = threads;
  opts.memory_budget_bytes = threads * (1u << 20);  // small: many segments
  opts.merge_policy.min_merge_segments = 3;
  opts.merge_policy.merge_factor = 4;
  opts.merge_policy.min_level_docs = 50;
  auto writer = IndexWriter::create(dir, schema, opts);
  DocumentParser parser(schema);
  for (size_t i = 0; i < num_docs; ++i) {
    Document d = parser.parse(gen.json_doc(i));
    ref.add(i, d);
    writer->add_document(std::move(d));
    if (with_deletes && gen.coin(0.02)) {
      // delete by term: every document so far with this tag
      std::string tag = kTags[gen.pick(kTags.size())];
      writer->delete_term(schema.find("tag")->id, tag);
      for (auto& r : ref.docs) {
        for (const auto& [t, p] : r.terms[schema.find("tag")->id]) {
          if (t == tag) r.alive = false;
        }
      }
    }
    if (with_deletes && gen.coin(0.01)) {
      QueryOptions qo;
      std::string qtext = "n:[" + std::to_string(static_cast<int>(gen.pick(40)) - 20) + " TO *] AND body:" + gen.lw();
      QueryPtr q = parse_and_build(qtext, schema, *analyzers, qo);
      writer->delete_matching(make_doc_matcher(q, schema));
      for (auto& r : ref.docs) {
        if (r.alive && ref.eval(*q, r, 1.0)) r.alive = false;
      }
    }
    if (gen.coin(0.01)) writer->commit();
  }
  writer->commit();
  if (force_merge) writer->force_merge();
  const IndexMeta& meta = writer->committed();
  std::unique_ptr<Searcher> searcher;
  std::shared_ptr<Split> split;
  if (use_split) {
    char tmpl[] = "/tmp/needle-diff-XXXXXX";
    std::string tmp = mkdtemp(tmpl);
    std::string path = tmp + "/t.split";
    write_split(*dir, path);
    auto bytes = open_mmap(path)->read(0, open_mmap(path)->size());
    std::vector<uint8_t> copy(bytes.data(), bytes.data() + bytes.size());
    ::unlink(path.c_str());
    ::rmdir(tmp.c_str());
    split = Split::open(memory_reader(Bytes::from_vector(std::move(copy)), "diff.split"));
    searcher = std::make_unique<Searcher>(Searcher::for_split(split));
  } else {
    OpenOptions oo;
    auto segs = open_segments(directory_lookup(*dir), meta, oo);
    searcher = std::make_unique<Searcher>(segs, schema, analyzers);
  }
  ref.idf_cache.clear();
  ref.avg_cache.clear();
  size_t alive = 0;
  for (const auto& r : ref.docs) alive += r.alive;
  ASSERT_EQ(searcher->num_docs(), alive);
  bool deleted_docs_remain = false;
  for (const auto& s : meta.segments) deleted_docs_remain |= s.num_deleted > 0;
  std::string label = "seed " + std::to_string(seed) + " segments " + std::to_string(meta.segments.size());
  check_queries(*searcher, ref, gen, 150, !deleted_docs_remain, label);
  check_root_semantics(*searcher, ref, gen, label);
}

TEST(Differential, OneThreadManySegments) { run_differential(1, 1500, 1, false, false, false); }
TEST(Differential, TwoThreadsThroughSplit) { run_differential(2, 1500, 2, true, false, false); }
TEST(Differential, ForceMergedSplit) { run_differential(3, 1200, 1, true, false, true); }
TEST(Differential, DeletesMatchSetsOnly) { run_differential(4, 1500, 1, false, true, false); }
TEST(Differential, DeletesThenForceMergeScores) { run_differential(5, 1500, 2, true, true, true); }

// The fast top-k paths (block-max over impacts for one term, MaxScore for unions, the direct
// loop and the bitset count for conjunctions of terms) against the exhaustive scores of every
// match, on long postings of common words in documents of very different lengths, where whole
// blocks are skipped.
TEST(Differential, SkippingTopKMatchesExhaustive) {
  Schema schema = Schema::from_json(R"({"fields":[{"name":"body","type":"text","record":"position"}]})");
  auto analyzers = analyzers_for(schema);
  std::shared_ptr<Directory> dir = new_ram_directory();
  IndexWriterOptions opts;
  opts.num_threads = 1;
  auto writer = IndexWriter::create(dir, schema, opts);
  DocumentParser parser(schema);
  std::mt19937_64 rng(77);
  const char* words[] = {"aa", "bb", "cc", "dd", "ee", "ff", "gg"};
  const double weights[] = {0.4, 0.25, 0.15, 0.1, 0.07, 0.03, 0.001};
  std::discrete_distribution<int> pick_word(std::begin(weights), std::end(weights));
  for (int i = 0; i < 6000; ++i) {
    const size_t len = 1 + rng() % (rng() % 4 == 0 ? 400 : 30);
    std::string text;
    for (size_t w = 0; w < len; ++w) {
      text += words[pick_word(rng)];
      text += ' ';
    }
    writer->add_document(parser.parse("{\"body\":\"" + text + "\"}"));
  }
  writer->commit();
  writer->force_merge();
  auto segs = open_segments(directory_lookup(*dir), writer->committed(), OpenOptions{});
  Searcher searcher(segs, schema, analyzers);
  QueryOptions qo;
  qo.default_fields.push_back("body");
  for (const char* text :
       {"aa", "ff", "+aa +bb", "+bb +ee", "+aa +cc +ff", "+ee +ff", "aa ff", "cc dd ee", "+gg +aa", "+aa +gg +ff",
        "+aa +bb +cc +dd +ee", "+aa +aa +bb", "+ff +ee^3", "+aa -ff", "+ff -gg -ee", "+aa +bb -cc", "+aa bb",
        "+ff aa bb", "+gg ee ff", "+ee +ff aa -gg", "gg ff", "aa ee^2 ff", "\"aa bb\"", "\"aa aa\"", "\"bb aa cc\"",
        "\"ee ff\"", "\"aa bb aa\"", "+\"aa bb\" +cc", "+ee aa ff", "+ff^2 aa", "aa^3 bb cc dd ee ff", "+aa -bb",
        "+cc -ff -ee", "+bb cc -dd", "+ff -aa", "aa^0 ff", "(bb cc)^0"}) {
    QueryPtr q = searcher.parse(text, qo);
    std::vector<float> all;
    std::vector<Hit> hits;
    searcher.for_each(*q, [&](const Hit& h) { hits.push_back(h); });
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
      return a.score != b.score ? a.score > b.score : a.global_doc < b.global_doc;
    });
    for (const Hit& h : hits) all.push_back(h.score);
    // A rank whose score is apart from its neighbours' must hold the same document in every path.
    auto apart = [&](size_t i) {
      const float eps = 1e-5f * std::max(1.0f, all[i]);
      return (i == 0 || all[i - 1] - all[i] > eps) && (i + 1 >= all.size() || all[i] - all[i + 1] > eps);
    };
    for (size_t k : {1, 7, 10, 100, 300, 1000, 2000}) {
      auto fast = searcher.top_k(*q, k);
      auto counted = searcher.top_k_with_count(*q, k);
      ASSERT_EQ(fast.size(), std::min(k, all.size())) << text;
      ASSERT_EQ(counted.count, all.size()) << text;
      ASSERT_EQ(searcher.count(*q), all.size()) << text;
      for (size_t i = 0; i < fast.size(); ++i) {
        ASSERT_NEAR(fast[i].score, all[i], 1e-5 * std::max(1.0f, all[i])) << text << " k " << k << " rank " << i;
        ASSERT_NEAR(counted.hits[i].score, all[i], 1e-5 * std::max(1.0f, all[i])) << text << " k " << k;
        if (apart(i)) {
          ASSERT_EQ(fast[i].global_doc, hits[i].global_doc) << text << " k " << k << " rank " << i;
          ASSERT_EQ(counted.hits[i].global_doc, hits[i].global_doc) << text << " k " << k << " rank " << i;
        }
      }
    }
  }
}

}  // namespace
}  // namespace needle
