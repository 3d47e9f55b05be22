#include "needle/codec/fieldnorm.h"

namespace needle {

namespace {
constexpr uint32_t kMantissaBits = 3;
constexpr uint32_t kMaxExponent = 26;  // (255 - 40) / 8
// Values from kFieldnormExactIds on are coded as x = value - kOffset (x >= 8).
constexpr uint32_t kOffset = kFieldnormExactIds - (1u << kMantissaBits);  // 32
}  // namespace

uint8_t fieldnorm_to_id(uint32_t num_tokens) {
  if (num_tokens < kFieldnormExactIds) return static_cast<uint8_t>(num_tokens);
  const uint32_t x = num_tokens - kOffset;              // >= 8
  const uint32_t msb = 31 - static_cast<uint32_t>(__builtin_clz(x));  // >= 3
  const uint32_t e = msb - kMantissaBits;
  if (e > kMaxExponent) return 255;
  const uint32_t m = (x >> e) & ((1u << kMantissaBits) - 1);
  return static_cast<uint8_t>(kFieldnormExactIds + (e << kMantissaBits) + m);
}

uint32_t id_to_fieldnorm(uint8_t id) {
  if (id < kFieldnormExactIds) return id;
  const uint32_t k = id - kFieldnormExactIds;
  const uint32_t e = k >> kMantissaBits;
  const uint32_t m = k & ((1u << kMantissaBits) - 1);
  return kOffset + (((1u << kMantissaBits) + m) << e);
}

}  // namespace needle
