#include "arrow_import.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "needle/common/error.h"
#include "needle/schema/json.h"
#include "needle/schema/value.h"

namespace needle::jni {
namespace {

using int128 = __int128;

enum class Kind {
  kNull, kBool, kInt, kFloat16, kFloat32, kFloat64, kUtf8, kLargeUtf8, kBinary, kLargeBinary,
  kFixedBinary, kDecimal128, kDate32, kDate64, kTimestamp, kList, kLargeList, kFixedList, kStruct,
  kUnsupported,
};

struct ArrowType {
  Kind kind = Kind::kUnsupported;
  int int_bytes = 0;       // kInt
  bool is_signed = true;   // kInt
  int64_t fixed_size = 0;  // kFixedBinary, kFixedList
  int scale = 0;           // kDecimal128
  int64_t ticks_per_second = 1;  // kTimestamp: 1, 10^3, 10^6, 10^9
  std::string timezone;          // kTimestamp
};

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

ArrowType parse_format(std::string_view f) {
  ArrowType t;
  auto integer = [&](int bytes, bool is_signed) {
    t.kind = Kind::kInt;
    t.int_bytes = bytes;
    t.is_signed = is_signed;
  };
  if (f.size() == 1) {
    switch (f[0]) {
      case 'n': t.kind = Kind::kNull; break;
      case 'b': t.kind = Kind::kBool; break;
      case 'c': integer(1, true); break;
      case 'C': integer(1, false); break;
      case 's': integer(2, true); break;
      case 'S': integer(2, false); break;
      case 'i': integer(4, true); break;
      case 'I': integer(4, false); break;
      case 'l': integer(8, true); break;
      case 'L': integer(8, false); break;
      case 'e': t.kind = Kind::kFloat16; break;
      case 'f': t.kind = Kind::kFloat32; break;
      case 'g': t.kind = Kind::kFloat64; break;
      case 'u': t.kind = Kind::kUtf8; break;
      case 'U': t.kind = Kind::kLargeUtf8; break;
      case 'z': t.kind = Kind::kBinary; break;
      case 'Z': t.kind = Kind::kLargeBinary; break;
      default: break;
    }
    return t;
  }
  if (f == "tdD") t.kind = Kind::kDate32;
  else if (f == "tdm") t.kind = Kind::kDate64;
  else if (f == "+l") t.kind = Kind::kList;
  else if (f == "+L") t.kind = Kind::kLargeList;
  else if (f == "+s") t.kind = Kind::kStruct;
  else if (f.starts_with("w:")) {
    auto n = parse_int(f.substr(2));
    if (n && *n >= 0) {
      t.kind = Kind::kFixedBinary;
      t.fixed_size = *n;
    }
  } else if (f.starts_with("+w:")) {
    auto n = parse_int(f.substr(3));
    if (n && *n >= 0) {
      t.kind = Kind::kFixedList;
      t.fixed_size = *n;
    }
  } else if (f.starts_with("d:")) {  // d:precision,scale[,bitwidth]
    std::string_view rest = f.substr(2);
    size_t c1 = rest.find(',');
    if (c1 != std::string_view::npos) {
      std::string_view after = rest.substr(c1 + 1);
      size_t c2 = after.find(',');
      auto scale = parse_int(after.substr(0, c2));
      bool is128 = c2 == std::string_view::npos || after.substr(c2 + 1) == "128";
      if (scale && is128 && *scale >= -76 && *scale <= 76 && parse_int(rest.substr(0, c1))) {
        t.kind = Kind::kDecimal128;
        t.scale = static_cast<int>(*scale);
      }
    }
  } else if (f.size() >= 4 && f.starts_with("ts") && f[3] == ':') {  // ts<unit>:<timezone>
    switch (f[2]) {
      case 's': t.ticks_per_second = 1; break;
      case 'm': t.ticks_per_second = 1000; break;
      case 'u': t.ticks_per_second = 1000000; break;
      case 'n': t.ticks_per_second = 1000000000; break;
      default: return t;
    }
    t.kind = Kind::kTimestamp;
    t.timezone = std::string(f.substr(4));
  }
  return t;
}

// A readable name of an Arrow type, for messages.
std::string type_name(const ArrowSchema& s) {
  std::string_view f = s.format != nullptr ? s.format : "";
  ArrowType t = parse_format(f);
  auto child = [&]() -> std::string {
    return s.n_children == 1 && s.children != nullptr && s.children[0] != nullptr ? type_name(*s.children[0]) : "?";
  };
  switch (t.kind) {
    case Kind::kNull: return "null";
    case Kind::kBool: return "bool";
    case Kind::kInt: return std::string(t.is_signed ? "int" : "uint") + std::to_string(t.int_bytes * 8);
    case Kind::kFloat16: return "float16";
    case Kind::kFloat32: return "float32";
    case Kind::kFloat64: return "float64";
    case Kind::kUtf8: return "utf8";
    case Kind::kLargeUtf8: return "large_utf8";
    case Kind::kBinary: return "binary";
    case Kind::kLargeBinary: return "large_binary";
    case Kind::kFixedBinary: return "fixed_size_binary[" + std::to_string(t.fixed_size) + "]";
    case Kind::kDecimal128: return "decimal128 (" + std::string(f.substr(2)) + ")";
    case Kind::kDate32: return "date32";
    case Kind::kDate64: return "date64";
    case Kind::kTimestamp: {
      static const char* units[] = {"s", "ms", "us", "ns"};
      int u = t.ticks_per_second == 1 ? 0 : t.ticks_per_second == 1000 ? 1 : t.ticks_per_second == 1000000 ? 2 : 3;
      return std::string("timestamp[") + units[u] + (t.timezone.empty() ? "" : ", tz=" + t.timezone) + "]";
    }
    case Kind::kList: return "list<" + child() + ">";
    case Kind::kLargeList: return "large_list<" + child() + ">";
    case Kind::kFixedList: return "fixed_size_list<" + child() + ">[" + std::to_string(t.fixed_size) + "]";
    case Kind::kStruct: return "struct";
    case Kind::kUnsupported: break;
  }
  return "'" + std::string(f) + "'";
}

bool integral(const ArrowType& t) {
  return t.kind == Kind::kInt || t.kind == Kind::kDate32 || t.kind == Kind::kDate64 ||
         t.kind == Kind::kTimestamp || (t.kind == Kind::kDecimal128 && t.scale == 0);
}
bool is_utf8(const ArrowType& t) { return t.kind == Kind::kUtf8 || t.kind == Kind::kLargeUtf8; }
bool is_binary(const ArrowType& t) {
  return t.kind == Kind::kBinary || t.kind == Kind::kLargeBinary || t.kind == Kind::kFixedBinary;
}
bool is_list(const ArrowType& t) {
  return t.kind == Kind::kList || t.kind == Kind::kLargeList || t.kind == Kind::kFixedList;
}

// Which Arrow types each field type accepts (the table in jni/README.md).
bool accepts(FieldType ft, const ArrowType& t) {
  if (t.kind == Kind::kNull) return true;  // all values null: nothing to index
  switch (ft) {
    case FieldType::kText:
    case FieldType::kString: return is_utf8(t) || t.kind == Kind::kDecimal128;
    case FieldType::kI64:
    case FieldType::kU64: return integral(t);
    case FieldType::kF64:
      return t.kind == Kind::kFloat16 || t.kind == Kind::kFloat32 || t.kind == Kind::kFloat64 ||
             t.kind == Kind::kInt || t.kind == Kind::kDecimal128;
    case FieldType::kBool: return t.kind == Kind::kBool;
    case FieldType::kTimestamp:
      return t.kind == Kind::kTimestamp || t.kind == Kind::kDate32 || t.kind == Kind::kDate64 ||
             t.kind == Kind::kInt || is_utf8(t);
    case FieldType::kBytes: return is_binary(t);
    case FieldType::kIp: return is_utf8(t) || is_binary(t);
    case FieldType::kJson: return is_utf8(t);  // JSON text of one value (any JSON value) a cell
  }
  return false;
}

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  auto cont = [&](size_t k) { return k < n && (b(k) & 0xC0) == 0x80; };
  while (i < n) {
    uint8_t c = b(i);
    if (c < 0x80) {
      ++i;
    } else if (c >= 0xC2 && c <= 0xDF) {
      if (!cont(i + 1)) return false;
      i += 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      if (!cont(i + 1) || !cont(i + 2)) return false;
      if (c == 0xE0 && b(i + 1) < 0xA0) return false;   // overlong
      if (c == 0xED && b(i + 1) >= 0xA0) return false;  // surrogate
      i += 3;
    } else if (c >= 0xF0 && c <= 0xF4) {
      if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return false;
      if (c == 0xF0 && b(i + 1) < 0x90) return false;   // overlong
      if (c == 0xF4 && b(i + 1) >= 0x90) return false;  // above U+10FFFF
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
  else v = std::ldexp(static_cast<float>(mant | 0x400u), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

std::string int128_text(int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u != 0) {
    s.push_back(static_cast<char>('0' + static_cast<int>(u % 10)));
    u /= 10;
  }
  if (neg) s.push_back('-');
  return std::string(s.rbegin(), s.rend());
}

// The exact decimal text of unscaled value `v` with `scale` digits after the point.
std::string decimal_text(int128 v, int scale) {
  std::string digits = int128_text(v);
  bool neg = !digits.empty() && digits[0] == '-';
  if (neg) digits.erase(0, 1);
  if (scale <= 0) {
    if (digits != "0") digits.append(static_cast<size_t>(-scale), '0');
  } else {
    if (digits.size() <= static_cast<size_t>(scale)) digits.insert(0, static_cast<size_t>(scale) - digits.size() + 1, '0');
    digits.insert(digits.size() - static_cast<size_t>(scale), 1, '.');
  }
  return neg ? "-" + digits : digits;
}

// One Arrow array (a column or a list's values) read for one field.
struct Column {
  std::string name;  // the column's name, for messages
  const FieldEntry* field = nullptr;
  const ArrowArray* array = nullptr;
  ArrowType type;
  std::string type_desc;
  std::unique_ptr<Column> values;  // lists: the child array

  [[noreturn]] void fail(int64_t row, const std::string& what) const {
    throw_error(ErrorCode::kDocument, "arrow column '" + name + "' (field '" + field->name + "', row " +
                                          std::to_string(row) + "): " + what);
  }

  const uint8_t* buffer(int i) const { return static_cast<const uint8_t*>(array->buffers[i]); }

  bool valid(int64_t j) const {
    if (type.kind == Kind::kNull) return false;
    const uint8_t* bits = array->n_buffers > 0 ? buffer(0) : nullptr;
    if (bits == nullptr) return true;
    return (bits[j >> 3] >> (j & 7)) & 1;
  }

  template <class T>
  T load(int buf, int64_t j) const {
    T v;
    std::memcpy(&v, buffer(buf) + j * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
  }

  std::string_view bytes_at(int64_t j, int64_t row) const {
    int64_t begin = 0, end = 0;
    if (type.kind == Kind::kUtf8 || type.kind == Kind::kBinary) {
      begin = load<int32_t>(1, j);
      end = load<int32_t>(1, j + 1);
    } else if (type.kind == Kind::kLargeUtf8 || type.kind == Kind::kLargeBinary) {
      begin = load<int64_t>(1, j);
      end = load<int64_t>(1, j + 1);
    } else {  // fixed size binary
      return {reinterpret_cast<const char*>(buffer(1)) + j * type.fixed_size, static_cast<size_t>(type.fixed_size)};
    }
    if (begin < 0 || end < begin) fail(row, "bad offsets " + std::to_string(begin) + ".." + std::to_string(end));
    if (end > begin && buffer(2) == nullptr) fail(row, "missing data buffer");
    return {reinterpret_cast<const char*>(buffer(2)) + begin, static_cast<size_t>(end - begin)};
  }

  // Integers, dates, timestamps (their stored number) and decimals (the unscaled number).
  int128 integer_at(int64_t j) const {
    switch (type.kind) {
      case Kind::kInt:
        switch (type.int_bytes) {
          case 1: return type.is_signed ? int128{load<int8_t>(1, j)} : int128{load<uint8_t>(1, j)};
          case 2: return type.is_signed ? int128{load<int16_t>(1, j)} : int128{load<uint16_t>(1, j)};
          case 4: return type.is_signed ? int128{load<int32_t>(1, j)} : int128{load<uint32_t>(1, j)};
          default: return type.is_signed ? int128{load<int64_t>(1, j)} : int128{load<uint64_t>(1, j)};
        }
      case Kind::kDate32: return load<int32_t>(1, j);
      case Kind::kDate64:
      case Kind::kTimestamp: return load<int64_t>(1, j);
      case Kind::kDecimal128: {
        uint64_t lo = load<uint64_t>(1, 2 * j);
        int64_t hi = load<int64_t>(1, 2 * j + 1);
        return static_cast<int128>((static_cast<unsigned __int128>(static_cast<uint64_t>(hi)) << 64) | lo);
      }
      default: return 0;
    }
  }

  int64_t micros_at(int64_t j, int64_t row) const {
    int128 v = integer_at(j);
    int128 us;
    switch (type.kind) {
      case Kind::kDate32: us = v * 86400 * 1000000; break;
      case Kind::kDate64: us = v * 1000; break;
      case Kind::kTimestamp: {
        if (type.ticks_per_second >= 1000000) {
          int128 d = type.ticks_per_second / 1000000;  // nanoseconds: floor to microseconds
          us = v / d - ((v % d) < 0 ? 1 : 0);
        } else {
          us = v * (1000000 / type.ticks_per_second);
        }
        break;
      }
      default: us = v; break;  // integers are microseconds, as in JSON documents
    }
    if (us < std::numeric_limits<int64_t>::min() || us > std::numeric_limits<int64_t>::max()) {
      fail(row, "timestamp out of range");
    }
    return static_cast<int64_t>(us);
  }

  Value convert(int64_t j, int64_t row) const {
    switch (field->type) {
      case FieldType::kText:
      case FieldType::kString: {
        if (type.kind == Kind::kDecimal128) return decimal_text(integer_at(j), type.scale);
        std::string_view s = bytes_at(j, row);
        if (!valid_utf8(s)) fail(row, "invalid UTF-8");
        return std::string(s);
      }
      case FieldType::kI64: {
        int128 v = integer_at(j);
        if (v < std::numeric_limits<int64_t>::min() || v > std::numeric_limits<int64_t>::max()) {
          fail(row, "value " + int128_text(v) + " is out of the i64 range");
        }
        return static_cast<int64_t>(v);
      }
      case FieldType::kU64: {
        int128 v = integer_at(j);
        if (v < 0 || v > static_cast<int128>(std::numeric_limits<uint64_t>::max())) {
          fail(row, "value " + int128_text(v) + " is out of the u64 range");
        }
        return static_cast<uint64_t>(v);
      }
      case FieldType::kF64:
        switch (type.kind) {
          case Kind::kFloat16: return static_cast<double>(half_to_float(load<uint16_t>(1, j)));
          case Kind::kFloat32: return static_cast<double>(load<float>(1, j));
          case Kind::kFloat64: return load<double>(1, j);
          case Kind::kDecimal128: {
            std::string text = decimal_text(integer_at(j), type.scale);
            return std::strtod(text.c_str(), nullptr);  // correctly rounded
          }
          default: return static_cast<double>(integer_at(j));
        }
      case FieldType::kBool: {
        const uint8_t* bits = buffer(1);
        return static_cast<bool>((bits[j >> 3] >> (j & 7)) & 1);
      }
      case FieldType::kTimestamp: {
        if (is_utf8(type)) {
          std::string_view s = bytes_at(j, row);
          auto ts = parse_rfc3339(s);
          if (!ts) fail(row, "'" + std::string(s.substr(0, 64)) + "' is not an RFC 3339 timestamp");
          return *ts;
        }
        return Timestamp{micros_at(j, row)};
      }
      case FieldType::kBytes: {
        std::string_view s = bytes_at(j, row);
        return BytesValue{std::vector<uint8_t>(s.begin(), s.end())};
      }
      case FieldType::kIp: {
        std::string_view s = bytes_at(j, row);
        if (is_utf8(type)) {
          auto ip = parse_ip(s);
          if (!ip) fail(row, "'" + std::string(s.substr(0, 64)) + "' is not an IP address");
          return *ip;
        }
        IpAddr ip;
        if (s.size() == 16) {
          std::memcpy(ip.bytes.data(), s.data(), 16);
        } else if (s.size() == 4) {
          ip.bytes[10] = 0xFF;
          ip.bytes[11] = 0xFF;
          std::memcpy(ip.bytes.data() + 12, s.data(), 4);
        } else {
          fail(row, "an IP address is 4 or 16 bytes, not " + std::to_string(s.size()));
        }
        return ip;
      }
      case FieldType::kJson: {
        std::string_view s = bytes_at(j, row);
        // Kept as written (number text included: a 38-digit decimal stays exact), after the
        // same checks as any json value.
        thread_local JsonFlattener flattener;
        thread_local std::vector<JsonLeaf> leaves;
        try {
          leaves.clear();
          flattener.flatten(*field, s, leaves);
          return JsonValue{std::string(s)};
        } catch (const Error& e) {
          fail(row, e.what());
        }
      }
    }
    fail(row, "unsupported field type");
  }

  // Appends the value(s) at index `index` of this array (the parent's offsets applied, not this
  // array's own offset) to `doc`.
  void append(int64_t index, int64_t row, Document& doc) const {
    if (index < 0 || index >= array->length) fail(row, "index " + std::to_string(index) + " outside the array");
    const int64_t j = array->offset + index;
    if (!valid(j)) return;
    if (!is_list(type)) {
      doc.values.push_back(FieldValue{field->id, convert(j, row)});
      return;
    }
    int64_t begin = 0, end = 0;
    if (type.kind == Kind::kList) {
      begin = load<int32_t>(1, j);
      end = load<int32_t>(1, j + 1);
    } else if (type.kind == Kind::kLargeList) {
      begin = load<int64_t>(1, j);
      end = load<int64_t>(1, j + 1);
    } else {
      begin = j * type.fixed_size;
      end = begin + type.fixed_size;
    }
    if (begin < 0 || end < begin || end > values->array->length) {
      fail(row, "list offsets " + std::to_string(begin) + ".." + std::to_string(end) + " outside the values (" +
                    std::to_string(values->array->length) + ")");
    }
    for (int64_t k = begin; k < end; ++k) values->append(k, row, doc);
  }
};

int64_t expected_buffers(Kind k) {
  switch (k) {
    case Kind::kNull: return 0;
    case Kind::kUtf8:
    case Kind::kLargeUtf8:
    case Kind::kBinary:
    case Kind::kLargeBinary: return 3;
    case Kind::kFixedList:
    case Kind::kStruct: return 1;
    default: return 2;
  }
}

// Checks the structure (buffer and child counts, present buffers) so reading cannot wander off.
void check_structure(const Column& c, const ArrowSchema& s, bool nested) {
  auto bad = [&](const std::string& what) {
    throw_error(ErrorCode::kDocument, "arrow column '" + c.name + "': malformed array: " + what);
  };
  const ArrowArray& a = *c.array;
  if (a.release == nullptr) bad("already released");
  if (a.length < 0 || a.offset < 0) bad("negative length or offset");
  if (a.dictionary != nullptr || s.dictionary != nullptr) {
    throw_error(ErrorCode::kDocument, "arrow column '" + c.name + "': dictionary-encoded columns are not supported");
  }
  const int64_t nb = expected_buffers(c.type.kind);
  if (c.type.kind != Kind::kNull && a.n_buffers != nb) {
    bad("type " + c.type_desc + " has " + std::to_string(nb) + " buffers, not " + std::to_string(a.n_buffers));
  }
  if (a.n_buffers > 0 && a.buffers == nullptr) bad("no buffer list");
  if (a.length > 0) {
    for (int64_t i = 1; i < nb; ++i) {
      // utf8/binary data may be absent when every value is empty; checked per value
      if (a.buffers[i] == nullptr && i != 2) bad("buffer " + std::to_string(i) + " is missing");
    }
  }
  if (is_list(c.type)) {
    if (a.n_children != 1 || a.children == nullptr || a.children[0] == nullptr || s.n_children != 1 ||
        s.children == nullptr || s.children[0] == nullptr) {
      bad("a list has one child");
    }
    if (nested) {
      throw_error(ErrorCode::kDocument, "arrow column '" + c.name + "': nested lists cannot be indexed");
    }
  }
}

std::unique_ptr<Column> make_column(const std::string& name, const FieldEntry& field, const ArrowSchema& s,
                                    const ArrowArray& a, bool nested) {
  auto c = std::make_unique<Column>();
  c->name = name;
  c->field = &field;
  c->array = &a;
  c->type = parse_format(s.format != nullptr ? s.format : "");
  c->type_desc = type_name(s);
  const ArrowType& elem = is_list(c->type) && s.n_children == 1 && s.children && s.children[0]
                              ? parse_format(s.children[0]->format ? s.children[0]->format : "")
                              : c->type;
  bool ok = is_list(c->type) ? !nested && !is_list(elem) && accepts(field.type, elem) : accepts(field.type, c->type);
  if (!ok) {
    throw_error(ErrorCode::kDocument, "arrow column '" + name + "': type " + c->type_desc +
                                          " cannot be indexed into field '" + field.name + "' of type " +
                                          std::string(field_type_name(field.type)));
  }
  check_structure(*c, s, nested);
  if (is_list(c->type)) c->values = make_column(name, field, *s.children[0], *a.children[0], true);
  return c;
}

}  // namespace

std::vector<Document> documents_from_arrow(const Schema& schema, const ArrowSchema& arrow_schema,
                                           const ArrowArray& batch, const ArrowImportOptions& options) {
  if (arrow_schema.release == nullptr || batch.release == nullptr) {
    throw_error(ErrorCode::kInvalidArgument, "arrow batch: the ArrowSchema or ArrowArray was already released");
  }
  if (arrow_schema.format == nullptr || std::string_view(arrow_schema.format) != "+s") {
    throw_error(ErrorCode::kInvalidArgument, std::string("arrow batch: expected a record batch (struct, format '+s'), not ") +
                                                 type_name(arrow_schema));
  }
  if (batch.n_children != arrow_schema.n_children || (batch.n_children > 0 && (batch.children == nullptr || arrow_schema.children == nullptr))) {
    throw_error(ErrorCode::kInvalidArgument, "arrow batch: the schema has " + std::to_string(arrow_schema.n_children) +
                                                 " columns but the array " + std::to_string(batch.n_children));
  }
  if (batch.length < 0 || batch.offset < 0) throw_error(ErrorCode::kInvalidArgument, "arrow batch: negative length or offset");

  std::vector<std::unique_ptr<Column>> columns;
  std::set<std::string> seen;
  for (int64_t i = 0; i < arrow_schema.n_children; ++i) {
    const ArrowSchema* cs = arrow_schema.children[i];
    const ArrowArray* ca = batch.children[i];
    if (cs == nullptr || ca == nullptr) throw_error(ErrorCode::kInvalidArgument, "arrow batch: a null column");
    std::string name = cs->name != nullptr ? cs->name : "";
    if (!seen.insert(name).second) throw_error(ErrorCode::kDocument, "arrow column '" + name + "' appears twice");
    const FieldEntry* field = schema.find(name);
    if (field == nullptr) {
      if (options.reject_unknown_columns) {
        throw_error(ErrorCode::kDocument, "arrow column '" + name + "' is not a field of the schema");
      }
      continue;
    }
    if (ca->length < batch.offset + batch.length) {
      throw_error(ErrorCode::kDocument, "arrow column '" + name + "' is shorter than the batch");
    }
    columns.push_back(make_column(name, *field, *cs, *ca, false));
  }

  const uint8_t* row_valid = batch.n_buffers > 0 && batch.buffers != nullptr ? static_cast<const uint8_t*>(batch.buffers[0]) : nullptr;
  std::vector<Document> docs(static_cast<size_t>(batch.length));
  for (int64_t row = 0; row < batch.length; ++row) {
    const int64_t j = batch.offset + row;
    if (row_valid != nullptr && !((row_valid[j >> 3] >> (j & 7)) & 1)) continue;  // a null row: no values
    Document& doc = docs[static_cast<size_t>(row)];
    for (const auto& c : columns) c->append(j, row, doc);
  }
  return docs;
}

}  // namespace needle::jni
