// Corrupt postings: every operation must either throw Error(kCorrupt) or finish; the sanitizer
// build checks that no byte outside the given ranges is read.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "needle/codec/postings.h"

namespace needle {
namespace {

struct Corpus {
  IndexRecordOption opt;
  std::vector<uint8_t> postings, positions;
  std::vector<TermInfo> infos;
};

Corpus build(IndexRecordOption opt, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Corpus c;
  c.opt = opt;
  ByteWriter post(&c.postings), pos(&c.positions);
  PostingsSerializer ser(opt, &post, &pos);
  for (uint32_t df : {1u, 2u, 50u, 127u, 128u, 129u, 300u, 1000u, 3000u, 1u, 7u}) {
    ser.new_term();
    uint64_t d = rng() % 100;
    for (uint32_t i = 0; i < df; ++i) {
      const uint64_t spread = i % 97 == 0 ? 300 : 6;
      const uint32_t tf = rng() % 4 == 0 ? 1 + static_cast<uint32_t>(rng() % spread) : 1;
      std::vector<uint32_t> p;
      uint32_t x = 0;
      for (uint32_t k = 0; k < tf; ++k) p.push_back(x += static_cast<uint32_t>(rng() % 20));
      ser.write_doc(static_cast<uint32_t>(d), tf, p, static_cast<uint8_t>(rng()));
      d += 1 + (rng() % 10 == 0 ? rng() % 100000 : rng() % 20);
    }
    c.infos.push_back(ser.close_term());
  }
  return c;
}

// Drives every operation; returns normally or throws.
void exercise(const Bytes& post, const Bytes& pos, const TermInfo& ti, IndexRecordOption opt,
              std::mt19937_64& rng) {
  std::vector<uint32_t> buf;
  {
    SegmentPostings sp(post, pos, ti, opt);
    uint64_t n = 0;
    while (sp.doc() != kTerminated) {
      ASSERT_LT(++n, 10'000'000u) << "advance does not terminate";
      if (n % 3 == 0) (void)sp.term_freq();
      if (n % 5 == 0) sp.positions(buf);
      if (n % 7 == 0) {
        uint32_t c[3] = {0, 5, 9};
        (void)sp.filter_positions(c, 3, n % 3, n % 2 == 0);
      }
      if (n % 64 == 0) {
        sp.shallow_seek(sp.doc() + 1000);
        (void)sp.block_last_doc();
        (void)sp.block_max_term_freq();
        (void)sp.block_min_fieldnorm_id();
      }
      sp.advance();
    }
  }
  {
    // What bulk readers rely on: a block's docs never decrease, even in damaged data.
    SegmentPostings sp(post, pos, ti, opt);
    uint64_t n = 0;
    while (sp.doc() != kTerminated) {
      ASSERT_LT(++n, 10'000'000u) << "next_block does not terminate";
      auto docs = sp.block_docs();
      for (size_t j = 1; j < docs.size(); ++j) ASSERT_LE(docs[j - 1], docs[j]) << "block docs decrease";
      sp.next_block();
    }
  }
  {
    SegmentPostings sp(post, pos, ti, opt);
    uint64_t n = 0;
    while (sp.doc() != kTerminated) {
      ASSERT_LT(++n, 10'000'000u) << "seek does not terminate";
      const uint64_t t = static_cast<uint64_t>(sp.doc()) + 1 + rng() % (rng() % 2 ? 50 : 50000);
      const uint32_t target = static_cast<uint32_t>(std::min<uint64_t>(t, UINT32_MAX));
      if (rng() % 4 == 0) sp.shallow_seek(target + static_cast<uint32_t>(rng() % 1000));
      const uint32_t got = sp.seek(target);
      ASSERT_TRUE(got >= target || got == kTerminated) << "seek went backwards";
      if (got != kTerminated) {
        (void)sp.term_freq();
        if (rng() % 2) sp.positions(buf);
      }
    }
  }
}

void run_expecting_corrupt_or_ok(const Bytes& post, const Bytes& pos, const TermInfo& ti,
                                 IndexRecordOption opt, std::mt19937_64& rng, int& errors) {
  try {
    exercise(post, pos, ti, opt, rng);
  } catch (const Error& e) {
    ASSERT_EQ(e.code(), ErrorCode::kCorrupt) << e.what();
    ++errors;
  }
}

Bytes exact_copy(const std::vector<uint8_t>& v, size_t len) {
  // An exactly-sized heap buffer, so ASan flags any read past `len`.
  return Bytes::from_vector(
      std::vector<uint8_t>(v.begin(), v.begin() + static_cast<ptrdiff_t>(len)));
}

class PostingsCorruption : public ::testing::TestWithParam<IndexRecordOption> {};

TEST_P(PostingsCorruption, FlippedBytes) {
  const IndexRecordOption opt = GetParam();
  const Corpus c = build(opt, 17);
  std::mt19937_64 rng(1000 + static_cast<int>(opt));
  int errors = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> post = c.postings, pos = c.positions;
    const int flips = 1 + static_cast<int>(rng() % 6);
    for (int f = 0; f < flips; ++f) {
      std::vector<uint8_t>& v = (pos.empty() || rng() % 3) ? post : pos;
      if (v.empty()) continue;
      const size_t at = rng() % v.size();
      if (rng() % 2) {
        v[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
      } else {
        v[at] = static_cast<uint8_t>(rng());
      }
    }
    const Bytes pb = exact_copy(post, post.size()), qb = exact_copy(pos, pos.size());
    for (const TermInfo& ti : c.infos) {
      run_expecting_corrupt_or_ok(pb, qb, ti, opt, rng, errors);
      if (HasFatalFailure()) return;
    }
  }
  std::printf("%d corrupt errors\n", errors);
  EXPECT_GT(errors, 0);
}

TEST_P(PostingsCorruption, Truncated) {
  const IndexRecordOption opt = GetParam();
  const Corpus c = build(opt, 18);
  std::mt19937_64 rng(2000 + static_cast<int>(opt));
  int errors = 0;
  for (int trial = 0; trial < 300; ++trial) {
    // Truncate the bodies.
    const size_t plen = rng() % (c.postings.size() + 1);
    const size_t qlen = rng() % 2 ? c.positions.size() : rng() % (c.positions.size() + 1);
    const Bytes pb = exact_copy(c.postings, plen), qb = exact_copy(c.positions, qlen);
    for (const TermInfo& ti : c.infos) {
      run_expecting_corrupt_or_ok(pb, qb, ti, opt, rng, errors);
      if (HasFatalFailure()) return;
    }
    // Shorten one term's ranges (a term cut short inside an intact body).
    TermInfo ti = c.infos[rng() % c.infos.size()];
    if (ti.postings_len > 0) ti.postings_len = rng() % ti.postings_len;
    if (ti.positions_len > 0 && rng() % 2) ti.positions_len = rng() % ti.positions_len;
    const Bytes fp = exact_copy(c.postings, c.postings.size());
    const Bytes fq = exact_copy(c.positions, c.positions.size());
    run_expecting_corrupt_or_ok(fp, fq, ti, opt, rng, errors);
    if (HasFatalFailure()) return;
    // Slice the term's range out exactly, then cut it.
    TermInfo t2 = c.infos[rng() % c.infos.size()];
    if (t2.doc_freq >= 2) {
      const size_t cut = rng() % (t2.postings_len + 1);
      const auto from = c.postings.begin() + static_cast<ptrdiff_t>(t2.postings_offset);
      std::vector<uint8_t> only(from, from + static_cast<ptrdiff_t>(cut));
      TermInfo t3 = t2;
      t3.postings_offset = 0;
      t3.postings_len = cut;
      run_expecting_corrupt_or_ok(Bytes::from_vector(only), fq, t3, opt, rng, errors);
      if (HasFatalFailure()) return;
    }
  }
  EXPECT_GT(errors, 0);
}

TEST_P(PostingsCorruption, GarbageTermInfo) {
  const IndexRecordOption opt = GetParam();
  const Corpus c = build(opt, 19);
  std::mt19937_64 rng(3000 + static_cast<int>(opt));
  const Bytes pb = exact_copy(c.postings, c.postings.size());
  const Bytes qb = exact_copy(c.positions, c.positions.size());
  int errors = 0;
  for (int trial = 0; trial < 600; ++trial) {
    TermInfo ti = c.infos[rng() % c.infos.size()];
    switch (rng() % 7) {
      case 0: ti.doc_freq = static_cast<uint32_t>(rng() % 5000); break;
      case 1: ti.doc_freq = static_cast<uint32_t>(rng()); break;
      case 2: ti.postings_offset = rng() % (c.postings.size() + 10); break;
      case 3: ti.positions_offset = rng() % (c.positions.size() + 10); break;
      case 4:
        ti.single_tf = static_cast<uint32_t>(rng());
        ti.single_doc = static_cast<uint32_t>(rng());
        break;
      case 5: {
        // Flip bytes of the stored form (a block's first entry or a later one) and decode it.
        const TermInfo::Chain start{ti.doc_freq >= 2 ? ti.postings_offset : rng() % 1000,
                                    ti.positions_len > 0 ? ti.positions_offset : rng() % 1000};
        const bool first = rng() % 2 == 0;
        TermInfo::Chain wc = start;
        ByteWriter w;
        ASSERT_TRUE(ti.encode_stored(w, first, wc));
        std::vector<uint8_t> b = w.take();
        b[rng() % b.size()] ^= static_cast<uint8_t>(1u + rng() % 255);
        if (rng() % 4 == 0) b.resize(rng() % b.size());
        TermInfo::Chain sc = start;
        const bool skipped = TermInfo::skip_stored(b.data(), b.data() + b.size(), first, sc);
        ByteReader r(b, "stored terminfo");
        TermInfo::Chain rc = start;
        try {
          ti = TermInfo::decode_stored(r, first, rc);
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), ErrorCode::kCorrupt);
          ++errors;
          continue;
        }
        // The skipping path agrees with the decoding one on the chain.
        ASSERT_TRUE(skipped);
        ASSERT_EQ(sc.postings_end, rc.postings_end);
        ASSERT_EQ(sc.positions_end, rc.positions_end);
        break;
      }
      default: {
        // Flip bytes of the encoded form and decode.
        ByteWriter w;
        ti.encode(w);
        std::vector<uint8_t> b = w.take();
        b[rng() % b.size()] ^= static_cast<uint8_t>(1u + rng() % 255);
        ByteReader r(b, "terminfo");
        try {
          ti = TermInfo::decode(r);
        } catch (const Error& e) {
          ASSERT_EQ(e.code(), ErrorCode::kCorrupt);
          ++errors;
          continue;
        }
      }
    }
    run_expecting_corrupt_or_ok(pb, qb, ti, opt, rng, errors);
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(errors, 0);
}

// A reader given the wrong record option reads garbage but stays in bounds.
TEST_P(PostingsCorruption, WrongRecordOption) {
  const IndexRecordOption opt = GetParam();
  const Corpus c = build(opt, 20);
  std::mt19937_64 rng(4000);
  const Bytes pb = exact_copy(c.postings, c.postings.size());
  const Bytes qb = exact_copy(c.positions, c.positions.size());
  int errors = 0;
  for (auto other :
       {IndexRecordOption::kBasic, IndexRecordOption::kFreq, IndexRecordOption::kPosition}) {
    for (const TermInfo& ti : c.infos) {
      run_expecting_corrupt_or_ok(pb, qb, ti, other, rng, errors);
      if (HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllOptions, PostingsCorruption,
                         ::testing::Values(IndexRecordOption::kBasic, IndexRecordOption::kFreq,
                                           IndexRecordOption::kPosition),
                         [](const auto& info) {
                           switch (info.param) {
                             case IndexRecordOption::kBasic: return std::string("basic");
                             case IndexRecordOption::kFreq: return std::string("freq");
                             default: return std::string("position");
                           }
                         });

}  // namespace
}  // namespace needle
