// Field norms: the number of tokens of a field in a document, quantized to one byte
// (docs/format/fieldnorm.md).
//
// Ids 0..39 are exact. From 40 on, an id is 40 + 8*e + m (e = 0..26, m = 0..7) and stands for
// the value 40 - 8 + ((8 + m) << e): a float with 3 mantissa bits over (value - 32). Ids 40..47
// are still exact (e = 0), so every value 0..47 round-trips; above, the step between
// consecutive ids is at most 1/8 of the value. Quantization rounds down (an id stands for the
// smallest value it covers); values at or above id_to_fieldnorm(255) = 1006632992 give 255.
#pragma once

#include <cstdint>

namespace needle {

constexpr uint32_t kFieldnormExactIds = 40;     // ids 0..39 map to themselves
constexpr uint32_t kFieldnormExactUpTo = 47;    // every value <= 47 round-trips
constexpr uint32_t kFieldnormMaxValue = 1006632992;  // id_to_fieldnorm(255)

// Monotone (non-decreasing), exact for 0..47, rounds down above, saturates at 255.
uint8_t fieldnorm_to_id(uint32_t num_tokens);
// The smallest token count that maps to `id`; fieldnorm_to_id(id_to_fieldnorm(id)) == id and it
// is strictly increasing in id.
uint32_t id_to_fieldnorm(uint8_t id);

}  // namespace needle
