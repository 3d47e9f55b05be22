#include "needle/codec/fieldnorm.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace needle {
namespace {

TEST(Fieldnorm, ExactForSmallValues) {
  for (uint32_t v = 0; v <= kFieldnormExactUpTo; ++v) {
    EXPECT_EQ(fieldnorm_to_id(v), v);
    EXPECT_EQ(id_to_fieldnorm(static_cast<uint8_t>(v)), v);
  }
  EXPECT_GE(kFieldnormExactUpTo, 40u);
}

TEST(Fieldnorm, IdsRoundTripAndIncrease) {
  for (int id = 0; id < 256; ++id) {
    const uint32_t v = id_to_fieldnorm(static_cast<uint8_t>(id));
    EXPECT_EQ(fieldnorm_to_id(v), id) << "id " << id;
    if (id > 0) {
      EXPECT_LT(id_to_fieldnorm(static_cast<uint8_t>(id - 1)), v);
      // The value just below an id's representative belongs to the previous id.
      EXPECT_EQ(fieldnorm_to_id(v - 1), id - 1) << "id " << id;
    }
  }
  EXPECT_EQ(id_to_fieldnorm(255), kFieldnormMaxValue);
}

TEST(Fieldnorm, MonotoneWithBoundedError) {
  // Dense sweep over small values, then a sparse sweep to 2^32.
  uint8_t prev = 0;
  for (uint32_t v = 0; v < 200000; ++v) {
    const uint8_t id = fieldnorm_to_id(v);
    ASSERT_GE(id, prev) << v;
    prev = id;
    const uint32_t rep = id_to_fieldnorm(id);
    ASSERT_LE(rep, v);
    // Rounds down by less than 1/8 of the value.
    ASSERT_LE(static_cast<uint64_t>(v - rep) * 8, v) << v;
  }
  std::mt19937_64 rng(5);
  uint64_t last_v = 0;
  prev = 0;
  for (uint64_t v = 200000; v <= UINT32_MAX; v += 1 + (rng() % (v / 64 + 1))) {
    ASSERT_GT(v, last_v);
    last_v = v;
    const uint8_t id = fieldnorm_to_id(static_cast<uint32_t>(v));
    ASSERT_GE(id, prev) << v;
    prev = id;
    const uint32_t rep = id_to_fieldnorm(id);
    ASSERT_LE(rep, v);
    if (id < 255) {
      ASSERT_LE((v - rep) * 8, v) << v;
    }
  }
}

TEST(Fieldnorm, ZeroAndHuge) {
  EXPECT_EQ(fieldnorm_to_id(0), 0);
  EXPECT_EQ(id_to_fieldnorm(0), 0u);
  EXPECT_EQ(fieldnorm_to_id(kFieldnormMaxValue), 255);
  EXPECT_EQ(fieldnorm_to_id(kFieldnormMaxValue - 1), 254);
  EXPECT_EQ(fieldnorm_to_id(kFieldnormMaxValue + 1), 255);
  EXPECT_EQ(fieldnorm_to_id(0x7fffffff), 255);
  EXPECT_EQ(fieldnorm_to_id(0x80000000u), 255);
  EXPECT_EQ(fieldnorm_to_id(UINT32_MAX), 255);
  // A few values from the spec table (docs/format/fieldnorm.md).
  EXPECT_EQ(id_to_fieldnorm(48), 48u);
  EXPECT_EQ(id_to_fieldnorm(49), 50u);
  EXPECT_EQ(id_to_fieldnorm(56), 64u);
  EXPECT_EQ(id_to_fieldnorm(100), 32u + (12u << 7));
  EXPECT_EQ(fieldnorm_to_id(1000), 95);  // 1000 - 32 = 968 = 0b1111001000: e = 6, m = 7
  EXPECT_EQ(id_to_fieldnorm(95), 992u);
}

}  // namespace
}  // namespace needle
