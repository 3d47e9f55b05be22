// The in-memory term table of a segment being built: an open-addressing hash table (linear
// probing, power-of-two size, at most half full) from term keys to TermEntry records. Term i is
// numbered in order of first insertion. Private to the index module.
//
// Indexing spends most of its time here, waiting on memory: a term's slot, its key and its
// postings state are three cache misses when they live apart. So an entry is one 64-byte cache
// line holding the postings state and the key itself (keys of up to kInlineKey bytes; longer
// ones live in an arena), and callers that know the next keys ahead prefetch their slots and
// entries (prefetch_slot, prefetch_entry) while they work on the current one.
#pragma once

#ifndef XXH_INLINE_ALL
#define XXH_INLINE_ALL  // the hash of a short key inlined: no call per token
#endif
#include <xxhash.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <vector>

#include "needle/common/error.h"

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace needle {

// Allocates the table's large arrays (slots, entries) on 2 MiB-aligned memory that Linux is asked
// to back with transparent huge pages: the table is read at random, and with 4 KiB pages nearly
// every lookup in a large table also misses the TLB. Small arrays, and other systems, use
// operator new.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHuge = size_t{2} << 20;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
#ifdef __linux__
    if (bytes >= kHuge) {
      const size_t rounded = (bytes + kHuge - 1) & ~(kHuge - 1);
      void* p = ::mmap(nullptr, rounded + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      const auto base = reinterpret_cast<uintptr_t>(p);
      const uintptr_t aligned = (base + kHuge - 1) & ~(uintptr_t{kHuge} - 1);
      if (aligned > base) ::munmap(p, aligned - base);
      const uintptr_t end = base + rounded + kHuge;
      if (end > aligned + rounded) ::munmap(reinterpret_cast<void*>(aligned + rounded), end - aligned - rounded);
      ::madvise(reinterpret_cast<void*>(aligned), rounded, MADV_HUGEPAGE);  // a hint; failure is fine
      return reinterpret_cast<T*>(aligned);
    }
#endif
    return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
  }
  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
#ifdef __linux__
    if (bytes >= kHuge) {
      ::munmap(p, (bytes + kHuge - 1) & ~(kHuge - 1));
      return;
    }
#endif
    ::operator delete(p, std::align_val_t{alignof(T)});
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

// The growable byte buffer of a term's in-memory postings. Plain malloc/realloc memory, so
// entries stay trivially copyable when the entry array grows.
struct PostingsBuffer {
  uint8_t* data = nullptr;
  uint32_t size = 0;
  uint32_t capacity = 0;

  // Makes room for `n` more bytes; returns the growth of the capacity (for memory accounting).
  size_t reserve_more(uint32_t n) {
    if (capacity - size >= n) return 0;
    uint64_t want = capacity == 0 ? 16 : uint64_t{capacity} * 2;
    while (want - size < n) want *= 2;
    if (want > UINT32_MAX) throw_error(ErrorCode::kResourceExhausted, "a term's in-memory postings passed 4 GiB");
    auto* p = static_cast<uint8_t*>(std::realloc(data, want));
    if (p == nullptr) throw std::bad_alloc();
    data = p;
    const size_t grown = want - capacity;
    capacity = static_cast<uint32_t>(want);
    return grown;
  }
  void put_byte(uint8_t b) { data[size++] = b; }
  // Needs 5 free bytes (reserve_more(5)).
  void put_vint(uint32_t v) {
    while (v >= 0x80) {
      data[size++] = static_cast<uint8_t>(v) | 0x80;
      v >>= 7;
    }
    data[size++] = static_cast<uint8_t>(v);
  }
  void release() {
    std::free(data);
    data = nullptr;
    size = capacity = 0;
  }
};

// One term of the segment being built: its postings state and its key, in one cache line.
struct alignas(64) TermEntry {
  static constexpr uint32_t kInlineKey = 27;
  // The in-memory postings: a vint stream of doc delta, then (kFreq) the term frequency when the
  // doc closes, or (kPosition) position deltas + 1 closed by a 0.
  uint32_t last_doc = UINT32_MAX;
  uint32_t cur_tf = 0;
  uint32_t last_pos = 0;
  uint32_t doc_freq = 0;
  PostingsBuffer postings;
  uint32_t key_len = 0;
  uint8_t option = 0;          // IndexRecordOption
  char key[kInlineKey] = {};   // the key when key_len <= kInlineKey, else its arena offset
};
static_assert(sizeof(TermEntry) == 64, "a term entry is one cache line");

class TermTable {
 public:
  TermTable() { rehash(1 << 16); }
  TermTable(const TermTable&) = delete;
  TermTable& operator=(const TermTable&) = delete;
  ~TermTable() {
    for (TermEntry& e : entries_) e.postings.release();
  }

  static uint64_t hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

  // Hints for a key that will be looked up soon: first its slot, some steps later its entry
  // (which reads the slot, so it should have arrived by then). Never change the table.
  void prefetch_slot(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }
  void prefetch_entry(uint64_t h) const {
    const Slot& s = slots_[h & mask_];
    if (s.index_plus_1 != 0 && s.tag == static_cast<uint32_t>(h >> 32)) {
      __builtin_prefetch(&entries_[s.index_plus_1 - 1], 1);
    }
  }

  // Last, the end of its postings, where the next bytes go (reads the entry).
  void prefetch_postings(uint64_t h) const {
    const Slot& s = slots_[h & mask_];
    if (s.index_plus_1 != 0 && s.tag == static_cast<uint32_t>(h >> 32)) {
      const PostingsBuffer& p = entries_[s.index_plus_1 - 1].postings;
      if (p.data != nullptr) __builtin_prefetch(p.data + p.size, 1);
    }
  }

  // The entry of `key` (whose hash() is `h`), inserted when new (`inserted` says which). The
  // reference is valid until the next insertion.
  TermEntry& find_or_insert(std::string_view key, uint64_t h, bool& inserted) {
    const uint32_t tag = static_cast<uint32_t>(h >> 32);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.index_plus_1 == 0) {
        inserted = true;
        const uint32_t index = static_cast<uint32_t>(entries_.size());
        TermEntry& e = entries_.emplace_back();
        e.key_len = static_cast<uint32_t>(key.size());
        if (key.size() <= TermEntry::kInlineKey) {
          std::memcpy(e.key, key.data(), key.size());
        } else {
          const uint64_t offset = arena_.size();
          std::memcpy(e.key, &offset, sizeof offset);
          arena_.insert(arena_.end(), key.begin(), key.end());
        }
        s.tag = tag;
        s.index_plus_1 = index + 1;
        if (entries_.size() * 2 > slots_.size()) rehash(slots_.size() * 2);
        return e;
      }
      if (s.tag == tag) {
        TermEntry& e = entries_[s.index_plus_1 - 1];
        if (e.key_len == key.size() && same_bytes(key_data(e), key.data(), key.size())) {
          inserted = false;
          return e;
        }
      }
    }
  }

  std::string_view key(uint32_t index) const {
    const TermEntry& e = entries_[index];
    return {key_data(e), e.key_len};
  }
  TermEntry& entry(uint32_t index) { return entries_[index]; }
  size_t size() const { return entries_.size(); }
  size_t memory_usage() const {
    return slots_.capacity() * sizeof(Slot) + arena_.capacity() + entries_.capacity() * sizeof(TermEntry);
  }
  // Frees every term's postings and forgets the terms.
  void clear() {
    for (TermEntry& e : entries_) e.postings.release();
    entries_.clear();
    entries_.shrink_to_fit();
    arena_.clear();
    arena_.shrink_to_fit();
    rehash(1 << 16);
  }

 private:
  struct Slot {
    uint32_t tag = 0;           // high hash bits, to skip most key comparisons
    uint32_t index_plus_1 = 0;  // 0: empty
  };

  // memcmp(a, b, n) == 0 without a library call: keys are mostly a few bytes long.
  static bool same_bytes(const char* a, const char* b, size_t n) {
    if (n >= 8) {
      for (size_t i = 0; i + 8 < n; i += 8) {
        if (load64(a + i) != load64(b + i)) return false;
      }
      return load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4) return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    for (size_t i = 0; i < n; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }
  static uint64_t load64(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static uint32_t load32(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }

  const char* key_data(const TermEntry& e) const {
    if (e.key_len <= TermEntry::kInlineKey) return e.key;
    uint64_t offset;
    std::memcpy(&offset, e.key, sizeof offset);
    return arena_.data() + offset;
  }

  void rehash(size_t capacity) {
    std::vector<Slot, HugePageAllocator<Slot>> next(capacity);
    const uint64_t mask = capacity - 1;
    for (uint32_t index = 0; index < entries_.size(); ++index) {
      const uint64_t h = hash(key(index));
      uint64_t i = h & mask;
      while (next[i].index_plus_1 != 0) i = (i + 1) & mask;
      next[i] = Slot{static_cast<uint32_t>(h >> 32), index + 1};
    }
    slots_.swap(next);
    mask_ = mask;
  }

  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::vector<char> arena_;  // keys longer than TermEntry::kInlineKey
  std::vector<TermEntry, HugePageAllocator<TermEntry>> entries_;
  uint64_t mask_ = 0;
};

}  // namespace needle
