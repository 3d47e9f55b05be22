// The in-memory term table of a segment being built: an open-addressing hash table (linear
// probing, power-of-two size, at most half full) over term keys kept in one byte arena. Term i
// is numbered in order of first insertion. Private to the index module.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace needle {

class TermTable {
 public:
  TermTable() { rehash(1 << 16); }

  // The number of `key`, inserting it when new (`inserted` says which).
  uint32_t find_or_insert(std::string_view key, bool& inserted) {
    const uint64_t h = XXH3_64bits(key.data(), key.size());
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.index_plus_1 == 0) {
        inserted = true;
        const uint32_t index = static_cast<uint32_t>(keys_.size());
        keys_.push_back(Key{arena_.size(), static_cast<uint32_t>(key.size())});
        arena_.insert(arena_.end(), key.begin(), key.end());
        s.tag = tag;
        s.index_plus_1 = index + 1;
        if (keys_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
        return index;
      }
      if (s.tag == tag) {
        const Key& k = keys_[s.index_plus_1 - 1];
        if (k.len == key.size() && std::memcmp(arena_.data() + k.offset, key.data(), key.size()) == 0) {
          inserted = false;
          return s.index_plus_1 - 1;
        }
      }
    }
  }

  std::string_view key(uint32_t index) const {
    const Key& k = keys_[index];
    return {arena_.data() + k.offset, k.len};
  }
  size_t size() const { return keys_.size(); }
  size_t memory_usage() const {
    return slots_.capacity() * sizeof(Slot) + arena_.capacity() + keys_.capacity() * sizeof(Key);
  }

 private:
  struct Slot {
    uint32_t tag = 0;           // high hash bits, to skip most key comparisons
    uint32_t index_plus_1 = 0;  // 0: empty
  };
  struct Key {
    uint64_t offset;
    uint32_t len;
  };

  void rehash(size_t capacity) {
    std::vector<Slot> next(capacity);
    const uint64_t mask = capacity - 1;
    for (uint32_t index = 0; index < keys_.size(); ++index) {
      std::string_view k = key(index);
      const uint64_t h = XXH3_64bits(k.data(), k.size());
      uint64_t i = h & mask;
      while (next[i].index_plus_1 != 0) i = (i + 1) & mask;
      next[i] = Slot{static_cast<uint32_t>(h >> 32), index + 1};
    }
    slots_.swap(next);
    mask_ = mask;
  }

  std::vector<Slot> slots_;
  std::vector<char> arena_;
  std::vector<Key> keys_;
  uint64_t mask_ = 0;
};

}  // namespace needle
