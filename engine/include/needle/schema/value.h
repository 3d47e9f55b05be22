// Typed field values, their parsing from text, and their encoding as index terms.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "needle/schema/schema.h"

namespace needle {

struct Timestamp {
  int64_t micros = 0;
  bool operator==(const Timestamp&) const = default;
  auto operator<=>(const Timestamp&) const = default;
};

struct IpAddr {
  std::array<uint8_t, 16> bytes{};  // IPv6 network order; IPv4 as ::ffff:a.b.c.d
  bool operator==(const IpAddr&) const = default;
  auto operator<=>(const IpAddr&) const = default;
};

struct BytesValue {
  std::vector<uint8_t> data;
  bool operator==(const BytesValue&) const = default;
};

// A json field's value: one JSON value (object, array, scalar) in canonical (minified) form; see
// schema/json.h.
struct JsonValue {
  std::string json;
  bool operator==(const JsonValue&) const = default;
};

// text and string fields hold std::string.
using Value = std::variant<std::string, int64_t, uint64_t, double, bool, Timestamp, BytesValue, IpAddr, JsonValue>;

// Parsers for the text forms used in JSON documents and queries. Return nullopt when malformed.
std::optional<Timestamp> parse_rfc3339(std::string_view s);
std::string format_rfc3339(Timestamp t);  // e.g. 2024-01-02T03:04:05.123456Z (fraction only if any)
std::optional<IpAddr> parse_ip(std::string_view s);
std::string format_ip(const IpAddr& ip);  // IPv4-mapped addresses print as dotted quads
// An IPv4 or IPv6 CIDR block "a.b.c.d/n" or "x::/n" as an inclusive range.
std::optional<std::pair<IpAddr, IpAddr>> parse_cidr(std::string_view s);
std::optional<std::vector<uint8_t>> base64_decode(std::string_view s);
std::string base64_encode(std::span<const uint8_t> data);

// Parses `text` as a value of a non-text field type (query terms, range bounds). Throws
// Error(kQuery) naming `field_name` when the text is not a valid value of that type (always for
// json fields, whose terms are made by schema/json.h).
Value parse_value_text(FieldType type, std::string_view text, std::string_view field_name);

// Term encoding: the bytes of a value in the term dictionary, ordered as the values are.
//   string/text: UTF-8 bytes; i64 and timestamp: big-endian of (v XOR 2^63); u64: big-endian;
//   f64: big-endian of the order-preserving bit transform; bool: one byte 0/1; bytes: raw;
//   ip: the 16 bytes. json terms are made by schema/json.h (json_*_term); kJson throws kInternal.
std::string encode_term_value(FieldType type, const Value& v);
// Inverse, for min/max display and tests.
Value decode_term_value(FieldType type, std::string_view term);

uint64_t f64_to_sortable(double v);
double sortable_to_f64(uint64_t v);

// The term-dictionary key of a term: the field id as 2 big-endian bytes, then the term bytes.
// Field id 0xFFFF is reserved: key 0xFFFF + field id (2 bytes BE) lists the documents in which
// that field has at least one indexed value ("exists" lists).
constexpr uint16_t kExistsFieldId = 0xFFFF;
std::string term_key(uint16_t field, std::string_view term);
std::string exists_key(uint16_t field);

// A value as JSON (for search results): strings quoted and escaped, timestamps RFC 3339, ips as
// text, bytes as base64, json values as their canonical JSON text.
void append_value_json(std::string& out, const Value& v);
void append_json_string(std::string& out, std::string_view s);

}  // namespace needle
