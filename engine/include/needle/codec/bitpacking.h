// Bit packing of blocks of 128 unsigned 32-bit integers (docs/format/postings.md, "Packed blocks").
//
// Layout (fixed, little-endian on every host): a block packed with width b (0..32) is b*16 bytes,
// seen as 4*b little-endian u32 words. Value i goes to lane i % 4; lane l holds values l, l+4, ...,
// l+124 (32 values) as one bit stream of 32*b bits, low bits first, in the words l, l+4, l+8, ...
// (word k of lane l is the u32 at byte offset 16*k + 4*l). This is the "4-lane vertical" layout
// that 128-bit SIMD unpacks with one load, shift and mask per 4 values; the scalar reference
// reads the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace needle {
namespace bitpacking {

constexpr size_t kBlockSize = 128;
constexpr uint8_t kMaxBits = 32;

// Bits needed to store `max_value`: 0 for 0, 32 for values >= 2^31.
inline uint8_t num_bits(uint32_t max_value) {
  return max_value == 0 ? 0 : static_cast<uint8_t>(32 - __builtin_clz(max_value));
}
// Bytes of a packed block of 128 values at width `bits` (bits <= 32).
constexpr size_t packed_size(uint8_t bits) { return static_cast<size_t>(bits) * 16; }

// Packs in[0..128) at width `bits` (0..32) into packed_size(bits) bytes at `out`. Bits of a value
// above `bits` are dropped.
void pack(const uint32_t* in, uint8_t bits, uint8_t* out);
// Unpacks packed_size(bits) bytes at `in` into out[0..128). Reads exactly packed_size(bits) bytes.
// `bits` > 32 throws Error(kCorrupt). Runtime-dispatched SIMD (Highway).
void unpack(const uint8_t* in, uint8_t bits, uint32_t* out);
// Portable reference implementation of unpack (same results on every host).
void unpack_scalar(const uint8_t* in, uint8_t bits, uint32_t* out);
// unpack, then 1 added to every value (mod 2^32), in the same pass: term frequencies are stored
// minus one. Runtime-dispatched SIMD (Highway).
void unpack_plus_one(const uint8_t* in, uint8_t bits, uint32_t* out);

// Delta forms for sorted doc ids: the packed values are in[i] - in[i-1] (mod 2^32) with
// in[-1] = base; unpack_delta returns the absolute values (prefix sums from base, mod 2^32).
void pack_delta(const uint32_t* in, uint32_t base, uint8_t bits, uint8_t* out);
void unpack_delta(const uint8_t* in, uint32_t base, uint8_t bits, uint32_t* out);
void unpack_delta_scalar(const uint8_t* in, uint32_t base, uint8_t bits, uint32_t* out);
// Width for pack_delta: num_bits of the largest delta.
uint8_t num_bits_delta(const uint32_t* in, uint32_t base);
// Width for pack: num_bits of the largest value.
uint8_t num_bits_max(const uint32_t* in);

// The Highway target unpack dispatches to at run time ("AVX2", "SSE4", "SCALAR", ...).
const char* simd_target_name();

// Test support (not thread-safe; do not use in production code): the number of compiled targets
// this CPU supports, and unpack/unpack_delta run with the kernels of target i (returns its name).
size_t num_targets_for_test();
const char* unpack_with_target_for_test(size_t i, const uint8_t* in, uint8_t bits, uint32_t* out);
const char* unpack_plus_one_with_target_for_test(size_t i, const uint8_t* in, uint8_t bits, uint32_t* out);
const char* unpack_delta_with_target_for_test(size_t i, const uint8_t* in, uint32_t base,
                                              uint8_t bits, uint32_t* out);

}  // namespace bitpacking
}  // namespace needle
