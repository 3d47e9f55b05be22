// The in-memory term table of the segment writer against std::unordered_map: keys of every
// length (inline and arena-held), growth through several rehashes, prefetch hints that never
// change the answers, and postings buffers that keep their bytes as they grow.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "../src/index/term_table.h"

namespace needle {
namespace {

std::string random_key(std::mt19937_64& rng) {
  // Mostly short keys (the inline case), some right at the inline limit, some long.
  static const size_t kLens[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 26, 27, 28, 29, 40, 300};
  size_t len = kLens[rng() % std::size(kLens)];
  std::string k(len, '\0');
  // A small alphabet, so keys that differ only in their last bytes are common.
  for (char& c : k) c = static_cast<char>("ab\0\xff"[rng() % 4]);
  return k;
}

TEST(TermTable, MatchesAHashMap) {
  std::mt19937_64 rng(7);
  TermTable table;
  std::unordered_map<std::string, uint32_t> ref;
  std::vector<std::string> by_index;
  std::vector<std::string> pending;
  for (int round = 0; round < 400000; ++round) {
    const std::string key = random_key(rng);
    pending.push_back(key);
    const uint64_t h = TermTable::hash(key);
    if (round % 3 == 0) table.prefetch_slot(h);
    if (round % 5 == 0) table.prefetch_entry(h);
    if (round % 7 == 0) table.prefetch_postings(h);
    bool inserted = false;
    TermEntry& e = table.find_or_insert(key, h, inserted);
    auto [it, fresh] = ref.emplace(key, static_cast<uint32_t>(by_index.size()));
    ASSERT_EQ(inserted, fresh) << round;
    if (fresh) by_index.push_back(key);
    // Each entry counts its hits, so the entry returned must be the key's own.
    e.doc_freq++;
    ASSERT_EQ(e.key_len, key.size());
  }
  ASSERT_EQ(table.size(), by_index.size());
  ASSERT_GT(table.size(), size_t{1} << 16);  // grew past the first table
  std::unordered_map<std::string, uint32_t> hits;
  for (const std::string& k : pending) hits[k]++;
  for (uint32_t i = 0; i < by_index.size(); ++i) {
    ASSERT_EQ(table.key(i), by_index[i]) << i;
    ASSERT_EQ(table.entry(i).doc_freq, hits[by_index[i]]) << i;
  }
  table.clear();
  EXPECT_EQ(table.size(), 0u);
  bool inserted = false;
  table.find_or_insert("ab", TermTable::hash("ab"), inserted);
  EXPECT_TRUE(inserted);
}

TEST(TermTable, PostingsBufferKeepsItsBytes) {
  PostingsBuffer b;
  std::vector<uint8_t> ref;
  size_t capacity = 0;
  for (uint32_t v = 0; v < 100000; v += 7) {
    capacity += b.reserve_more(5);
    b.put_vint(v * 2654435761u);
    uint32_t x = v * 2654435761u;
    while (x >= 0x80) {
      ref.push_back(static_cast<uint8_t>(x) | 0x80);
      x >>= 7;
    }
    ref.push_back(static_cast<uint8_t>(x));
    ASSERT_EQ(capacity, b.capacity);
    ASSERT_LE(b.size, b.capacity);
  }
  ASSERT_EQ(std::vector<uint8_t>(b.data, b.data + b.size), ref);
  b.release();
  EXPECT_EQ(b.data, nullptr);
}

}  // namespace
}  // namespace needle
