#include "needle/schema/json.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "json_internal.h"
#include "needle/common/bytes.h"
#include "needle/common/error.h"
#include "needle/schema/value.h"

namespace needle {

// ---- numbers ------------------------------------------------------------------------------------

JsonNumber json_number_from_i64(int64_t v) { return JsonNumber{true, v, 0}; }

JsonNumber json_number_from_double(double v) {
  // [-2^63, 2^63) holds exactly the doubles that convert to int64 without overflow.
  constexpr double kTwo63 = 9223372036854775808.0;
  if (std::isfinite(v) && v >= -kTwo63 && v < kTwo63 && std::trunc(v) == v) {
    return JsonNumber{true, static_cast<int64_t>(v), 0};
  }
  return JsonNumber{false, 0, v};
}

JsonNumber json_number_from_u64(uint64_t v) {
  if (v <= static_cast<uint64_t>(INT64_MAX)) return JsonNumber{true, static_cast<int64_t>(v), 0};
  return JsonNumber{false, 0, static_cast<double>(v)};
}

std::optional<JsonNumber> parse_json_number(std::string_view t) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  if (t.empty()) return std::nullopt;
  // Only the characters of a decimal number (from_chars would also read "inf" and "nan").
  for (char c : t) {
    if (!((c >= '0' && c <= '9') || c == '-' || c == '.' || c == 'e' || c == 'E' || c == '+')) return std::nullopt;
  }
  const char* end = t.data() + t.size();
  int64_t i;
  auto [pi, ei] = std::from_chars(t.data(), end, i);
  if (ei == std::errc() && pi == end) return json_number_from_i64(i);
  uint64_t u;
  auto [pu, eu] = std::from_chars(t.data(), end, u);
  if (eu == std::errc() && pu == end) return json_number_from_u64(u);
  double d;
  auto [pd, ed] = std::from_chars(t.data(), end, d);
  if (ed != std::errc() || pd != end || !std::isfinite(d)) return std::nullopt;
  return json_number_from_double(d);
}

// ---- terms --------------------------------------------------------------------------------------

std::string json_term_prefix(std::string_view path, JsonType type) {
  std::string out;
  out.reserve(path.size() + 2 + 8);
  out.append(path);
  out.push_back(kJsonPathEnd);
  out.push_back(static_cast<char>(type));
  return out;
}

std::string json_string_term(std::string_view path, std::string_view token) {
  std::string out = json_term_prefix(path, JsonType::kString);
  out.append(token);
  return out;
}

std::string json_number_term(std::string_view path, const JsonNumber& n) {
  if (n.is_int) return json_term_prefix(path, JsonType::kI64) + encode_term_value(FieldType::kI64, Value(n.i));
  return json_term_prefix(path, JsonType::kF64) + encode_term_value(FieldType::kF64, Value(n.f));
}

std::string json_bool_term(std::string_view path, bool b) {
  std::string out = json_term_prefix(path, JsonType::kBool);
  out.push_back(b ? 1 : 0);
  return out;
}

std::optional<JsonTermParts> split_json_term(std::string_view term) {
  size_t end = term.find(kJsonPathEnd);
  if (end == std::string_view::npos || end + 1 >= term.size()) return std::nullopt;
  auto type = static_cast<JsonType>(static_cast<uint8_t>(term[end + 1]));
  if (type != JsonType::kString && type != JsonType::kI64 && type != JsonType::kF64 && type != JsonType::kBool) {
    return std::nullopt;
  }
  return JsonTermParts{term.substr(0, end), type, term.substr(end + 2)};
}

std::string json_term_to_string(std::string_view term) {
  auto parts = split_json_term(term);
  if (!parts) return "<bad json term>";
  std::string out(parts->path);
  out += '=';
  switch (parts->type) {
    case JsonType::kString: out.append(parts->value); break;
    case JsonType::kI64:
      if (parts->value.size() != 8) return out + "<bad i64>";
      append_value_json(out, decode_term_value(FieldType::kI64, parts->value));
      break;
    case JsonType::kF64:
      if (parts->value.size() != 8) return out + "<bad f64>";
      append_value_json(out, decode_term_value(FieldType::kF64, parts->value));
      break;
    case JsonType::kBool:
      if (parts->value.size() != 1) return out + "<bad bool>";
      out += parts->value[0] ? "true" : "false";
      break;
  }
  return out;
}

// ---- flattening ---------------------------------------------------------------------------------

namespace json_internal {

namespace {

[[noreturn]] void fail(const FieldEntry& f, std::string_view path, const std::string& what) {
  std::string where = path.empty() ? std::string() : " at path '" + std::string(path.substr(0, 200)) + "'";
  throw_error(ErrorCode::kDocument, "field '" + f.name + "' (json)" + where + ": " + what);
}

void walk(const FieldEntry& f, simdjson::dom::element e, std::string& path, size_t depth,
          std::vector<JsonLeaf>* out) {
  using T = simdjson::dom::element_type;
  if (depth > kMaxJsonDepth) fail(f, path, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  switch (e.type()) {
    case T::NULL_VALUE: return;
    case T::OBJECT: {
      const size_t base = path.size();
      simdjson::dom::object obj;
      if (e.get_object().get(obj)) fail(f, path, "internal: not an object");
      for (auto [key, value] : obj) {
        std::string_view k = key;
        if (k.empty() || k.front() == '.' || k.back() == '.' || k.find("..") != std::string_view::npos) {
          std::string shown;
          append_json_string(shown, k.substr(0, 200));
          fail(f, path, "key " + shown + " makes an empty path segment (keys are split at '.')");
        }
        if (k.find('\0') != std::string_view::npos) fail(f, path, "a key holds a NUL character");
        if (base) path.push_back('.');
        path.append(k);
        if (path.size() > kMaxJsonPathBytes) {
          fail(f, path, "the path is longer than " + std::to_string(kMaxJsonPathBytes) + " bytes");
        }
        walk(f, value, path, depth + 1, out);
        path.resize(base);
      }
      return;
    }
    case T::ARRAY: {
      simdjson::dom::array arr;
      if (e.get_array().get(arr)) fail(f, path, "internal: not an array");
      for (auto item : arr) walk(f, item, path, depth + 1, out);
      return;
    }
    default: break;
  }
  // A scalar: a leaf at `path` (the empty path for a scalar at the root or in a root array).
  if (out == nullptr) return;
  JsonLeaf leaf;
  leaf.path = path;
  switch (e.type()) {
    case T::STRING:
      leaf.type = JsonType::kString;
      leaf.value = std::string(e.get_string().value_unsafe());
      break;
    case T::BOOL:
      leaf.type = JsonType::kBool;
      leaf.value.assign(1, e.get_bool().value_unsafe() ? 1 : 0);
      break;
    default: {
      JsonNumber n = e.type() == T::INT64    ? json_number_from_i64(e.get_int64().value_unsafe())
                     : e.type() == T::UINT64 ? json_number_from_u64(e.get_uint64().value_unsafe())
                                             : json_number_from_double(e.get_double().value_unsafe());
      std::string term = json_number_term("", n);  // 0x00, type, value
      leaf.type = n.is_int ? JsonType::kI64 : JsonType::kF64;
      leaf.value = term.substr(2);
      break;
    }
  }
  out->push_back(std::move(leaf));
}

}  // namespace

void flatten_element(const FieldEntry& field, simdjson::dom::element e, std::vector<JsonLeaf>* out) {
  std::string path;
  walk(field, e, path, 0, out);
}

}  // namespace json_internal

struct JsonFlattener::Impl {
  simdjson::dom::parser parser;
  simdjson::padded_string buf;
};

JsonFlattener::JsonFlattener() : impl_(std::make_unique<Impl>()) {}
JsonFlattener::~JsonFlattener() = default;

void JsonFlattener::flatten(const FieldEntry& field, std::string_view json, std::vector<JsonLeaf>& out) {
  impl_->buf = simdjson::padded_string(json);
  simdjson::dom::element root;
  if (auto err = impl_->parser.parse(impl_->buf).get(root)) {
    throw_error(ErrorCode::kDocument, "field '" + field.name + "' (json): not valid JSON: " + simdjson::error_message(err));
  }
  json_internal::flatten_element(field, root, &out);
}

std::string JsonFlattener::canonical(const FieldEntry& field, std::string_view json) {
  impl_->buf = simdjson::padded_string(json);
  simdjson::dom::element root;
  if (auto err = impl_->parser.parse(impl_->buf).get(root)) {
    throw_error(ErrorCode::kDocument, "field '" + field.name + "' (json): not valid JSON: " + simdjson::error_message(err));
  }
  json_internal::flatten_element(field, root, nullptr);
  return simdjson::minify(root);
}

}  // namespace needle
