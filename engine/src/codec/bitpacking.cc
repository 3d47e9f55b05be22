// Bit packing of 128-value blocks in the 4-lane vertical layout (see bitpacking.h).
//
// unpack/unpack_delta/unpack_plus_one are compiled once per Highway target (foreach_target.h re-includes this
// file) and chosen at run time. Every target works on 128-bit vectors of 4 u32 lanes, which is
// exactly one row of the layout, so wider targets only differ in instruction encoding. The
// per-width kernels are fully unrolled templates: shift counts are compile-time constants.
#ifndef NEEDLE_CODEC_BITPACKING_COMMON
#define NEEDLE_CODEC_BITPACKING_COMMON

#include "needle/codec/bitpacking.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "needle/common/bytes.h"

namespace needle::bitpacking {
namespace {

using UnpackFn = void (*)(const uint8_t*, uint32_t*);
using UnpackDeltaFn = void (*)(const uint8_t*, uint32_t, uint32_t*);

struct Kernels {
  UnpackFn unpack[kMaxBits + 1];
  UnpackDeltaFn unpack_delta[kMaxBits + 1];
  UnpackFn unpack_plus_one[kMaxBits + 1];
  const char* name;
};

constexpr uint32_t mask_of(uint32_t bits) { return bits >= 32 ? ~0u : ((1u << bits) - 1); }

// Portable reference: value i is in lane i % 4 at bit (i / 4) * bits of that lane's stream.
void unpack_scalar_impl(const uint8_t* in, uint32_t bits, uint32_t* out) {
  if (bits == 0) {
    std::memset(out, 0, kBlockSize * sizeof(uint32_t));
    return;
  }
  const uint32_t mask = mask_of(bits);
  for (uint32_t lane = 0; lane < 4; ++lane) {
    uint32_t bit = 0;
    for (uint32_t j = 0; j < kBlockSize / 4; ++j, bit += bits) {
      const uint32_t w = bit >> 5, s = bit & 31;
      uint32_t v = load_u32_le(in + 16 * w + 4 * lane) >> s;
      if (s + bits > 32) v |= load_u32_le(in + 16 * (w + 1) + 4 * lane) << (32 - s);
      out[4 * j + lane] = v & mask;
    }
  }
}

void unpack_delta_scalar_impl(const uint8_t* in, uint32_t base, uint32_t bits, uint32_t* out) {
  unpack_scalar_impl(in, bits, out);
  uint32_t acc = base;
  for (size_t i = 0; i < kBlockSize; ++i) {
    acc += out[i];
    out[i] = acc;
  }
}

}  // namespace
}  // namespace needle::bitpacking

#endif  // NEEDLE_CODEC_BITPACKING_COMMON

// ---------------------------------------------------------------------------------------------
// Per-target kernels.
#undef HWY_TARGET_INCLUDE
// Resolved against the engine/include directory every target that includes needle headers has.
#define HWY_TARGET_INCLUDE "../src/codec/bitpacking.cc"
#include <hwy/foreach_target.h>  // must precede highway.h
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace needle::bitpacking {
namespace HWY_NAMESPACE {
namespace {

#if HWY_TARGET == HWY_SCALAR || \
    (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

// No 128-bit vectors (or a big-endian host, where the vector loads would not see the
// little-endian words): use the portable code.
template <int B>
void UnpackB(const uint8_t* in, uint32_t* out) {
  unpack_scalar_impl(in, B, out);
}
template <int B>
void UnpackDeltaB(const uint8_t* in, uint32_t base, uint32_t* out) {
  unpack_delta_scalar_impl(in, base, B, out);
}
template <int B>
void UnpackPlusOneB(const uint8_t* in, uint32_t* out) {
  unpack_scalar_impl(in, B, out);
  for (size_t i = 0; i < kBlockSize; ++i) out[i] += 1;
}

#else

namespace hn = hwy::HWY_NAMESPACE;
using D = hn::FixedTag<uint32_t, 4>;
using V = hn::Vec<D>;

// Row J of a width-B block: values 4J..4J+3, one per lane.
template <int B, size_t J>
HWY_INLINE V Row(D d, const uint32_t* HWY_RESTRICT in, V mask) {
  constexpr size_t bit = J * B;
  constexpr size_t w = bit / 32;
  constexpr int s = static_cast<int>(bit % 32);
  V v = hn::LoadU(d, in + 4 * w);
  if constexpr (s != 0) v = hn::ShiftRight<s>(v);
  if constexpr (s + B > 32) v = hn::Or(v, hn::ShiftLeft<32 - s>(hn::LoadU(d, in + 4 * (w + 1))));
  if constexpr (B < 32 && s + B != 32) v = hn::And(v, mask);
  return v;
}

template <int B, size_t... J>
HWY_INLINE void UnpackRows(const uint32_t* HWY_RESTRICT in, uint32_t* HWY_RESTRICT out,
                           std::index_sequence<J...>) {
  const D d;
  const V mask = hn::Set(d, mask_of(B));
  ((hn::StoreU(Row<B, J>(d, in, mask), d, out + 4 * J)), ...);
}

// Prefix sum of one row, continuing from `acc` (all lanes = the previous absolute value).
// Only the final Add is on the loop-carried chain through `acc`.
HWY_INLINE V PrefixRow(D d, V v, V& acc) {
  v = hn::Add(v, hn::ShiftLeftLanes<1>(d, v));
  v = hn::Add(v, hn::ShiftLeftLanes<2>(d, v));
  const V out = hn::Add(v, acc);
  acc = hn::Add(acc, hn::Broadcast<3>(v));
  return out;
}

template <int B, size_t... J>
HWY_INLINE void UnpackPlusOneRows(const uint32_t* HWY_RESTRICT in, uint32_t* HWY_RESTRICT out,
                                  std::index_sequence<J...>) {
  const D d;
  const V mask = hn::Set(d, mask_of(B));
  const V one = hn::Set(d, 1u);
  ((hn::StoreU(hn::Add(Row<B, J>(d, in, mask), one), d, out + 4 * J)), ...);
}

template <int B, size_t... J>
HWY_INLINE void UnpackDeltaRows(const uint32_t* HWY_RESTRICT in, uint32_t base,
                                uint32_t* HWY_RESTRICT out, std::index_sequence<J...>) {
  const D d;
  const V mask = hn::Set(d, mask_of(B));
  V acc = hn::Set(d, base);
  ((hn::StoreU(PrefixRow(d, Row<B, J>(d, in, mask), acc), d, out + 4 * J)), ...);
}

template <int B>
void UnpackB(const uint8_t* HWY_RESTRICT in, uint32_t* HWY_RESTRICT out) {
  if constexpr (B == 0) {
    const D d;
    for (size_t i = 0; i < kBlockSize; i += 4) hn::StoreU(hn::Zero(d), d, out + i);
  } else {
    UnpackRows<B>(reinterpret_cast<const uint32_t*>(in), out, std::make_index_sequence<32>());
  }
}

template <int B>
void UnpackDeltaB(const uint8_t* HWY_RESTRICT in, uint32_t base, uint32_t* HWY_RESTRICT out) {
  if constexpr (B == 0) {
    const D d;
    const V v = hn::Set(d, base);
    for (size_t i = 0; i < kBlockSize; i += 4) hn::StoreU(v, d, out + i);
  } else {
    UnpackDeltaRows<B>(reinterpret_cast<const uint32_t*>(in), base, out,
                       std::make_index_sequence<32>());
  }
}

template <int B>
void UnpackPlusOneB(const uint8_t* HWY_RESTRICT in, uint32_t* HWY_RESTRICT out) {
  if constexpr (B == 0) {
    const D d;
    for (size_t i = 0; i < kBlockSize; i += 4) hn::StoreU(hn::Set(d, 1u), d, out + i);
  } else {
    UnpackPlusOneRows<B>(reinterpret_cast<const uint32_t*>(in), out, std::make_index_sequence<32>());
  }
}

#endif

template <size_t... B>
Kernels MakeKernels(std::index_sequence<B...>) {
  return Kernels{{&UnpackB<static_cast<int>(B)>...},
                 {&UnpackDeltaB<static_cast<int>(B)>...},
                 {&UnpackPlusOneB<static_cast<int>(B)>...},
                 hwy::TargetName(HWY_TARGET)};
}

}  // namespace

const Kernels* GetKernels() {
  static const Kernels kernels = MakeKernels(std::make_index_sequence<kMaxBits + 1>());
  return &kernels;
}

}  // namespace HWY_NAMESPACE
}  // namespace needle::bitpacking
HWY_AFTER_NAMESPACE();

// ---------------------------------------------------------------------------------------------
#if HWY_ONCE

namespace needle::bitpacking {

HWY_EXPORT(GetKernels);

namespace {
const Kernels& kernels() {
  static const Kernels* k = HWY_DYNAMIC_DISPATCH(GetKernels)();
  return *k;
}
}  // namespace

void pack(const uint32_t* in, uint8_t bits, uint8_t* out) {
  if (bits == 0) return;
  if (bits > kMaxBits) bits = kMaxBits;
  uint32_t words[kBlockSize];  // 4 lanes x up to 32 words, row-major (word k of lane l at 4k+l)
  std::memset(words, 0, sizeof(uint32_t) * 4 * bits);
  const uint32_t mask = mask_of(bits);
  for (uint32_t lane = 0; lane < 4; ++lane) {
    uint32_t bit = 0;
    for (uint32_t j = 0; j < kBlockSize / 4; ++j, bit += bits) {
      const uint32_t v = in[4 * j + lane] & mask;
      const uint32_t w = bit >> 5, s = bit & 31;
      words[4 * w + lane] |= v << s;
      if (s + bits > 32) words[4 * (w + 1) + lane] |= v >> (32 - s);
    }
  }
  for (uint32_t k = 0; k < 4u * bits; ++k) store_u32_le(out + 4 * k, words[k]);
}

namespace {
[[noreturn]] void bad_width(uint8_t bits) {
  throw_corrupt("bit-packed block", "bit width " + std::to_string(bits) + " > 32");
}
}  // namespace

void unpack(const uint8_t* in, uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) [[unlikely]] bad_width(bits);
  kernels().unpack[bits](in, out);
}

void unpack_scalar(const uint8_t* in, uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) [[unlikely]] bad_width(bits);
  unpack_scalar_impl(in, bits, out);
}

void unpack_plus_one(const uint8_t* in, uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) [[unlikely]] bad_width(bits);
  kernels().unpack_plus_one[bits](in, out);
}

void pack_delta(const uint32_t* in, uint32_t base, uint8_t bits, uint8_t* out) {
  uint32_t deltas[kBlockSize];
  uint32_t prev = base;
  for (size_t i = 0; i < kBlockSize; ++i) {
    deltas[i] = in[i] - prev;
    prev = in[i];
  }
  pack(deltas, bits, out);
}

void unpack_delta(const uint8_t* in, uint32_t base, uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) [[unlikely]] bad_width(bits);
  kernels().unpack_delta[bits](in, base, out);
}

void unpack_delta_scalar(const uint8_t* in, uint32_t base, uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) [[unlikely]] bad_width(bits);
  unpack_delta_scalar_impl(in, base, bits, out);
}

uint8_t num_bits_delta(const uint32_t* in, uint32_t base) {
  uint32_t acc = 0;
  uint32_t prev = base;
  for (size_t i = 0; i < kBlockSize; ++i) {
    acc |= in[i] - prev;
    prev = in[i];
  }
  return num_bits(acc);
}

uint8_t num_bits_max(const uint32_t* in) {
  uint32_t acc = 0;
  for (size_t i = 0; i < kBlockSize; ++i) acc |= in[i];
  return num_bits(acc);
}

const char* simd_target_name() { return kernels().name; }

namespace {
const Kernels& kernels_for_test(size_t i) {
  const std::vector<int64_t> targets = hwy::SupportedAndGeneratedTargets();
  if (i >= targets.size()) throw_error(ErrorCode::kInvalidArgument, "no such target");
  hwy::SetSupportedTargetsForTest(targets[i]);
  const Kernels* k = HWY_DYNAMIC_DISPATCH(GetKernels)();
  hwy::SetSupportedTargetsForTest(0);
  (void)HWY_DYNAMIC_DISPATCH(GetKernels)();  // back to the real best target
  return *k;
}
}  // namespace

size_t num_targets_for_test() { return hwy::SupportedAndGeneratedTargets().size(); }

const char* unpack_with_target_for_test(size_t i, const uint8_t* in, uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) bad_width(bits);
  const Kernels& k = kernels_for_test(i);
  k.unpack[bits](in, out);
  return k.name;
}

const char* unpack_plus_one_with_target_for_test(size_t i, const uint8_t* in, uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) bad_width(bits);
  const Kernels& k = kernels_for_test(i);
  k.unpack_plus_one[bits](in, out);
  return k.name;
}

const char* unpack_delta_with_target_for_test(size_t i, const uint8_t* in, uint32_t base,
                                              uint8_t bits, uint32_t* out) {
  if (bits > kMaxBits) bad_width(bits);
  const Kernels& k = kernels_for_test(i);
  k.unpack_delta[bits](in, base, out);
  return k.name;
}

}  // namespace needle::bitpacking

#endif  // HWY_ONCE
