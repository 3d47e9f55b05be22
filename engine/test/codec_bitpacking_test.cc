#include "needle/codec/bitpacking.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "needle/common/error.h"

namespace needle {
namespace {

using bitpacking::kBlockSize;

uint32_t mask_of(int bits) { return bits >= 32 ? ~0u : ((1u << bits) - 1); }

// Packs into a heap buffer of exactly packed_size(bits) bytes (so ASan catches any overrun),
// checks both unpackers give `in` back.
void round_trip(const std::vector<uint32_t>& in, int bits) {
  const size_t size = bitpacking::packed_size(static_cast<uint8_t>(bits));
  ASSERT_EQ(size, static_cast<size_t>(bits) * 16);
  std::unique_ptr<uint8_t[]> buf(new uint8_t[size + 1]);
  buf[size] = 0xA5;  // guard byte: pack must not write past packed_size
  bitpacking::pack(in.data(), static_cast<uint8_t>(bits), buf.get());
  ASSERT_EQ(buf[size], 0xA5);
  // Unpack from an exact-size copy.
  std::unique_ptr<uint8_t[]> exact(new uint8_t[size == 0 ? 1 : size]);
  std::memcpy(exact.get(), buf.get(), size);
  uint32_t out[kBlockSize], out2[kBlockSize];
  std::memset(out, 0xEE, sizeof(out));
  std::memset(out2, 0xEE, sizeof(out2));
  bitpacking::unpack(exact.get(), static_cast<uint8_t>(bits), out);
  bitpacking::unpack_scalar(exact.get(), static_cast<uint8_t>(bits), out2);
  for (size_t i = 0; i < kBlockSize; ++i) {
    ASSERT_EQ(out[i], in[i] & mask_of(bits)) << "bits " << bits << " i " << i;
    ASSERT_EQ(out2[i], in[i] & mask_of(bits)) << "bits " << bits << " i " << i;
  }
}

TEST(Bitpacking, NumBits) {
  EXPECT_EQ(bitpacking::num_bits(0), 0);
  EXPECT_EQ(bitpacking::num_bits(1), 1);
  EXPECT_EQ(bitpacking::num_bits(2), 2);
  EXPECT_EQ(bitpacking::num_bits(3), 2);
  EXPECT_EQ(bitpacking::num_bits(255), 8);
  EXPECT_EQ(bitpacking::num_bits(256), 9);
  EXPECT_EQ(bitpacking::num_bits(0x7fffffff), 31);
  EXPECT_EQ(bitpacking::num_bits(0x80000000u), 32);
  EXPECT_EQ(bitpacking::num_bits(0xffffffffu), 32);
  for (int b = 0; b <= 32; ++b) {
    EXPECT_EQ(bitpacking::packed_size(static_cast<uint8_t>(b)), 16u * b);
  }
}

TEST(Bitpacking, RoundTripEveryWidth) {
  std::mt19937 rng(42);
  for (int bits = 0; bits <= 32; ++bits) {
    std::vector<uint32_t> zeros(kBlockSize, 0), maxes(kBlockSize, mask_of(bits)), rnd(kBlockSize);
    round_trip(zeros, bits);
    round_trip(maxes, bits);
    for (int trial = 0; trial < 20; ++trial) {
      for (auto& v : rnd) v = static_cast<uint32_t>(rng()) & mask_of(bits);
      round_trip(rnd, bits);
    }
    // Alternating extremes and a single set value at every position class.
    for (size_t i = 0; i < kBlockSize; ++i) rnd[i] = (i % 3 == 0) ? mask_of(bits) : 0;
    round_trip(rnd, bits);
    // Bits above the width are dropped by pack.
    for (auto& v : rnd) v = static_cast<uint32_t>(rng());
    round_trip(rnd, bits);
  }
}

TEST(Bitpacking, NumBitsMaxFits) {
  std::mt19937 rng(3);
  std::vector<uint32_t> v(kBlockSize);
  for (int bits = 0; bits <= 32; ++bits) {
    for (auto& x : v) x = static_cast<uint32_t>(rng()) & mask_of(bits);
    v[rng() % kBlockSize] = mask_of(bits);
    EXPECT_EQ(bitpacking::num_bits_max(v.data()), bits);
  }
}

TEST(Bitpacking, SimdMatchesScalarOnArbitraryBytes) {
  std::mt19937 rng(7);
  for (int bits = 0; bits <= 32; ++bits) {
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<uint8_t> bytes(bitpacking::packed_size(static_cast<uint8_t>(bits)) + 1);
      for (auto& b : bytes) b = static_cast<uint8_t>(rng());
      const uint32_t base = static_cast<uint32_t>(rng());
      uint32_t a[kBlockSize], b[kBlockSize], c[kBlockSize], d[kBlockSize];
      bitpacking::unpack(bytes.data(), static_cast<uint8_t>(bits), a);
      bitpacking::unpack_scalar(bytes.data(), static_cast<uint8_t>(bits), b);
      bitpacking::unpack_delta(bytes.data(), base, static_cast<uint8_t>(bits), c);
      bitpacking::unpack_delta_scalar(bytes.data(), base, static_cast<uint8_t>(bits), d);
      for (size_t i = 0; i < kBlockSize; ++i) {
        ASSERT_EQ(a[i], b[i]) << "bits " << bits << " i " << i;
        ASSERT_EQ(c[i], d[i]) << "bits " << bits << " i " << i;
      }
    }
  }
}

// Every compiled target this CPU supports (SSSE3, SSE4, AVX2, AVX3, SCALAR, ...) agrees with the
// scalar reference, not only the one dispatch picks.
TEST(Bitpacking, EveryTargetMatchesScalar) {
  std::mt19937 rng(8);
  const size_t n = bitpacking::num_targets_for_test();
  ASSERT_GE(n, 1u);
  for (size_t t = 0; t < n; ++t) {
    const char* name = nullptr;
    for (int bits = 0; bits <= 32; ++bits) {
      for (int trial = 0; trial < 5; ++trial) {
        std::vector<uint8_t> bytes(bitpacking::packed_size(static_cast<uint8_t>(bits)) + 1);
        for (auto& b : bytes) b = static_cast<uint8_t>(rng());
        const uint32_t base = static_cast<uint32_t>(rng());
        uint32_t a[kBlockSize], b[kBlockSize], c[kBlockSize], d[kBlockSize];
        name = bitpacking::unpack_with_target_for_test(t, bytes.data(),
                                                       static_cast<uint8_t>(bits), a);
        bitpacking::unpack_scalar(bytes.data(), static_cast<uint8_t>(bits), b);
        bitpacking::unpack_delta_with_target_for_test(t, bytes.data(), base,
                                                      static_cast<uint8_t>(bits), c);
        bitpacking::unpack_delta_scalar(bytes.data(), base, static_cast<uint8_t>(bits), d);
        uint32_t e[kBlockSize];
        bitpacking::unpack_plus_one_with_target_for_test(t, bytes.data(), static_cast<uint8_t>(bits), e);
        for (size_t i = 0; i < kBlockSize; ++i) {
          ASSERT_EQ(a[i], b[i]) << name << " bits " << bits << " i " << i;
          ASSERT_EQ(c[i], d[i]) << name << " bits " << bits << " i " << i;
          ASSERT_EQ(e[i], b[i] + 1) << name << " plus one, bits " << bits << " i " << i;  // mod 2^32
        }
        bitpacking::unpack_plus_one(bytes.data(), static_cast<uint8_t>(bits), e);
        for (size_t i = 0; i < kBlockSize; ++i) ASSERT_EQ(e[i], b[i] + 1) << "bits " << bits << " i " << i;
      }
    }
    std::printf("checked target %s\n", name);
  }
  // Dispatch is back on the best target.
  uint8_t buf[16] = {1};
  uint32_t out[kBlockSize];
  bitpacking::unpack(buf, 1, out);
  EXPECT_EQ(out[0], 1u);
}

// Pins the byte layout: value i is in lane i%4, word k of lane l at byte 16k+4l, little-endian.
TEST(Bitpacking, ByteExactLayout) {
  uint32_t in[kBlockSize];
  for (uint32_t i = 0; i < kBlockSize; ++i) in[i] = i;
  uint8_t out[16 * 8];
  bitpacking::pack(in, 8, out);
  // Width 8: word k of lane l holds values 4*(4k+b)+l in byte b.
  for (uint32_t k = 0; k < 8; ++k)
    for (uint32_t l = 0; l < 4; ++l)
      for (uint32_t b = 0; b < 4; ++b) ASSERT_EQ(out[16 * k + 4 * l + b], 16 * k + 4 * b + l);

  // Width 3, values straddling words: lane 0's stream is values 0,4,8,...; value 4j at bit 3j.
  for (uint32_t i = 0; i < kBlockSize; ++i) in[i] = (i * 5 + 1) & 7;
  uint8_t out3[48];
  bitpacking::pack(in, 3, out3);
  for (uint32_t l = 0; l < 4; ++l) {
    // Lane l's 96-bit stream from its 3 words.
    __uint128_t s = 0;
    for (int w = 2; w >= 0; --w) {
      uint32_t word = 0;
      for (int b = 0; b < 4; ++b) {
        word |= static_cast<uint32_t>(out3[16 * w + 4 * l + b]) << (8 * b);
      }
      s = (s << 32) | word;
    }
    for (uint32_t j = 0; j < 32; ++j) {
      ASSERT_EQ(static_cast<uint32_t>((s >> (3 * j)) & 7), in[4 * j + l]);
    }
  }
}

TEST(Bitpacking, DeltaForms) {
  std::mt19937 rng(11);
  for (int bits = 0; bits <= 32; ++bits) {
    for (int trial = 0; trial < 10; ++trial) {
      const uint32_t base = static_cast<uint32_t>(rng());
      std::vector<uint32_t> abs(kBlockSize);
      uint32_t prev = base;
      for (size_t i = 0; i < kBlockSize; ++i) {
        uint32_t delta = static_cast<uint32_t>(rng()) & mask_of(bits);
        if (trial == 0) delta = mask_of(bits);
        if (trial == 1) delta = 0;
        prev += delta;  // mod 2^32
        abs[i] = prev;
      }
      EXPECT_LE(bitpacking::num_bits_delta(abs.data(), base), bits);
      std::vector<uint8_t> buf(bitpacking::packed_size(static_cast<uint8_t>(bits)));
      bitpacking::pack_delta(abs.data(), base, static_cast<uint8_t>(bits), buf.data());
      uint32_t out[kBlockSize], out2[kBlockSize];
      bitpacking::unpack_delta(buf.data(), base, static_cast<uint8_t>(bits), out);
      bitpacking::unpack_delta_scalar(buf.data(), base, static_cast<uint8_t>(bits), out2);
      for (size_t i = 0; i < kBlockSize; ++i) {
        ASSERT_EQ(out[i], abs[i]) << "bits " << bits << " i " << i;
        ASSERT_EQ(out2[i], abs[i]) << "bits " << bits << " i " << i;
      }
    }
  }
  // Sorted doc ids: exact width.
  std::vector<uint32_t> docs(kBlockSize);
  for (uint32_t i = 0; i < kBlockSize; ++i) docs[i] = 1000 + 3 * i;
  EXPECT_EQ(bitpacking::num_bits_delta(docs.data(), 997), 2);
  EXPECT_EQ(bitpacking::num_bits_delta(docs.data(), 1000), 2);  // first delta 0
  EXPECT_EQ(bitpacking::num_bits_delta(docs.data(), 0), 10);
}

TEST(Bitpacking, RejectsWidthsAbove32) {
  uint8_t buf[16 * 33] = {};
  uint32_t out[kBlockSize];
  for (int bits : {33, 64, 255}) {
    try {
      bitpacking::unpack(buf, static_cast<uint8_t>(bits), out);
      FAIL() << "no error for width " << bits;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
    }
    EXPECT_THROW(bitpacking::unpack_delta(buf, 0, static_cast<uint8_t>(bits), out), Error);
    EXPECT_THROW(bitpacking::unpack_scalar(buf, static_cast<uint8_t>(bits), out), Error);
    EXPECT_THROW(bitpacking::unpack_plus_one(buf, static_cast<uint8_t>(bits), out), Error);
  }
}

TEST(Bitpacking, TargetName) {
  const char* name = bitpacking::simd_target_name();
  ASSERT_NE(name, nullptr);
  EXPECT_GT(std::strlen(name), 0u);
  std::printf("bitpacking::unpack dispatches to %s\n", name);
}

}  // namespace
}  // namespace needle
