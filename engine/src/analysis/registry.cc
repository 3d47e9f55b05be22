// The analyzer registry: built-in analyzers and custom analyzers defined in JSON.
// The JSON syntax is documented in docs/format/analysis.md.

#include <simdjson.h>

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <set>

#include "analysis_internal.h"

namespace needle {

using analysis::ChainAnalyzer;
using analysis::TokenFilter;
using analysis::Tokenizer;

namespace {

constexpr uint32_t kMaxNgram = 255;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ", ";
    s += x;
  }
  return s;
}

std::string join(std::initializer_list<std::string_view> v) {
  std::string s;
  for (auto x : v) {
    if (!s.empty()) s += ", ";
    s += x;
  }
  return s;
}

std::string_view type_name(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY: return "an array";
    case T::OBJECT: return "an object";
    case T::INT64:
    case T::UINT64: return "an integer";
    case T::DOUBLE: return "a number";
    case T::STRING: return "a string";
    case T::BOOL: return "a boolean";
    case T::NULL_VALUE: return "null";
  }
  return "a value";
}

// Builds one custom analyzer; every error names the analyzer.
class CustomParser {
 public:
  explicit CustomParser(const std::string& name) : name_(name) {}

  std::unique_ptr<Analyzer> parse(std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(json);
    simdjson::dom::element root;
    if (auto err = parser.parse(padded).get(root)) {
      fail(std::string("invalid JSON: ") + simdjson::error_message(err));
    }
    simdjson::dom::object obj = as_object(root, "the definition");
    check_keys(obj, "the definition", {"tokenizer", "filters"});

    simdjson::dom::element tok;
    if (obj.at_key("tokenizer").get(tok)) fail("missing \"tokenizer\"");
    std::unique_ptr<Tokenizer> tokenizer = parse_tokenizer(tok);

    std::vector<std::unique_ptr<TokenFilter>> filters;
    simdjson::dom::element fl;
    if (!obj.at_key("filters").get(fl)) {
      simdjson::dom::array arr;
      if (fl.get_array().get(arr)) {
        fail(std::string("\"filters\" must be an array, not ") + std::string(type_name(fl.type())));
      }
      size_t i = 0;
      for (simdjson::dom::element f : arr) filters.push_back(parse_filter(f, i++));
    }
    return std::make_unique<ChainAnalyzer>(std::move(tokenizer), std::move(filters));
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw_error(ErrorCode::kSchema, "analyzer '" + name_ + "': " + what);
  }

  simdjson::dom::object as_object(simdjson::dom::element e, const std::string& ctx) const {
    simdjson::dom::object obj;
    if (e.get_object().get(obj)) {
      fail(ctx + " must be a JSON object, not " + std::string(type_name(e.type())));
    }
    return obj;
  }

  void check_keys(simdjson::dom::object obj, const std::string& ctx,
                  std::initializer_list<std::string_view> known) const {
    std::set<std::string_view> seen;
    for (auto field : obj) {
      if (!seen.insert(field.key).second) {
        fail(ctx + ": duplicate key \"" + std::string(field.key) + "\"");
      }
      bool ok = false;
      for (auto k : known) ok = ok || k == field.key;
      if (!ok) {
        fail(ctx + ": unknown key \"" + std::string(field.key) + "\" (known: " + join(known) +
             ")");
      }
    }
  }

  // A component is either "name" (shorthand for {"type": "name"}) or an object with "type".
  // Returns the type and sets *obj when it is an object.
  std::string component_type(simdjson::dom::element e, const std::string& ctx,
                             std::optional<simdjson::dom::object>* obj) const {
    std::string_view s;
    if (!e.get_string().get(s)) return std::string(s);
    simdjson::dom::object o;
    if (e.get_object().get(o)) {
      fail(ctx + " must be a string or a JSON object, not " + std::string(type_name(e.type())));
    }
    simdjson::dom::element t;
    if (o.at_key("type").get(t)) fail(ctx + ": missing \"type\"");
    if (t.get_string().get(s)) fail(ctx + ": \"type\" must be a string");
    *obj = o;
    return std::string(s);
  }

  std::optional<uint32_t> opt_uint(simdjson::dom::object obj, std::string_view key,
                                   const std::string& ctx, uint32_t min, uint32_t max) const {
    simdjson::dom::element e;
    if (obj.at_key(key).get(e)) return std::nullopt;
    int64_t i;
    uint64_t u;
    bool range_ok;
    uint64_t v = 0;
    if (!e.get_int64().get(i)) {
      range_ok = i >= static_cast<int64_t>(min) && i <= static_cast<int64_t>(max);
      v = static_cast<uint64_t>(i);
    } else if (!e.get_uint64().get(u)) {
      range_ok = false;
    } else {
      fail(ctx + ": \"" + std::string(key) + "\" must be an integer, not " +
           std::string(type_name(e.type())));
    }
    if (!range_ok) {
      fail(ctx + ": \"" + std::string(key) + "\" must be between " + std::to_string(min) +
           " and " + std::to_string(max));
    }
    return static_cast<uint32_t>(v);
  }

  uint32_t req_uint(simdjson::dom::object obj, std::string_view key, const std::string& ctx,
                    uint32_t min, uint32_t max) const {
    auto v = opt_uint(obj, key, ctx, min, max);
    if (!v) fail(ctx + ": missing \"" + std::string(key) + "\"");
    return *v;
  }

  bool opt_bool(simdjson::dom::object obj, std::string_view key, const std::string& ctx,
                bool dflt) const {
    simdjson::dom::element e;
    if (obj.at_key(key).get(e)) return dflt;
    bool b;
    if (e.get_bool().get(b)) {
      fail(ctx + ": \"" + std::string(key) + "\" must be a boolean, not " +
           std::string(type_name(e.type())));
    }
    return b;
  }

  std::optional<std::string> opt_string(simdjson::dom::object obj, std::string_view key,
                                        const std::string& ctx) const {
    simdjson::dom::element e;
    if (obj.at_key(key).get(e)) return std::nullopt;
    std::string_view s;
    if (e.get_string().get(s)) {
      fail(ctx + ": \"" + std::string(key) + "\" must be a string, not " +
           std::string(type_name(e.type())));
    }
    return std::string(s);
  }

  struct NgramParams {
    uint32_t min_gram, max_gram;
    bool prefix_only;
  };

  NgramParams parse_ngram(const std::optional<simdjson::dom::object>& obj,
                          const std::string& ctx) const {
    if (!obj) fail(ctx + ": ngram needs an object with \"min_gram\" and \"max_gram\"");
    check_keys(*obj, ctx, {"type", "min_gram", "max_gram", "prefix_only"});
    NgramParams p;
    p.min_gram = req_uint(*obj, "min_gram", ctx, 1, kMaxNgram);
    p.max_gram = req_uint(*obj, "max_gram", ctx, 1, kMaxNgram);
    if (p.max_gram < p.min_gram) {
      fail(ctx + ": \"max_gram\" (" + std::to_string(p.max_gram) + ") is less than \"min_gram\" (" +
           std::to_string(p.min_gram) + ")");
    }
    p.prefix_only = opt_bool(*obj, "prefix_only", ctx, false);
    return p;
  }

  std::unique_ptr<Tokenizer> parse_tokenizer(simdjson::dom::element e) const {
    const std::string ctx = "tokenizer";
    std::optional<simdjson::dom::object> obj;
    std::string type = component_type(e, ctx, &obj);
    const std::string tctx = ctx + " '" + type + "'";
    if (type == "ngram") {
      NgramParams p = parse_ngram(obj, tctx);
      return analysis::make_ngram_tokenizer(p.min_gram, p.max_gram, p.prefix_only);
    }
    if (obj) check_keys(*obj, tctx, {"type"});
    if (type == "default" || type == "simple") return analysis::make_simple_tokenizer();
    if (type == "standard") return analysis::make_standard_tokenizer();
    if (type == "raw") return analysis::make_raw_tokenizer();
    if (type == "whitespace") return analysis::make_whitespace_tokenizer();
    fail("unknown tokenizer type '" + type +
         "' (known: default, simple, standard, raw, whitespace, ngram)");
  }

  std::unique_ptr<TokenFilter> parse_filter(simdjson::dom::element e, size_t index) const {
    const std::string ctx = "filter #" + std::to_string(index);
    std::optional<simdjson::dom::object> obj;
    std::string type = component_type(e, ctx, &obj);
    const std::string tctx = ctx + " '" + type + "'";
    if (type == "lowercase" || type == "ascii_folding") {
      if (obj) check_keys(*obj, tctx, {"type"});
      return type == "lowercase" ? analysis::make_lowercase_filter()
                                 : analysis::make_ascii_folding_filter();
    }
    if (type == "remove_long") {
      uint32_t limit = kDefaultMaxTokenBytes;
      if (obj) {
        check_keys(*obj, tctx, {"type", "limit"});
        limit = opt_uint(*obj, "limit", tctx, 1, UINT32_MAX).value_or(kDefaultMaxTokenBytes);
      }
      return analysis::make_remove_long_filter(limit);
    }
    if (type == "stop") {
      if (!obj) fail(tctx + ": needs an object with \"language\" or \"words\"");
      check_keys(*obj, tctx, {"type", "language", "words"});
      auto lang = opt_string(*obj, "language", tctx);
      simdjson::dom::element words_el;
      bool has_words = !obj->at_key("words").get(words_el);
      if (lang && has_words) fail(tctx + ": give either \"language\" or \"words\", not both");
      if (lang) {
        const auto* list = analysis::builtin_stop_words(*lang);
        if (!list) {
          fail(tctx + ": no built-in stop word list for language '" + *lang +
               "' (known: " + join(analysis::builtin_stop_languages()) +
               "); give the list in \"words\"");
        }
        return analysis::make_stop_filter(*list);
      }
      if (!has_words) fail(tctx + ": missing \"language\" or \"words\"");
      simdjson::dom::array arr;
      if (words_el.get_array().get(arr)) {
        fail(tctx + ": \"words\" must be an array of strings, not " +
             std::string(type_name(words_el.type())));
      }
      std::vector<std::string> words;
      for (simdjson::dom::element w : arr) {
        std::string_view s;
        if (w.get_string().get(s)) {
          fail(tctx + ": \"words\" must be an array of strings; found " +
               std::string(type_name(w.type())));
        }
        words.emplace_back(s);
      }
      return analysis::make_stop_filter(std::move(words));
    }
    if (type == "stemmer") {
      if (!obj) fail(tctx + ": needs an object with \"language\"");
      check_keys(*obj, tctx, {"type", "language"});
      auto lang = opt_string(*obj, "language", tctx);
      if (!lang) fail(tctx + ": missing \"language\"");
      const auto& langs = analysis::stemmer_languages();
      if (std::find(langs.begin(), langs.end(), *lang) == langs.end()) {
        fail(tctx + ": unknown stemmer language '" + *lang + "' (known: " + join(langs) + ")");
      }
      return analysis::make_stemmer_filter(*lang);
    }
    if (type == "ngram") {
      NgramParams p = parse_ngram(obj, tctx);
      return analysis::make_ngram_filter(p.min_gram, p.max_gram, p.prefix_only);
    }
    fail(ctx + ": unknown filter type '" + type +
         "' (known: lowercase, ascii_folding, remove_long, stop, stemmer, ngram)");
  }

  const std::string& name_;
};

std::shared_ptr<const Analyzer> chain(std::unique_ptr<Tokenizer> tok,
                                      std::vector<std::unique_ptr<TokenFilter>> filters) {
  return std::make_shared<ChainAnalyzer>(std::move(tok), std::move(filters));
}

template <typename... F>
std::vector<std::unique_ptr<TokenFilter>> filters(F... f) {
  std::vector<std::unique_ptr<TokenFilter>> v;
  (v.push_back(std::move(f)), ...);
  return v;
}

const std::map<std::string, std::shared_ptr<const Analyzer>, std::less<>>& builtins() {
  static const auto* map = [] {
    using namespace analysis;
    auto* m = new std::map<std::string, std::shared_ptr<const Analyzer>, std::less<>>();
    // default and en_stem: simple -> remove_long -> lowercase, fused into one pass (the same
    // tokens; analysis_tokenizers_test compares the two).
    (*m)["default"] = chain(make_simple_lowercase_tokenizer(kDefaultMaxTokenBytes), {});
    (*m)["standard"] =
        chain(make_standard_tokenizer(),
              filters(make_remove_long_filter(kDefaultMaxTokenBytes), make_lowercase_filter()));
    (*m)["raw"] = chain(make_raw_tokenizer(), {});
    (*m)["whitespace"] = chain(make_whitespace_tokenizer(), {});
    (*m)["en_stem"] = chain(make_simple_lowercase_tokenizer(kDefaultMaxTokenBytes),
                            filters(make_stemmer_filter("english")));
    (*m)["lowercase"] = chain(make_raw_tokenizer(), filters(make_lowercase_filter()));
    return m;
  }();
  return *map;
}

}  // namespace

AnalyzerRegistry AnalyzerRegistry::with_builtins() {
  AnalyzerRegistry r;
  r.analyzers_ = builtins();
  return r;
}

void AnalyzerRegistry::validate_custom(const std::string& name, std::string_view json_definition) {
  if (name.empty()) throw_error(ErrorCode::kSchema, "analyzer name must not be empty");
  CustomParser(name).parse(json_definition);
}

void AnalyzerRegistry::add_custom(const std::string& name, std::string_view json_definition) {
  if (name.empty()) throw_error(ErrorCode::kSchema, "analyzer name must not be empty");
  if (contains(name)) {
    throw_error(ErrorCode::kSchema, "analyzer '" + name + "' is already defined");
  }
  std::shared_ptr<const Analyzer> a = CustomParser(name).parse(json_definition);
  analyzers_.emplace(name, std::move(a));
}

void AnalyzerRegistry::add(const std::string& name, std::shared_ptr<const Analyzer> analyzer) {
  if (name.empty()) throw_error(ErrorCode::kSchema, "analyzer name must not be empty");
  if (!analyzer) throw_error(ErrorCode::kInvalidArgument, "analyzer '" + name + "' is null");
  if (contains(name)) {
    throw_error(ErrorCode::kSchema, "analyzer '" + name + "' is already defined");
  }
  analyzers_.emplace(name, std::move(analyzer));
}

std::shared_ptr<const Analyzer> AnalyzerRegistry::get(std::string_view name) const {
  auto it = analyzers_.find(name);
  if (it == analyzers_.end()) {
    throw_error(ErrorCode::kSchema,
                "unknown tokenizer '" + std::string(name) + "' (known: " + join(names()) + ")");
  }
  return it->second;
}

bool AnalyzerRegistry::contains(std::string_view name) const {
  return analyzers_.find(name) != analyzers_.end();
}

std::vector<std::string> AnalyzerRegistry::names() const {
  std::vector<std::string> v;
  v.reserve(analyzers_.size());
  for (const auto& [k, _] : analyzers_) v.push_back(k);
  return v;
}

}  // namespace needle
