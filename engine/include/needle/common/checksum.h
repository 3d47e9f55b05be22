// The one checksum of needle's formats: XXH3 64-bit (seed 0) from libxxhash.
#pragma once

#include <cstdint>
#include <span>

namespace needle {

uint64_t checksum64(std::span<const uint8_t> data);

// Incremental form, for data written in pieces.
class Checksummer {
 public:
  Checksummer();
  ~Checksummer();
  Checksummer(const Checksummer&) = delete;
  Checksummer& operator=(const Checksummer&) = delete;
  void update(std::span<const uint8_t> data);
  uint64_t digest() const;

 private:
  void* state_;
};

}  // namespace needle
