// Flipped bytes and truncation anywhere in a split give a clean needle::Error: never a crash, a
// hang or a silently wrong answer.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "engine_test_util.h"
#include "needle/search/searcher.h"

namespace needle {
namespace {

using testing::TempDir;

const char* kSchema = R"({"fields":[{"name":"body","type":"text","stored":true},{"name":"tag","type":"string","stored":true},{"name":"n","type":"i64","stored":true},{"name":"payload","type":"json","stored":true}]})";

std::vector<std::string> sample_docs(size_t n) {
  std::vector<std::string> docs;
  std::mt19937 rng(7);
  const char* words[] = {"alpha", "beta", "gamma", "delta", "error", "warning", "host", "disk"};
  for (size_t i = 0; i < n; ++i) {
    std::string body;
    for (int k = 0; k < 12; ++k) body += std::string(k ? " " : "") + words[rng() % 8];
    docs.push_back("{\"body\":\"" + body + "\",\"tag\":\"t" + std::to_string(i % 7) + "\",\"n\":" + std::to_string(i) +
                   ",\"payload\":{\"w\":\"" + words[rng() % 8] + "\",\"k\":{\"v\":" + std::to_string(i % 13) + ".5}}}");
  }
  return docs;
}

// Opens and queries; returns the answers so a run over a good split can be compared.
std::string exercise(const std::vector<uint8_t>& bytes, bool verify) {
  OpenOptions oo;
  oo.verify_checksums = verify;
  auto split = Split::open(memory_reader(Bytes::copy_of(bytes), "test.split"), oo);
  Searcher s = Searcher::for_split(split);
  std::string out;
  for (const char* q : {"body:alpha", "body:\"error host\"", "tag:t3", "n:[10 TO 200]", "body:del*", "*", "payload.w:host",
                        "payload.k.v:[2 TO 6]", "payload.k:*"}) {
    auto r = s.top_k_with_count(*s.parse(q), 5);
    out += std::to_string(r.count) + ";";
    for (const auto& h : r.hits) out += stored_to_json(s.schema(), s.doc(h));
  }
  return out;
}

class Corruption : public ::testing::Test {
 protected:
  void SetUp() override {
    TempDir tmp;
    testing::build_split(kSchema, sample_docs(600), tmp.file("a.split"));
    std::string s = testing::slurp(tmp.file("a.split"));
    good_.assign(s.begin(), s.end());
    baseline_ = exercise(good_, true);
    auto split = Split::open(memory_reader(Bytes::copy_of(good_), "good"));
    for (const auto& [name, e] : split->files()) regions_.push_back({name, e.offset, e.length});
    regions_.push_back({"footer", split->footer().offset, split->footer().length});
    regions_.push_back({"trailer", good_.size() - kSplitTrailerSize, kSplitTrailerSize});
    regions_.push_back({"header", 0, kEnvelopeHeaderSize});
  }
  struct Region {
    std::string name;
    uint64_t offset, length;
  };
  std::vector<uint8_t> good_;
  std::string baseline_;
  std::vector<Region> regions_;
};

TEST_F(Corruption, EveryFileHasItsOwnRegion) {
  std::set<std::string> kinds;
  for (const auto& r : regions_) kinds.insert(r.name.substr(r.name.find('.') + 1));
  for (const char* k : {"term", "post", "pos", "norm", "store", "info", "footer", "trailer", "header"}) {
    EXPECT_TRUE(kinds.count(k)) << k;
  }
}

TEST_F(Corruption, FlippedBytesAreDetectedWhenVerifying) {
  std::mt19937_64 rng(11);
  for (const auto& region : regions_) {
    std::vector<uint64_t> spots = {region.offset, region.offset + region.length - 1, region.offset + region.length / 2};
    for (int i = 0; i < 12; ++i) spots.push_back(region.offset + rng() % region.length);
    for (uint64_t at : spots) {
      auto bad = good_;
      bad[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
      try {
        exercise(bad, true);
        ADD_FAILURE() << "flip at " << at << " in " << region.name << " went unnoticed";
      } catch (const Error& e) {
        EXPECT_TRUE(e.code() == ErrorCode::kCorrupt || e.code() == ErrorCode::kVersionTooNew ||
                    e.code() == ErrorCode::kVersionTooOld)
            << region.name << ": " << e.what();
      }
    }
  }
}

TEST_F(Corruption, FlippedBytesNeverCrashWithoutVerification) {
  // Without checksum verification a flip may go unnoticed, but it must never crash or hang.
  std::mt19937_64 rng(12);
  for (const auto& region : regions_) {
    for (int i = 0; i < 25; ++i) {
      auto bad = good_;
      uint64_t at = region.offset + rng() % region.length;
      bad[at] = static_cast<uint8_t>(rng());
      try {
        exercise(bad, false);
      } catch (const Error&) {
      }
    }
  }
}

TEST_F(Corruption, TruncationIsDetected) {
  std::mt19937_64 rng(13);
  std::vector<size_t> lengths = {0, 1, 15, 16, 100, good_.size() / 2, good_.size() - 17, good_.size() - 16, good_.size() - 1};
  for (int i = 0; i < 30; ++i) lengths.push_back(rng() % good_.size());
  for (size_t len : lengths) {
    std::vector<uint8_t> cut(good_.begin(), good_.begin() + static_cast<long>(len));
    for (bool verify : {true, false}) {
      try {
        exercise(cut, verify);
        ADD_FAILURE() << "truncation to " << len << " went unnoticed";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCorrupt) << e.what();
      }
    }
  }
}

TEST_F(Corruption, GoodSplitStillAnswers) { EXPECT_EQ(exercise(good_, false), baseline_); }

}  // namespace
}  // namespace needle
