// json fields: flattening a JSON value into (dotted path, typed leaf) pairs and the term encoding
// of a leaf. docs/format/schema.md ("json fields") is the specification.
//
// A leaf's term (the bytes after the 2-byte field id of the key) is
//     path bytes | 0x00 | type byte | value bytes
// where the path is the keys from the field root joined by '.' (empty for a leaf at the root: a
// value that is a scalar, or the scalars of a value that is an array), the type byte is one of JsonType,
// and the value bytes are the existing encoding of that type (string tokens: UTF-8 as the field's
// analyzer made them; i64: big-endian of v XOR 2^63; f64: the order-preserving 8 bytes; bool: 0/1).
// 0x00 cannot occur in a path (keys with NUL are rejected), so `path 0x00` never prefixes a term
// of another path (the root's terms start with 0x00, every other path's with a key byte), and
// terms of one path and type are contiguous and ordered by value.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "needle/schema/schema.h"
#include "needle/schema/value.h"

namespace needle {

enum class JsonType : uint8_t {
  kString = 's',  // one term per token of the field's analyzer
  kI64 = 'i',     // integers (and integral numbers like 3.0) in the i64 range
  kF64 = 'f',     // every other number
  kBool = 'b',
};

inline constexpr char kJsonPathEnd = '\0';
// The longest path (bytes, dots included) a json leaf may have.
inline constexpr size_t kMaxJsonPathBytes = 1024;
// The deepest nesting of objects and arrays inside a json value.
inline constexpr size_t kMaxJsonDepth = 64;

// A number as a json leaf holds it: `is_int` (the value is i) or not (the value is f).
// The rule: a number whose value is an integer in [-2^63, 2^63) is an i64, whatever its spelling
// (3, 3.0, 3e0, -0.0 are the i64 3 / 0); every other number (non-integers, and integers outside
// the i64 range, rounded to the nearest double as JSON parsing does) is an f64. So a number has
// one encoding, and the query `3` matches 3 and 3.0.
struct JsonNumber {
  bool is_int = true;
  int64_t i = 0;
  double f = 0;
};
JsonNumber json_number_from_double(double v);
JsonNumber json_number_from_i64(int64_t v);
JsonNumber json_number_from_u64(uint64_t v);
// Query text as a number (an optional sign, digits, fraction, exponent; no spaces, no NaN or
// infinities); nullopt when it is not one.
std::optional<JsonNumber> parse_json_number(std::string_view text);

// `path 0x00 type`: what every term of one path and type starts with.
std::string json_term_prefix(std::string_view path, JsonType type);
std::string json_string_term(std::string_view path, std::string_view token);
std::string json_number_term(std::string_view path, const JsonNumber& n);
std::string json_bool_term(std::string_view path, bool b);

// A term split into its parts; nullopt when it has no 0x00 or no type byte.
struct JsonTermParts {
  std::string_view path;
  JsonType type;
  std::string_view value;
};
std::optional<JsonTermParts> split_json_term(std::string_view term);
// Debug form: path=value (strings as they are, numbers and booleans as JSON).
std::string json_term_to_string(std::string_view term);

// One leaf of a json value. `value` is the text of a string leaf, or the encoded value bytes of a
// number or boolean leaf.
struct JsonLeaf {
  std::string path;
  JsonType type = JsonType::kString;
  std::string value;
};

// Parses json values (any JSON value: object, array, string, number, boolean, null) and lists
// their leaves in document order. An object's leaves are at their key paths; a scalar at the root,
// or inside arrays at the root, is a leaf at the empty path; arrays give several leaves at one
// path, at any depth; null and empty arrays or objects give none. Keys containing '.' are split at
// the dots: {"a.b":1} is the same leaf as {"a":{"b":1}}. Text that is not JSON, a key that is
// empty, starts or ends with '.', holds ".." or a NUL byte, a path longer than kMaxJsonPathBytes,
// or nesting deeper than kMaxJsonDepth throws Error(kDocument) naming the field and the path.
// Not thread-safe: one per thread.
class JsonFlattener {
 public:
  JsonFlattener();
  ~JsonFlattener();
  JsonFlattener(const JsonFlattener&) = delete;
  JsonFlattener& operator=(const JsonFlattener&) = delete;
  // Appends the leaves of `json` (the JSON text of one value) to `out`.
  void flatten(const FieldEntry& field, std::string_view json, std::vector<JsonLeaf>& out);
  // Checks `json` (the JSON text of one value) as flatten does and returns its canonical
  // (minified) form.
  std::string canonical(const FieldEntry& field, std::string_view json);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace needle
