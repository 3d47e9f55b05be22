// Little-endian byte writing and bounds-checked byte reading. Every integer needle writes to a
// file goes through ByteWriter; every byte it reads from a file goes through ByteReader, which
// throws ErrorCode::kCorrupt (naming `what` and the offset) instead of reading out of bounds.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "needle/common/error.h"

namespace needle {

class ByteWriter {
 public:
  ByteWriter() = default;
  explicit ByteWriter(std::vector<uint8_t>* out) : ext_(out) {}

  void u8(uint8_t v) { buf().push_back(v); }
  void u16(uint16_t v) { put_le(v); }
  void u32(uint32_t v) { put_le(v); }
  void u64(uint64_t v) { put_le(v); }
  void i64(int64_t v) { put_le(static_cast<uint64_t>(v)); }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    put_le(bits);
  }
  void f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    put_le(bits);
  }
  // Unsigned LEB128: 7 bits a byte, high bit set on every byte but the last.
  void vint(uint64_t v) {
    while (v >= 0x80) {
      buf().push_back(static_cast<uint8_t>(v) | 0x80);
      v >>= 7;
    }
    buf().push_back(static_cast<uint8_t>(v));
  }
  // Zig-zag signed LEB128.
  void svint(int64_t v) { vint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void bytes(std::span<const uint8_t> b) { buf().insert(buf().end(), b.begin(), b.end()); }
  void bytes(std::string_view s) {
    buf().insert(buf().end(), reinterpret_cast<const uint8_t*>(s.data()),
                 reinterpret_cast<const uint8_t*>(s.data()) + s.size());
  }
  // Length-prefixed (vint) string.
  void str(std::string_view s) {
    vint(s.size());
    bytes(s);
  }
  // Overwrites 4 bytes at absolute offset `pos` (for back-patching lengths); the bytes must not
  // have been drained.
  void patch_u32(size_t pos, uint32_t v) {
    if (pos < drained_) throw_error(ErrorCode::kInternal, "patch of drained bytes");
    for (int i = 0; i < 4; ++i) buf()[pos - drained_ + i] = static_cast<uint8_t>(v >> (8 * i));
  }

  // Bytes written so far, drained ones included: offsets stay absolute while a writer streams.
  size_t size() const { return drained_ + (ext_ ? ext_->size() : own_.size()); }
  // Hands over the buffered bytes (for streaming them to a file) and forgets them; data() then
  // holds only what is written afterwards.
  std::vector<uint8_t> drain() {
    std::vector<uint8_t> out;
    out.swap(buf());
    drained_ += out.size();
    buf().reserve(out.capacity());
    return out;
  }
  size_t drained() const { return drained_; }
  size_t buffered() const { return ext_ ? ext_->size() : own_.size(); }
  const std::vector<uint8_t>& data() const { return ext_ ? *ext_ : own_; }
  std::vector<uint8_t>& buf() { return ext_ ? *ext_ : own_; }
  std::vector<uint8_t> take() { return std::move(buf()); }
  std::span<const uint8_t> span() const { return data(); }

 private:
  template <typename T>
  void put_le(T v) {
    uint8_t tmp[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i) tmp[i] = static_cast<uint8_t>(v >> (8 * i));
    buf().insert(buf().end(), tmp, tmp + sizeof(T));
  }

  std::vector<uint8_t> own_;
  std::vector<uint8_t>* ext_ = nullptr;
  size_t drained_ = 0;
};

class ByteReader {
 public:
  ByteReader() = default;
  // `what` names the file or structure being read; it appears in every error.
  ByteReader(std::span<const uint8_t> data, std::string_view what) : data_(data), what_(what) {}

  uint8_t u8() {
    need(1);
    return data_[pos_++];
  }
  uint16_t u16() { return get_le<uint16_t>(); }
  uint32_t u32() { return get_le<uint32_t>(); }
  uint64_t u64() { return get_le<uint64_t>(); }
  int64_t i64() { return static_cast<int64_t>(get_le<uint64_t>()); }
  double f64() {
    uint64_t bits = get_le<uint64_t>();
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  float f32() {
    uint32_t bits = get_le<uint32_t>();
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  uint64_t vint() {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = u8();
      result |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return result;
    }
    fail("variable-length integer longer than 10 bytes");
  }
  // A vint that must fit in 32 bits.
  uint32_t vint32() {
    uint64_t v = vint();
    if (v > UINT32_MAX) fail("variable-length integer out of 32-bit range");
    return static_cast<uint32_t>(v);
  }
  int64_t svint() {
    uint64_t v = vint();
    return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }
  std::span<const uint8_t> bytes(size_t n) {
    need(n);
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view str() {
    uint64_t n = vint();
    if (n > remaining()) fail("string length " + std::to_string(n) + " past the end");
    auto s = bytes(static_cast<size_t>(n));
    return {reinterpret_cast<const char*>(s.data()), s.size()};
  }
  void skip(size_t n) {
    need(n);
    pos_ += n;
  }
  void seek(size_t pos) {
    if (pos > data_.size()) fail("seek to " + std::to_string(pos) + " past the end");
    pos_ = pos;
  }

  size_t pos() const { return pos_; }
  size_t size() const { return data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }
  bool done() const { return pos_ == data_.size(); }
  std::span<const uint8_t> rest() const { return data_.subspan(pos_); }
  std::string_view what() const { return what_; }

  [[noreturn]] void fail(const std::string& detail) const {
    throw_corrupt(what_, detail + " (at byte " + std::to_string(pos_) + " of " +
                             std::to_string(data_.size()) + ")");
  }

 private:
  void need(size_t n) const {
    if (n > data_.size() - pos_) {
      fail("needs " + std::to_string(n) + " more bytes");
    }
  }
  template <typename T>
  T get_le() {
    need(sizeof(T));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(data_[pos_ + i]) << (8 * i));
    pos_ += sizeof(T);
    return v;
  }

  std::span<const uint8_t> data_;
  std::string_view what_;
  size_t pos_ = 0;
};

// Little-endian loads/stores on raw memory, for hot decode loops that did their own bounds check.
inline uint32_t load_u32_le(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
inline uint64_t load_u64_le(const uint8_t* p) {
  return static_cast<uint64_t>(load_u32_le(p)) | static_cast<uint64_t>(load_u32_le(p + 4)) << 32;
}
inline void store_u32_le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void store_u64_le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
// Big-endian, used where byte order must equal numeric order (term keys).
inline void store_u64_be(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (56 - 8 * i));
}
inline uint64_t load_u64_be(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace needle
