#include "needle/common/checksum.h"

#include <xxhash.h>

#include <new>

namespace needle {

uint64_t checksum64(std::span<const uint8_t> data) { return XXH3_64bits(data.data(), data.size()); }

Checksummer::Checksummer() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  XXH3_64bits_reset(static_cast<XXH3_state_t*>(state_));
}
Checksummer::~Checksummer() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void Checksummer::update(std::span<const uint8_t> data) {
  XXH3_64bits_update(static_cast<XXH3_state_t*>(state_), data.data(), data.size());
}
uint64_t Checksummer::digest() const {
  return XXH3_64bits_digest(static_cast<const XXH3_state_t*>(state_));
}

}  // namespace needle
