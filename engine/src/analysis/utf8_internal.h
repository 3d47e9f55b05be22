// Small inline UTF-8 routines shared by the tokenizers and filters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace needle::analysis {

inline constexpr std::string_view kReplacementUtf8 = "\xEF\xBF\xBD";  // U+FFFD

// Decodes the code point at s[i] (i < n) and advances i past it. On ill-formed input returns -1
// and advances i past the maximal ill-formed subpart (Unicode 3.9, "U+FFFD substitution of
// maximal subparts"): a valid lead byte with the valid continuation bytes that follow it, or one
// byte otherwise. Never reads past s[n-1].
inline int32_t decode_utf8(const uint8_t* s, size_t n, size_t& i) {
  uint8_t b0 = s[i];
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len;
  uint32_t cp;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;       // no overlong forms
    else if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;       // no overlong forms
    else if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    ++i;
    return -1;
  }
  size_t j = i + 1;
  for (size_t k = 1; k < len; ++k, ++j) {
    if (j >= n || s[j] < lo || s[j] > hi) {
      i = j;
      return -1;
    }
    cp = (cp << 6) | (s[j] & 0x3F);
    lo = 0x80;
    hi = 0xBF;
  }
  i = j;
  return static_cast<int32_t>(cp);
}

inline void append_utf8(int32_t c, std::string& out) {
  auto cp = static_cast<uint32_t>(c);
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    char b[2] = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 2);
  } else if (cp < 0x10000) {
    char b[3] = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                 static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 3);
  } else {
    char b[4] = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
                 static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                 static_cast<char>(0x80 | (cp & 0x3F))};
    out.append(b, 4);
  }
}

inline uint8_t ascii_lower(uint8_t b) {
  return static_cast<uint8_t>(b + ((static_cast<uint8_t>(b - 'A') < 26) ? 32 : 0));
}

// Copies n bytes from src to dst (which may be src itself) with 'A'..'Z' lowered, 8 bytes at a
// time; returns true if some byte is >= 0x80 (then the text needs full lowering).
inline bool copy_lower_ascii(char* dst, const char* src, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  uint64_t high = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, src + i, 8);
    high |= w;
    const uint64_t low7 = w & ~kHigh;
    // per byte: bit 7 of (low7 + 0x80 - c) is set when low7 >= c; no carries cross bytes
    const uint64_t ge_a = low7 + (0x80 - 'A') * kOnes;
    const uint64_t gt_z = low7 + (0x80 - 'Z' - 1) * kOnes;
    const uint64_t upper = ge_a & ~gt_z & ~w & kHigh;
    w |= upper >> 2;  // 0x80 >> 2 == 0x20, the case bit
    std::memcpy(dst + i, &w, 8);
  }
  uint8_t tail = 0;
  for (; i < n; ++i) {
    const auto b = static_cast<uint8_t>(src[i]);
    tail |= b;
    dst[i] = static_cast<char>(ascii_lower(b));
  }
  return ((high & kHigh) != 0) || (tail & 0x80) != 0;
}

// True if `text` is well-formed UTF-8 (tokenizers.cc).
bool is_valid_utf8(std::string_view text);

}  // namespace needle::analysis
