#include "needle/schema/value.h"

#include <arpa/inet.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "needle/common/bytes.h"
#include "needle/common/error.h"

namespace needle {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (era-based civil-date arithmetic).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DD[Tt ]HH:MM:SS[.frac](Z|z|+HH:MM|-HH:MM); a bare date YYYY-MM-DD means midnight UTC.
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1) return std::nullopt;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int dim = kDays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0);
  if (d > dim) return std::nullopt;
  int64_t micros_frac = 0;
  int64_t offset_sec = 0;
  size_t p = 10;
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return std::nullopt;
    ++p;
    if (!digits(s, p, 2, h) || p + 2 >= s.size() || s[p + 2] != ':' || !digits(s, p + 3, 2, mi) ||
        p + 5 >= s.size() || s[p + 5] != ':' || !digits(s, p + 6, 2, se)) {
      return std::nullopt;
    }
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;
    if (se == 60) se = 59;  // leap second: clamp
    p += 8;
    if (p < s.size() && s[p] == '.') {
      ++p;
      size_t start = p;
      int64_t scale = 100000;
      while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
        micros_frac += (s[p] - '0') * scale;
        scale /= 10;
        ++p;
      }
      if (p == start) return std::nullopt;
    }
    if (p >= s.size()) return std::nullopt;  // a time needs a zone
    if (s[p] == 'Z' || s[p] == 'z') {
      ++p;
    } else if (s[p] == '+' || s[p] == '-') {
      int oh, om;
      if (!digits(s, p + 1, 2, oh) || p + 3 >= s.size() || s[p + 3] != ':' ||
          !digits(s, p + 4, 2, om) || oh > 23 || om > 59) {
        return std::nullopt;
      }
      offset_sec = (oh * 3600 + om * 60) * (s[p] == '+' ? 1 : -1);
      p += 6;
    } else {
      return std::nullopt;
    }
    if (p != s.size()) return std::nullopt;
  }
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_sec;
  return Timestamp{secs * 1000000 + micros_frac};
}

std::string format_rfc3339(Timestamp t) {
  int64_t secs = t.micros / 1000000;
  int64_t frac = t.micros % 1000000;
  if (frac < 0) {
    frac += 1000000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(y), m, d,
                        static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                        static_cast<int>(rem % 60));
  std::string out(buf, static_cast<size_t>(n));
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    std::string f(buf);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::optional<IpAddr> parse_ip(std::string_view s) {
  if (s.empty() || s.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  IpAddr ip;
  in_addr v4;
  if (inet_pton(AF_INET, buf, &v4) == 1) {
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    std::memcpy(ip.bytes.data() + 12, &v4, 4);
    return ip;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, buf, &v6) == 1) {
    std::memcpy(ip.bytes.data(), &v6, 16);
    return ip;
  }
  return std::nullopt;
}

static bool is_v4_mapped(const IpAddr& ip) {
  for (int i = 0; i < 10; ++i) {
    if (ip.bytes[i] != 0) return false;
  }
  return ip.bytes[10] == 0xff && ip.bytes[11] == 0xff;
}

std::string format_ip(const IpAddr& ip) {
  char buf[64];
  if (is_v4_mapped(ip)) {
    inet_ntop(AF_INET, ip.bytes.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, ip.bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

std::optional<std::pair<IpAddr, IpAddr>> parse_cidr(std::string_view s) {
  auto slash = s.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto addr = parse_ip(s.substr(0, slash));
  if (!addr) return std::nullopt;
  int bits = 0;
  auto rest = s.substr(slash + 1);
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), bits);
  if (ec != std::errc() || ptr != rest.data() + rest.size() || rest.empty()) return std::nullopt;
  bool v4 = s.substr(0, slash).find(':') == std::string_view::npos;
  if (bits < 0 || bits > (v4 ? 32 : 128)) return std::nullopt;
  if (v4) bits += 96;
  IpAddr lo = *addr, hi = *addr;
  for (int i = 0; i < 128; ++i) {
    if (i >= bits) {
      uint8_t mask = static_cast<uint8_t>(0x80 >> (i % 8));
      lo.bytes[i / 8] &= static_cast<uint8_t>(~mask);
      hi.bytes[i / 8] |= mask;
    }
  }
  return std::make_pair(lo, hi);
}

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::span<const uint8_t> data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t v = data[i] << 16 | data[i + 1] << 8 | data[i + 2];
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < data.size()) {
    uint32_t v = data[i] << 16 | (i + 1 < data.size() ? data[i + 1] << 8 : 0);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < data.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::vector<uint8_t>> base64_decode(std::string_view s) {
  int8_t map[256];
  std::memset(map, -1, sizeof(map));
  for (int i = 0; i < 64; ++i) map[static_cast<uint8_t>(kB64[i])] = static_cast<int8_t>(i);
  map[static_cast<uint8_t>('-')] = 62;  // URL-safe alphabet too
  map[static_cast<uint8_t>('_')] = 63;
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.size() % 4 == 1) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(s.size() * 3 / 4);
  uint32_t acc = 0;
  int nbits = 0;
  for (char c : s) {
    int8_t v = map[static_cast<uint8_t>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> nbits));
    }
  }
  return out;
}

uint64_t f64_to_sortable(double v) {
  if (v == 0) v = 0.0;  // -0 sorts with +0
  uint64_t bits = std::bit_cast<uint64_t>(v);
  return (bits & 0x8000000000000000ULL) ? ~bits : bits ^ 0x8000000000000000ULL;
}

double sortable_to_f64(uint64_t v) {
  uint64_t bits = (v & 0x8000000000000000ULL) ? v ^ 0x8000000000000000ULL : ~v;
  return std::bit_cast<double>(bits);
}

namespace {
[[noreturn]] void bad_value(std::string_view field, std::string_view type, std::string_view text) {
  throw_error(ErrorCode::kQuery, "field '" + std::string(field) + "' is " + std::string(type) +
                                     ": '" + std::string(text) + "' is not a valid " +
                                     std::string(type) + " value");
}
template <typename T>
bool parse_int(std::string_view t, T& out) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
  return ec == std::errc() && p == t.data() + t.size() && !t.empty();
}
}  // namespace

Value parse_value_text(FieldType type, std::string_view text, std::string_view field) {
  auto tn = field_type_name(type);
  switch (type) {
    case FieldType::kText:
    case FieldType::kString:
      return std::string(text);
    case FieldType::kI64: {
      int64_t v;
      if (!parse_int(text, v)) bad_value(field, tn, text);
      return v;
    }
    case FieldType::kU64: {
      uint64_t v;
      if (!parse_int(text, v)) bad_value(field, tn, text);
      return v;
    }
    case FieldType::kF64: {
      double v;
      std::string_view t = text;
      if (!t.empty() && t[0] == '+') t.remove_prefix(1);
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec != std::errc() || p != t.data() + t.size() || t.empty() || std::isnan(v)) {
        bad_value(field, tn, text);
      }
      return v;
    }
    case FieldType::kBool:
      if (text == "true") return true;
      if (text == "false") return false;
      bad_value(field, tn, text);
    case FieldType::kTimestamp: {
      if (auto ts = parse_rfc3339(text)) return *ts;
      int64_t v;
      if (parse_int(text, v)) return Timestamp{v};
      bad_value(field, tn, text);
    }
    case FieldType::kBytes: {
      auto b = base64_decode(text);
      if (!b) bad_value(field, tn, text);
      return BytesValue{std::move(*b)};
    }
    case FieldType::kIp: {
      auto ip = parse_ip(text);
      if (!ip) bad_value(field, tn, text);
      return *ip;
    }
    case FieldType::kJson:
      throw_error(ErrorCode::kQuery, "field '" + std::string(field) + "' is json: it has one term per leaf, not one " +
                                         "value; search it with the query language (" + std::string(field) + ":value, " +
                                         std::string(field) + ".a.b:value)");
  }
  bad_value(field, tn, text);
}

std::string encode_term_value(FieldType type, const Value& v) {
  std::string out;
  auto be64 = [&out](uint64_t x) {
    out.resize(8);
    store_u64_be(reinterpret_cast<uint8_t*>(out.data()), x);
  };
  switch (type) {
    case FieldType::kText:
    case FieldType::kString:
      out = std::get<std::string>(v);
      break;
    case FieldType::kI64:
      be64(static_cast<uint64_t>(std::get<int64_t>(v)) ^ 0x8000000000000000ULL);
      break;
    case FieldType::kTimestamp:
      be64(static_cast<uint64_t>(std::get<Timestamp>(v).micros) ^ 0x8000000000000000ULL);
      break;
    case FieldType::kU64:
      be64(std::get<uint64_t>(v));
      break;
    case FieldType::kF64:
      be64(f64_to_sortable(std::get<double>(v)));
      break;
    case FieldType::kBool:
      out.push_back(std::get<bool>(v) ? 1 : 0);
      break;
    case FieldType::kBytes: {
      const auto& b = std::get<BytesValue>(v).data;
      out.assign(b.begin(), b.end());
      break;
    }
    case FieldType::kIp: {
      const auto& b = std::get<IpAddr>(v).bytes;
      out.assign(b.begin(), b.end());
      break;
    }
    case FieldType::kJson:
      throw_error(ErrorCode::kInternal, "encode_term_value: json values have one term per leaf (schema/json.h)");
  }
  return out;
}

Value decode_term_value(FieldType type, std::string_view term) {
  auto need = [&](size_t n) {
    if (term.size() != n) throw_corrupt("term", "a " + std::string(field_type_name(type)) + " term of " +
                                                    std::to_string(term.size()) + " bytes");
  };
  auto be = [&]() { return load_u64_be(reinterpret_cast<const uint8_t*>(term.data())); };
  switch (type) {
    case FieldType::kText:
    case FieldType::kString:
      return std::string(term);
    case FieldType::kI64:
      need(8);
      return static_cast<int64_t>(be() ^ 0x8000000000000000ULL);
    case FieldType::kTimestamp:
      need(8);
      return Timestamp{static_cast<int64_t>(be() ^ 0x8000000000000000ULL)};
    case FieldType::kU64:
      need(8);
      return be();
    case FieldType::kF64:
      need(8);
      return sortable_to_f64(be());
    case FieldType::kBool:
      need(1);
      return term[0] != 0;
    case FieldType::kBytes:
      return BytesValue{std::vector<uint8_t>(term.begin(), term.end())};
    case FieldType::kIp: {
      need(16);
      IpAddr ip;
      std::memcpy(ip.bytes.data(), term.data(), 16);
      return ip;
    }
    case FieldType::kJson:
      return std::string(term);  // path, type byte and value: see json_term_to_string
  }
  return std::string(term);
}

std::string term_key(uint16_t field, std::string_view term) {
  std::string k;
  k.reserve(2 + term.size());
  k.push_back(static_cast<char>(field >> 8));
  k.push_back(static_cast<char>(field & 0xff));
  k.append(term);
  return k;
}

std::string exists_key(uint16_t field) {
  std::string k = term_key(kExistsFieldId, "");
  k.push_back(static_cast<char>(field >> 8));
  k.push_back(static_cast<char>(field & 0xff));
  return k;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void append_value_json(std::string& out, const Value& v) {
  std::visit(
      [&out](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          append_json_string(out, x);
        } else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, uint64_t>) {
          out += std::to_string(x);
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(x)) {
            char buf[32];
            auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), x);
            std::string_view num(buf, static_cast<size_t>(p - buf));
            out += num;
            if (num.find_first_of(".eE") == std::string_view::npos) out += ".0";
          } else {
            out += "null";
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          append_json_string(out, format_rfc3339(x));
        } else if constexpr (std::is_same_v<T, BytesValue>) {
          append_json_string(out, base64_encode(x.data));
        } else if constexpr (std::is_same_v<T, IpAddr>) {
          append_json_string(out, format_ip(x));
        } else if constexpr (std::is_same_v<T, JsonValue>) {
          out += x.json;
        }
      },
      v);
}

}  // namespace needle
