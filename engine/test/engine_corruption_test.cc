// Flipped bytes and truncation anywhere in a split give a clean needle::Error: never a crash, a
// hang or a silently wrong answer.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "engine_test_util.h"
#include "needle/codec/postings.h"
#include "needle/search/searcher.h"
#include "needle/termdict/termdict.h"

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

// The chain of a segment's term dictionary, as docs/format/postings.md "TermInfo" describes it
// (values handed out in the standalone form, stored chained).
class SpecTermInfoChain final : public ValueChain {
 public:
  bool encode(std::span<const uint8_t> value, bool first, State& state, ByteWriter& out) const override {
    ByteReader r(value, "standalone");
    TermInfo ti = TermInfo::decode(r);
    TermInfo::Chain c{state.a, state.b};
    if (!ti.encode_stored(out, first, c)) return false;
    state = State{c.postings_end, c.positions_end};
    return true;
  }
  void decode(std::span<const uint8_t> stored, bool first, State& state,
              std::vector<uint8_t>* out) const override {
    ByteReader r(stored, "stored");
    TermInfo::Chain c{state.a, state.b};
    TermInfo ti = TermInfo::decode_stored(r, first, c);
    state = State{c.postings_end, c.positions_end};
    if (out != nullptr) {
      out->clear();
      ByteWriter w(out);
      ti.encode(w);
    }
  }
};

// A term dictionary whose implicit offsets do not add up (a length changed, so every later term of
// the block points elsewhere) is reported as corrupt when the ranges leave the bodies, and never
// crashes when they stay inside them. The dictionary is rewritten whole (valid checksum), so only
// the postings readers can notice.
TEST(ImplicitOffsets, InconsistentChainsAreCaught) {
  Schema schema = Schema::from_json(kSchema);
  std::shared_ptr<Directory> dir = new_ram_directory();
  auto w = IndexWriter::create(dir, schema);
  DocumentParser parser(schema);
  for (const auto& d : sample_docs(600)) w->add_document(parser.parse(d));
  w->commit();
  std::string term_name;
  for (const auto& n : dir->list()) {
    if (n.size() > 5 && n.compare(n.size() - 5, 5, ".term") == 0) {
      ASSERT_TRUE(term_name.empty()) << "one segment expected";
      term_name = n;
    }
  }
  ASSERT_FALSE(term_name.empty());
  const Bytes original = FileSlice(dir->open_read(term_name)).read_all();
  SpecTermInfoChain chain;
  // Every term, through the reader a segment uses and through the chain of the spec: the same.
  std::vector<std::pair<std::string, TermInfo>> terms;
  {
    TermDict d = TermDict::open(FileSlice::from_bytes(original, term_name), &chain);
    TermStream s = d.range(std::nullopt, std::nullopt);
    while (s.next()) {
      ByteReader r(s.value(), "value");
      terms.emplace_back(std::string(s.key()), TermInfo::decode(r));
    }
  }
  ASSERT_GT(terms.size(), 20u);
  const std::string good_dir_split = [&] {
    TempDir tmp;
    write_split(*dir, tmp.file("g.split"));
    return testing::slurp(tmp.file("g.split"));
  }();
  const std::string good_answers = exercise(std::vector<uint8_t>(good_dir_split.begin(), good_dir_split.end()), true);
  // Rewrites the dictionary as one block with the stored values computed here; `tamper` changes
  // the lengths of entry `victim`, and the later entries take the offsets the chain gives them.
  auto rewrite = [&](size_t victim, uint64_t post_delta, uint64_t pos_delta) {
    TermDictBuilder b(1 << 30);  // no chain: the values given are the stored forms
    TermInfo::Chain c;
    for (size_t i = 0; i < terms.size(); ++i) {
      TermInfo ti = terms[i].second;
      if (i > 0) {
        if (ti.doc_freq >= 2) ti.postings_offset = c.postings_end;
        if (ti.positions_len > 0) ti.positions_offset = c.positions_end;
      }
      if (i == victim) {
        if (ti.doc_freq >= 2) ti.postings_len += post_delta;
        if (ti.positions_len > 0) ti.positions_len += pos_delta;
      }
      ByteWriter v;
      EXPECT_TRUE(ti.encode_stored(v, i == 0, c));
      b.insert(terms[i].first, v.span());
    }
    dir->write_file(term_name, b.finish());
    TempDir tmp;
    write_split(*dir, tmp.file("t.split"));
    std::string bytes = testing::slurp(tmp.file("t.split"));
    return std::vector<uint8_t>(bytes.begin(), bytes.end());
  };
  // Untampered: the same answers (the one-block layout is as valid as the writer's).
  EXPECT_EQ(exercise(rewrite(SIZE_MAX, 0, 0), true), good_answers);
  // The first term with postings runs 2^40 bytes long: every later term is past the bodies.
  size_t first_with_postings = 0;
  while (terms[first_with_postings].second.doc_freq < 2) ++first_with_postings;
  for (auto [post, pos] : {std::pair<uint64_t, uint64_t>{1ull << 40, 0}, {0, 1ull << 40}, {1ull << 40, 1ull << 40}}) {
    for (bool verify : {false, true}) {
      try {
        exercise(rewrite(first_with_postings, post, pos), verify);
        ADD_FAILURE() << "offsets past the bodies went unnoticed";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::kCorrupt) << e.what();
      }
    }
  }
  // Small shifts keep the ranges inside the bodies: garbage is read, in bounds, or caught.
  std::mt19937_64 rng(17);
  int caught = 0;
  for (int trial = 0; trial < 40; ++trial) {
    size_t victim = rng() % terms.size();
    try {
      exercise(rewrite(victim, 1 + rng() % 9, rng() % 9), false);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorrupt) << e.what();
      ++caught;
    }
  }
  EXPECT_GT(caught, 0);
}

}  // namespace
}  // namespace needle
