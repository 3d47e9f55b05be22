#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "needle/common/bytes.h"
#include "needle/store/file_slice.h"
#include "needle/termdict/automaton.h"
#include "needle/termdict/termdict.h"

namespace needle {
namespace {

using Map = std::map<std::string, std::vector<uint8_t>>;

std::vector<uint8_t> build(const Map& m, size_t block_size = 4096, const ValueChain* chain = nullptr) {
  TermDictBuilder b(block_size, chain);
  for (const auto& [k, v] : m) b.insert(k, v);
  EXPECT_EQ(b.num_terms(), m.size());
  return b.finish();
}

TermDict open_bytes(const std::vector<uint8_t>& file, std::string name = "test.tdic",
                    const ValueChain* chain = nullptr) {
  return TermDict::open(FileSlice::from_bytes(Bytes::copy_of(file), std::move(name)), chain);
}

// A chain for tests: values are 8-byte little-endian numbers, stored as a vint of the number in a
// block's first entry and of its difference to the previous number after it; a number below the
// previous one cannot follow it (the builder then starts a block).
class DeltaChain final : public ValueChain {
 public:
  static std::vector<uint8_t> value(uint64_t v) {
    std::vector<uint8_t> out(8);
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(v >> (8 * i));
    return out;
  }
  bool encode(std::span<const uint8_t> value, bool first, State& state, ByteWriter& out) const override {
    EXPECT_EQ(value.size(), 8u);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(value[i]) << (8 * i);
    if (!first && v < state.a) return false;
    out.vint(first ? v : v - state.a);
    state.a = v;
    return true;
  }
  void decode(std::span<const uint8_t> stored, bool first, State& state,
              std::vector<uint8_t>* out) const override {
    ByteReader r(stored, "delta chain");
    uint64_t d = r.vint();
    if (!r.done()) r.fail("bytes after the value");
    if (!first && d > UINT64_MAX - state.a) r.fail("value past 2^64 - 1");
    state.a = first ? d : state.a + d;
    if (out != nullptr) *out = value(state.a);
  }
};

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::string random_key(std::mt19937_64& rng, size_t max_len, int alphabet = 256) {
  size_t len = 1 + rng() % max_len;
  std::string k(len, '\0');
  for (auto& c : k) c = static_cast<char>(rng() % static_cast<uint64_t>(alphabet));
  return k;
}

std::vector<uint8_t> random_value(std::mt19937_64& rng) {
  std::vector<uint8_t> v(rng() % 21);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// All (key, value, ordinal) a stream yields.
struct Entry {
  std::string key;
  std::vector<uint8_t> value;
  uint64_t ord;
  bool operator==(const Entry&) const = default;
};
std::vector<Entry> drain(TermStream s) {
  std::vector<Entry> out;
  while (s.next()) out.push_back({std::string(s.key()), {s.value().begin(), s.value().end()}, s.ordinal()});
  EXPECT_FALSE(s.next());
  return out;
}

std::vector<Entry> expected_range(const Map& m, const std::optional<TermBound>& lo,
                                  const std::optional<TermBound>& hi) {
  std::vector<Entry> out;
  auto it = m.begin();
  if (lo) it = lo->inclusive ? m.lower_bound(lo->key) : m.upper_bound(lo->key);
  auto ord = static_cast<uint64_t>(std::distance(m.begin(), it));
  for (; it != m.end(); ++it, ++ord) {
    const std::string& k = it->first;
    if (hi && (hi->inclusive ? k > hi->key : k >= hi->key)) break;
    out.push_back({k, it->second, ord});
  }
  return out;
}

void check_all_gets(const TermDict& d, const Map& m) {
  std::vector<uint8_t> v;
  for (const auto& [k, val] : m) {
    ASSERT_TRUE(d.get(k, v)) << "key of " << k.size() << " bytes";
    ASSERT_EQ(v, val);
  }
}

TEST(TermDict, Empty) {
  Map m;
  auto file = build(m);
  TermDict d = open_bytes(file);
  d.verify_checksum();
  EXPECT_EQ(d.num_terms(), 0u);
  std::vector<uint8_t> v;
  EXPECT_FALSE(d.get("", v));
  EXPECT_FALSE(d.get("a", v));
  EXPECT_TRUE(drain(d.range(std::nullopt, std::nullopt)).empty());
  EXPECT_TRUE(drain(d.prefix("")).empty());
  EXPECT_TRUE(drain(d.search(make_regex_automaton(".*"), "")).empty());
  EXPECT_FALSE(d.first_key(""));
  EXPECT_FALSE(d.last_key(""));
  // A default TermDict behaves as an empty one.
  TermDict none;
  EXPECT_EQ(none.num_terms(), 0u);
  EXPECT_FALSE(none.get("a", v));
  EXPECT_TRUE(drain(none.prefix("a")).empty());
  TermStream empty;
  EXPECT_FALSE(empty.next());
}

TEST(TermDict, OneKey) {
  Map m{{"hello", bytes_of("world")}};
  TermDict d = open_bytes(build(m));
  std::vector<uint8_t> v;
  EXPECT_TRUE(d.get("hello", v));
  EXPECT_EQ(v, bytes_of("world"));
  for (const char* absent : {"", "a", "hell", "hellp", "z"}) EXPECT_FALSE(d.get(absent, v));
  EXPECT_FALSE(d.get(std::string("hello\0", 6), v));
  EXPECT_EQ(d.first_key(""), "hello");
  EXPECT_EQ(d.last_key(""), "hello");
  EXPECT_EQ(d.first_key("he"), "hello");
  EXPECT_EQ(d.last_key("hello"), "hello");
  EXPECT_FALSE(d.last_key("hellox"));
  EXPECT_FALSE(d.first_key("i"));
  EXPECT_EQ(drain(d.range(std::nullopt, std::nullopt)), expected_range(m, std::nullopt, std::nullopt));
}

TEST(TermDict, EmptyKeyAndEmptyValues) {
  Map m{{"", {}}, {"\x00", {1}}, {"a", {}}, {"ab", {2, 3}}};
  m[std::string(1, '\0')] = {1};
  for (size_t bs : {1, 4, 4096}) {
    TermDict d = open_bytes(build(m, bs));
    check_all_gets(d, m);
    EXPECT_EQ(d.first_key(""), "");
    EXPECT_EQ(d.last_key(""), "ab");
    EXPECT_EQ(drain(d.prefix("")), expected_range(m, std::nullopt, std::nullopt));
    EXPECT_EQ(drain(d.range(TermBound{"", false}, std::nullopt)),
              expected_range(m, TermBound{"", false}, std::nullopt));
  }
}

TEST(TermDict, BuilderRejectsUnorderedKeys) {
  TermDictBuilder b;
  b.insert("b", {});
  for (std::string_view bad : {"a", "b", ""}) {
    try {
      b.insert(bad, {});
      FAIL() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInternal);
    }
  }
  b.insert("c", {});
  EXPECT_EQ(b.num_terms(), 2u);
}

TEST(TermDict, LongKeys) {
  std::mt19937_64 rng(7);
  Map m;
  std::string base(10000, 'x');
  for (int i = 0; i < 50; ++i) {
    std::string k = base;
    k[rng() % k.size()] = static_cast<char>('a' + rng() % 26);
    k += std::to_string(i);
    m[k] = random_value(rng);
    m[random_key(rng, 10240)] = random_value(rng);
  }
  for (size_t bs : {64, 4096, 100000}) {
    TermDict d = open_bytes(build(m, bs));
    check_all_gets(d, m);
    EXPECT_EQ(drain(d.prefix("")), expected_range(m, std::nullopt, std::nullopt));
    EXPECT_EQ(drain(d.prefix(base.substr(0, 5000))),
              expected_range(m, TermBound{base.substr(0, 5000), true},
                             TermBound{base.substr(0, 4999) + "y", false}));
    EXPECT_EQ(d.last_key("x"), std::prev(m.lower_bound("y"))->first);
  }
}

class BigDict : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::mt19937_64 rng(42);
    map_ = new Map;
    while (map_->size() < 200000) (*map_)[random_key(rng, 16)] = random_value(rng);
    file_ = new std::vector<uint8_t>(build(*map_));
  }
  static void TearDownTestSuite() {
    delete map_;
    delete file_;
  }
  static Map* map_;
  static std::vector<uint8_t>* file_;
};
Map* BigDict::map_ = nullptr;
std::vector<uint8_t>* BigDict::file_ = nullptr;

TEST_F(BigDict, GetEveryKeyAndAbsentKeys) {
  TermDict d = open_bytes(*file_);
  d.verify_checksum();
  EXPECT_EQ(d.num_terms(), map_->size());
  EXPECT_GT(d.num_blocks(), 100u);
  check_all_gets(d, *map_);
  std::vector<uint8_t> v;
  EXPECT_FALSE(d.get("", v));                     // before the first key
  EXPECT_FALSE(d.get(std::string(20, '\xff'), v));  // after the last
  std::mt19937_64 rng(3);
  int absent = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string k = random_key(rng, 16);
    if (i % 2) {  // just after an existing key
      auto it = map_->lower_bound(k);
      if (it == map_->end()) continue;
      k = it->first + std::string(1, '\0');
    }
    if (map_->count(k)) continue;
    ++absent;
    ASSERT_FALSE(d.get(k, v));
  }
  EXPECT_GT(absent, 15000);
  EXPECT_EQ(d.first_key(""), map_->begin()->first);
  EXPECT_EQ(d.last_key(""), map_->rbegin()->first);
}

TEST_F(BigDict, FullScanAndSomeRanges) {
  TermDict d = open_bytes(*file_);
  EXPECT_EQ(drain(d.range(std::nullopt, std::nullopt)),
            expected_range(*map_, std::nullopt, std::nullopt));
  std::mt19937_64 rng(5);
  for (int i = 0; i < 6; ++i) {
    std::string a = random_key(rng, 3), b = random_key(rng, 3);
    if (a > b) std::swap(a, b);
    TermBound lo{a, (rng() & 1) != 0}, hi{b, (rng() & 1) != 0};
    ASSERT_EQ(drain(d.range(lo, hi)), expected_range(*map_, lo, hi));
  }
}

TEST(TermDict, RangeEveryBoundCombination) {
  std::mt19937_64 rng(11);
  for (size_t bs : {16, 128, 4096}) {
    Map m;
    while (m.size() < 1500) m[random_key(rng, 6, 8)] = random_value(rng);
    TermDict d = open_bytes(build(m, bs));
    std::vector<std::string> existing;
    for (const auto& [k, v] : m) existing.push_back(k);
    auto pick = [&]() -> std::string {
      switch (rng() % 4) {
        case 0: return existing[rng() % existing.size()];
        case 1: return random_key(rng, 6, 8);
        case 2: return existing[rng() % existing.size()] + std::string(1, '\0');
        default: return rng() % 2 ? std::string() : std::string(8, '\xff');
      }
    };
    for (int i = 0; i < 25; ++i) {
      std::string a = pick(), b = pick();
      if (rng() % 4 != 0 && a > b) std::swap(a, b);  // sometimes an empty (inverted) range
      for (int lk = 0; lk < 3; ++lk) {
        for (int uk = 0; uk < 3; ++uk) {
          std::optional<TermBound> lo, hi;
          if (lk > 0) lo = TermBound{a, lk == 1};
          if (uk > 0) hi = TermBound{b, uk == 1};
          ASSERT_EQ(drain(d.range(lo, hi)), expected_range(m, lo, hi))
              << "block size " << bs << " lower kind " << lk << " upper kind " << uk;
        }
      }
    }
  }
}

TEST(TermDict, PrefixFirstLast) {
  std::mt19937_64 rng(13);
  for (size_t bs : {16, 200, 4096}) {
    Map m;
    while (m.size() < 3000) {
      std::string k = random_key(rng, 7, 4);
      for (auto& c : k) {
        if (c == 3) c = '\xff';  // exercise prefix successors over 0xff bytes
      }
      m[k] = random_value(rng);
    }
    TermDict d = open_bytes(build(m, bs));
    std::vector<std::string> prefixes{"", std::string(1, '\xff'), std::string(2, '\xff'),
                                      std::string(1, '\x05')};
    for (int i = 0; i < 200; ++i) {
      std::string k = random_key(rng, 4, 4);
      for (auto& c : k) {
        if (c == 3) c = '\xff';
      }
      prefixes.push_back(k);
    }
    for (const std::string& p : prefixes) {
      std::vector<Entry> want;
      uint64_t ord = 0;
      for (const auto& [k, v] : m) {
        if (k.compare(0, p.size(), p) == 0) want.push_back({k, v, ord});
        ++ord;
      }
      ASSERT_EQ(drain(d.prefix(p)), want);
      auto first = d.first_key(p), last = d.last_key(p);
      if (want.empty()) {
        EXPECT_FALSE(first);
        EXPECT_FALSE(last);
      } else {
        EXPECT_EQ(first, want.front().key);
        EXPECT_EQ(last, want.back().key);
      }
    }
  }
}

TEST(TermDict, PrefixSuccessor) {
  EXPECT_FALSE(prefix_successor(""));
  EXPECT_FALSE(prefix_successor("\xff\xff"));
  EXPECT_EQ(prefix_successor("ab"), "ac");
  EXPECT_EQ(prefix_successor("a\xff"), "b");
  EXPECT_EQ(prefix_successor(std::string("a\x00", 2)), std::string("a\x01", 2));
}

TEST(TermDict, StreamsAreIndependentAndMovable) {
  Map m;
  for (int i = 0; i < 1000; ++i) m["k" + std::to_string(i)] = {static_cast<uint8_t>(i)};
  TermDict d = open_bytes(build(m, 64));
  TermDict copy = d;
  TermStream a = d.prefix("k1"), b = copy.prefix("k1");
  ASSERT_TRUE(a.next());
  std::string first(a.key());
  TermStream moved = std::move(a);
  ASSERT_TRUE(moved.next());
  ASSERT_TRUE(b.next());
  EXPECT_EQ(b.key(), first);
  EXPECT_GT(moved.key(), first);
}

TEST(TermDict, ConcurrentReaders) {
  std::mt19937_64 rng(17);
  Map m;
  while (m.size() < 20000) m[random_key(rng, 10)] = random_value(rng);
  TermDict d = open_bytes(build(m, 512));
  std::vector<std::pair<std::string, std::vector<uint8_t>>> items(m.begin(), m.end());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<uint8_t> v;
      for (size_t i = static_cast<size_t>(t); i < items.size(); i += 3) {
        if (!d.get(items[i].first, v) || v != items[i].second) ++bad;
      }
      size_t n = 0;
      TermStream s = d.range(std::nullopt, std::nullopt);
      while (s.next()) ++n;
      if (n != items.size()) ++bad;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

// A file behind a callback reader that counts reads, as object storage would be.
struct CountingFile {
  std::vector<uint8_t> bytes;
  std::shared_ptr<std::atomic<int>> reads = std::make_shared<std::atomic<int>>(0);
  FileSlice slice() const {
    auto data = std::make_shared<std::vector<uint8_t>>(bytes);
    auto counter = reads;
    return FileSlice(callback_reader(
        data->size(),
        [data, counter](uint64_t off, std::span<uint8_t> out) {
          ++*counter;
          std::memcpy(out.data(), data->data() + off, out.size());
        },
        "remote.tdic"));
  }
};

TEST(TermDict, RemoteReadCounts) {
  std::mt19937_64 rng(19);
  for (size_t n : {10, 1000, 100000}) {
    Map m;
    while (m.size() < n) m[random_key(rng, 12, 64)] = random_value(rng);
    CountingFile f{build(m, n == 100000 ? 128 : 4096)};
    if (n == 100000) {
      EXPECT_GT(f.bytes.size(), 1u << 20);
    }
    TermDict d = TermDict::open(f.slice());
    EXPECT_LE(f.reads->load(), 2) << n << " keys";
    if (n == 100000) {
      EXPECT_EQ(f.reads->load(), 2);  // the index is larger than the first read
    }
    std::vector<uint8_t> v;
    int i = 0;
    for (const auto& [k, val] : m) {
      if (i++ % 97 != 0) continue;
      int before = f.reads->load();
      ASSERT_TRUE(d.get(k, v));
      ASSERT_EQ(v, val);
      ASSERT_LE(f.reads->load() - before, 1);
    }
    int before = f.reads->load();
    EXPECT_FALSE(d.get(std::string(20, '\x7f'), v));  // above every separator: no read
    EXPECT_EQ(f.reads->load(), before);
    TermStream s = d.prefix("a");  // a stream reads nothing until advanced
    EXPECT_EQ(f.reads->load(), before);
    EXPECT_EQ(drain(d.range(std::nullopt, std::nullopt)).size(), m.size());
    EXPECT_EQ(static_cast<uint64_t>(f.reads->load() - before), d.num_blocks());
    d.verify_checksum();
  }
}

// Wraps an automaton and counts its steps.
class CountingAutomaton : public Automaton {
 public:
  explicit CountingAutomaton(std::shared_ptr<const Automaton> a) : a_(std::move(a)) {}
  State start() const override { return a_->start(); }
  State step(State s, uint8_t b) const override {
    ++steps;
    return a_->step(s, b);
  }
  bool is_match(State s) const override { return a_->is_match(s); }
  bool can_match(State s) const override { return a_->can_match(s); }
  mutable uint64_t steps = 0;

 private:
  std::shared_ptr<const Automaton> a_;
};

TEST(TermDict, SearchPrunesDeadPrefixes) {
  std::mt19937_64 rng(23);
  Map m;
  uint64_t total_bytes = 0;
  while (m.size() < 100000) {
    std::string k = "f";
    size_t len = 5 + rng() % 8;
    for (size_t i = 0; i < len; ++i) k += static_cast<char>('a' + rng() % 25);  // a..y
    m[k] = {};
  }
  for (const auto& [k, v] : m) total_bytes += k.size();
  CountingFile f{build(m, 1024)};
  TermDict d = TermDict::open(f.slice());

  auto nothing = std::make_shared<CountingAutomaton>(make_regex_automaton("z.*"));
  int reads_before = f.reads->load();
  EXPECT_TRUE(drain(d.search(nothing, "f")).empty());
  EXPECT_LT(nothing->steps, 100u);  // one step per first letter, each jumps past its keys
  EXPECT_LT(static_cast<uint64_t>(f.reads->load() - reads_before), 60u);

  auto some = std::make_shared<CountingAutomaton>(make_regex_automaton("a[b-c]z.*"));
  auto got = drain(d.search(some, "f"));
  std::vector<std::string> want;
  for (const auto& [k, v] : m) {
    if (k.size() >= 4 && k[1] == 'a' && (k[2] == 'b' || k[2] == 'c') && k[3] == 'z') want.push_back(k);
  }
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(got[i].key, want[i]);
  EXPECT_LT(some->steps * 20, total_bytes) << some->steps << " steps for " << total_bytes << " bytes";

  // Incremental: a match-everything walk steps once per byte not shared with the previous key.
  uint64_t new_bytes = 0;
  std::string prev = "f";
  for (const auto& [k, v] : m) {
    size_t lcp = 0;
    while (lcp < prev.size() && lcp < k.size() && prev[lcp] == k[lcp]) ++lcp;
    new_bytes += k.size() - lcp;
    prev = k;
  }
  auto all = std::make_shared<CountingAutomaton>(make_regex_automaton(".*"));
  EXPECT_EQ(drain(d.search(all, "f")).size(), m.size());
  EXPECT_EQ(all->steps, new_bytes);
  EXPECT_LT(all->steps, total_bytes * 2 / 3);
}

TEST(TermDict, VerifyChecksumCatchesWhatOpenDoesNot) {
  Map m;
  for (int i = 0; i < 500; ++i) m["key" + std::to_string(i)] = {1, 2, 3};
  auto file = build(m, 256);
  auto bad = file;
  bad[100] ^= 0x01;  // inside the first block
  TermDict d = open_bytes(bad);
  try {
    d.verify_checksum();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  }
  auto bad_header = file;
  bad_header[9] ^= 0x01;  // the kind, at the front: noticed when the whole file is read
  EXPECT_THROW(open_bytes(bad_header), Error);
}

TEST(TermDict, VersionAndKindErrors) {
  Map m{{"a", {}}};
  auto file = build(m);
  // The trailer's copy of the header: version is at 4..8 of the copy.
  size_t copy = file.size() - 20 - 48;
  auto newer = file;
  newer[8] = 9;
  newer[copy + 8] = 9;
  try {
    open_bytes(newer);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kVersionTooNew);
  }
  auto older = file;
  older[8] = 1;  // version 1 values were never chained: rejected
  older[copy + 8] = 1;
  try {
    open_bytes(older);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kVersionTooOld);
  }
  auto other = file;
  other[copy + 4] = 'X';
  try {
    open_bytes(other);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  }
}

// Runs every read operation; corrupt input must either throw needle::Error or return.
void exercise(const std::vector<uint8_t>& file, const std::vector<std::string>& keys,
              const ValueChain* chain = nullptr) {
  try {
    TermDict d = open_bytes(file, "test.tdic", chain);
    std::vector<uint8_t> v;
    for (size_t i = 0; i < keys.size(); i += 7) {
      try {
        d.get(keys[i], v);
      } catch (const Error&) {
      }
    }
    auto run = [](TermStream s) {
      try {
        size_t n = 0;
        while (s.next() && n < 1000000) {
          (void)s.key();
          (void)s.value();
          ++n;
        }
      } catch (const Error&) {
      }
    };
    run(d.range(std::nullopt, std::nullopt));
    run(d.prefix("k1"));
    run(d.range(TermBound{"k3", false}, TermBound{"k5", true}));
    run(d.search(make_regex_automaton("k[0-4].*"), ""));
    run(d.search(make_levenshtein_automaton("k123", 1, true, false), ""));
    try {
      d.first_key("k2");
      d.last_key("k2");
      d.last_key("");
    } catch (const Error&) {
    }
    try {
      d.verify_checksum();
    } catch (const Error&) {
    }
  } catch (const Error&) {
  }
}

TEST(TermDict, CorruptionNeverReadsOutOfBounds) {
  std::mt19937_64 rng(29);
  Map m;
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) {
    std::string k = "k" + std::to_string(rng() % 100000);
    m[k] = random_value(rng);
  }
  for (const auto& [k, v] : m) keys.push_back(k);
  auto file = build(m, 256);
  for (int iter = 0; iter < 1500; ++iter) {
    auto bad = file;
    int kind = static_cast<int>(rng() % 4);
    if (kind == 0) {
      bad.resize(rng() % bad.size());
    } else {
      int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        size_t pos;
        if (kind == 1) {
          pos = rng() % bad.size();
        } else {  // concentrate on the tail: index, trailer, footer
          size_t tail = std::min<size_t>(bad.size(), 600);
          pos = bad.size() - 1 - rng() % tail;
        }
        bad[pos] = kind == 3 ? static_cast<uint8_t>(rng()) : bad[pos] ^ static_cast<uint8_t>(1u << (rng() % 8));
      }
    }
    exercise(bad, keys);
  }
  // Every truncation of a small file.
  Map small;
  for (int i = 0; i < 40; ++i) small["k" + std::to_string(i)] = {static_cast<uint8_t>(i)};
  auto sfile = build(small, 32);
  for (size_t n = 0; n < sfile.size(); ++n) {
    std::vector<uint8_t> cut(sfile.begin(), sfile.begin() + static_cast<ptrdiff_t>(n));
    EXPECT_THROW(open_bytes(cut), Error) << n;
  }
  // Every single-byte flip of the small file.
  for (size_t i = 0; i < sfile.size(); ++i) {
    auto bad = sfile;
    bad[i] ^= 0x40;
    exercise(bad, keys);
  }
}

}  // namespace
}  // namespace needle

namespace needle {
namespace {

// The worked example of docs/format/termdict.md, byte for byte.
TEST(TermDict, SpecExample) {
  Map m{{"apple", {0x01}}, {"apply", {0x02}}, {"banana", {}}};
  auto file = build(m, 16);
  const std::vector<uint8_t> want = {
      0x4e, 0x44, 0x4c, 0x46, 0x54, 0x44, 0x49, 0x43, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x05, 0x61, 0x70, 0x70, 0x6c, 0x65, 0x01, 0x01,
      0x04, 0x01, 0x79, 0x01, 0x02,
      0x00, 0x06, 0x62, 0x61, 0x6e, 0x61, 0x6e, 0x61, 0x00,
      0x00, 0x01, 0x62, 0x0e, 0x02,
      0x01, 0x05, 0x61, 0x6e, 0x61, 0x6e, 0x61, 0x09, 0x01,
      0x4e, 0x44, 0x4c, 0x46, 0x54, 0x44, 0x49, 0x43, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x02, 0x00, 0x00, 0x00,
      0x54, 0x44, 0x54, 0x52,
      0x55, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  ASSERT_EQ(file.size(), want.size() + 12);
  EXPECT_EQ(std::vector<uint8_t>(file.begin(), file.begin() + static_cast<ptrdiff_t>(want.size())), want);
  std::string sum;
  for (size_t i = want.size(); i < want.size() + 8; ++i) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x ", file[i]);
    sum += buf;
  }
  // The checksum as docs/format/termdict.md prints it.
  EXPECT_EQ(sum, "59 88 b6 9d 8f 02 b9 87 ");
  EXPECT_EQ(std::vector<uint8_t>(file.end() - 4, file.end()), (std::vector<uint8_t>{0x4e, 0x44, 0x4c, 0x45}));
}

// Chained values: every read path hands out the values as inserted, a value the chain cannot
// follow starts a block, and each block decodes on its own.
TEST(TermDict, ChainedValues) {
  DeltaChain chain;
  std::mt19937_64 rng(41);
  Map m;
  uint64_t v = 1000;
  size_t drops = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string k(1 + rng() % 12, 'a');
    for (auto& c : k) c = static_cast<char>('a' + rng() % 6);
    m[k] = {};
  }
  for (auto& [k, val] : m) {
    if (rng() % 50 == 0) {
      v -= 1 + rng() % 500;  // the chain cannot follow: a new block
      ++drops;
    } else {
      v += rng() % (rng() % 8 == 0 ? 1000000 : 300);
    }
    val = DeltaChain::value(v);
  }
  ASSERT_GT(drops, 20u);
  for (size_t block_size : {16, 200, 1024, 1 << 20}) {
    SCOPED_TRACE("block size " + std::to_string(block_size));
    auto file = build(m, block_size, &chain);
    auto plain = build(m, block_size);
    EXPECT_LT(file.size(), plain.size());
    TermDict d = open_bytes(file, "chained.tdic", &chain);
    EXPECT_EQ(d.num_terms(), m.size());
    if (block_size == (1 << 20)) {
      EXPECT_EQ(d.num_blocks(), 1 + drops);
    }
    check_all_gets(d, m);
    if (HasFatalFailure()) return;
    EXPECT_EQ(drain(d.range(std::nullopt, std::nullopt)), expected_range(m, std::nullopt, std::nullopt));
    for (int t = 0; t < 40; ++t) {
      TermBound lo{random_key(rng, 4, 6), rng() % 2 == 0};
      TermBound hi{random_key(rng, 4, 6), rng() % 2 == 0};
      if (hi.key < lo.key) std::swap(lo, hi);
      ASSERT_EQ(drain(d.range(lo, hi)), expected_range(m, lo, hi));
    }
    // Automaton search skips entries without handing them out: the chain still follows them.
    auto regex = drain(d.search(make_regex_automaton("[a-c]*e[a-f]*"), ""));
    std::vector<Entry> want;
    uint64_t ord = 0;
    for (const auto& [k, val] : m) {
      size_t i = 0;
      while (i < k.size() && k[i] >= 'a' && k[i] <= 'c') ++i;
      if (i < k.size() && k[i] == 'e') want.push_back({k, val, ord});
      ++ord;
    }
    EXPECT_GT(want.size(), 10u);
    EXPECT_EQ(regex, want);
    auto last = d.last_key("c");
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(*last, std::prev(m.lower_bound("d"))->first);
    auto pre = drain(d.prefix("bd"));
    EXPECT_EQ(pre, expected_range(m, TermBound{"bd", true}, TermBound{"be", false}));
    // The file opened without the chain shows the stored forms: vints, not 8-byte values.
    TermDict raw = open_bytes(file);
    std::vector<uint8_t> stored;
    ASSERT_TRUE(raw.get(m.begin()->first, stored));
    EXPECT_LT(stored.size(), 8u);
  }
}

TEST(TermDict, ChainedCorruptionNeverReadsOutOfBounds) {
  DeltaChain chain;
  std::mt19937_64 rng(43);
  Map m;
  std::vector<std::string> keys;
  uint64_t v = 0;
  for (int i = 0; i < 2000; ++i) m["k" + std::to_string(rng() % 100000)] = {};
  for (auto& [k, val] : m) {
    v += rng() % 1000;
    val = DeltaChain::value(v);
    keys.push_back(k);
  }
  auto file = build(m, 256, &chain);
  for (int iter = 0; iter < 800; ++iter) {
    auto bad = file;
    size_t at = 16 + rng() % (bad.size() - 16);
    bad[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    exercise(bad, keys, &chain);
  }
}

}  // namespace
}  // namespace needle
