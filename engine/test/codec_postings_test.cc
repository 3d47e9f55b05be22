#include "needle/codec/postings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "needle/codec/fieldnorm.h"

namespace needle {
namespace {

using bitpacking::kBlockSize;

struct RefDoc {
  uint32_t doc;
  uint32_t tf;
  uint8_t norm;
  std::vector<uint32_t> positions;
};
using RefTerm = std::vector<RefDoc>;

enum class Gaps { kOne, kSmall, kMixed, kHuge };

std::string opt_name(IndexRecordOption o) {
  switch (o) {
    case IndexRecordOption::kBasic: return "basic";
    case IndexRecordOption::kFreq: return "freq";
    case IndexRecordOption::kPosition: return "position";
  }
  return "?";
}

RefTerm make_term(std::mt19937_64& rng, uint32_t df, Gaps gaps, IndexRecordOption opt) {
  std::vector<uint32_t> docs;
  docs.reserve(df);
  if (gaps == Gaps::kHuge) {
    std::set<uint32_t> s;
    if (rng() % 2) s.insert(kMaxDocId);
    if (rng() % 2) s.insert(0);
    while (s.size() < df) s.insert(static_cast<uint32_t>(rng() % (uint64_t{kMaxDocId} + 1)));
    docs.assign(s.begin(), s.end());
  } else {
    uint64_t d = rng() % 3 == 0 ? 0 : rng() % 5000;
    for (uint32_t i = 0; i < df; ++i) {
      docs.push_back(static_cast<uint32_t>(d));
      uint64_t gap = 1;
      if (gaps == Gaps::kSmall) gap = 1 + rng() % 8;
      if (gaps == Gaps::kMixed) {
        const uint64_t r = rng() % 1000;
        gap = r < 500 ? 1 : r < 990 ? 1 + rng() % 300 : 1 + rng() % (1u << 20);
      }
      d += gap;
    }
    if (!docs.empty() && docs.back() > kMaxDocId) {  // keep inside the doc id space
      const uint32_t shift = docs.back() - kMaxDocId;
      for (auto& x : docs) x -= std::min(x, shift);
      std::sort(docs.begin(), docs.end());
      docs.erase(std::unique(docs.begin(), docs.end()), docs.end());
    }
  }
  RefTerm t;
  // Norm distributions: with many zeros (the minimum is nearly always 0), or spread without
  // zeros (so the per-block minimum depends on every doc).
  const bool spread_norms = rng() % 2 == 0;
  for (uint32_t doc : docs) {
    RefDoc r;
    r.doc = doc;
    const uint64_t x = rng() % 1000;
    r.tf = x < 600 ? 1 : x < 950 ? 2 + rng() % 6 : x < 998 ? 8 + rng() % 120 : 128 + rng() % 400;
    if (opt == IndexRecordOption::kBasic) r.tf = 1;
    r.norm = spread_norms ? static_cast<uint8_t>(20 + rng() % 236)
                          : static_cast<uint8_t>(rng() % 5 == 0 ? 0 : rng() % 256);
    if (opt == IndexRecordOption::kPosition) {
      uint64_t p = rng() % 50;
      for (uint32_t k = 0; k < r.tf; ++k) {
        const uint64_t y = rng() % 100;
        p += y < 3 ? 0 : y < 97 ? 1 + rng() % 40 : 1 + rng() % 100000;
        if (rng() % 5000 == 0) p = std::max<uint64_t>(p, UINT32_MAX - (r.tf - k));  // huge
        if (p > UINT32_MAX) p = UINT32_MAX;
        r.positions.push_back(static_cast<uint32_t>(p));
      }
    }
    t.push_back(std::move(r));
  }
  return t;
}

struct Written {
  std::vector<RefTerm> terms;
  std::vector<TermInfo> infos;
  Bytes postings, positions;
};

Written write_terms(IndexRecordOption opt, std::vector<RefTerm> terms, size_t prefix = 0) {
  ByteWriter post, pos;
  for (size_t i = 0; i < prefix; ++i) {
    post.u8(0xEE);
    pos.u8(0xEE);
  }
  PostingsSerializer ser(opt, &post, &pos);
  Written w;
  for (const auto& t : terms) {
    ser.new_term();
    for (const auto& d : t) ser.write_doc(d.doc, d.tf, d.positions, d.norm);
    w.infos.push_back(ser.close_term());
  }
  auto pb = post.take();
  auto qb = pos.take();
  pb.erase(pb.begin(), pb.begin() + static_cast<ptrdiff_t>(prefix));
  qb.erase(qb.begin(), qb.begin() + static_cast<ptrdiff_t>(prefix));
  w.postings = Bytes::from_vector(std::move(pb));
  w.positions = Bytes::from_vector(std::move(qb));
  w.terms = std::move(terms);
  return w;
}

uint32_t expect_tf(const RefDoc& d, IndexRecordOption opt) {
  return opt == IndexRecordOption::kBasic ? 1 : d.tf;
}

// filter_positions against a set lookup: values v (some from the doc's positions minus `add`,
// some not) are kept when v + add is a position; with first_only, 1 if any is.
void check_filter(const SegmentPostings& sp, const RefDoc& d) {
  std::set<uint64_t> pos(d.positions.begin(), d.positions.end());
  const uint64_t mix = d.doc * 2654435761u + d.tf;
  for (uint64_t add : {uint64_t{0}, uint64_t{1}, uint64_t{3}, uint64_t{1} << 32}) {
    std::set<uint32_t> vals;
    for (size_t i = 0; i < d.positions.size(); ++i) {
      const uint64_t x = (mix >> (i % 17)) + i;
      if (x % 3 == 0 && d.positions[i] >= add) vals.insert(static_cast<uint32_t>(d.positions[i] - add));
      if (x % 5 == 0) vals.insert(static_cast<uint32_t>(d.positions[i] + x % 7));
    }
    vals.insert(static_cast<uint32_t>(mix));
    std::vector<uint32_t> c(vals.begin(), vals.end()), want;
    for (uint32_t v : c) {
      if (pos.count(v + add)) want.push_back(v);
    }
    std::vector<uint32_t> got = c;
    got.resize(sp.filter_positions(got.data(), static_cast<uint32_t>(got.size()), add, false));
    ASSERT_EQ(got, want) << "doc " << d.doc << " add " << add;
    std::vector<uint32_t> any = c;
    ASSERT_EQ(sp.filter_positions(any.data(), static_cast<uint32_t>(any.size()), add, true), want.empty() ? 0u : 1u)
        << "doc " << d.doc << " add " << add;
  }
  uint32_t none = 0;
  ASSERT_EQ(sp.filter_positions(&none, 0, 0, false), 0u);
}

void check_doc(const SegmentPostings& sp, const RefDoc& d, IndexRecordOption opt, bool positions,
               std::vector<uint32_t>& buf) {
  ASSERT_EQ(sp.doc(), d.doc);
  ASSERT_EQ(sp.term_freq(), expect_tf(d, opt)) << "doc " << d.doc;
  if (positions) {
    sp.positions(buf);
    if (opt == IndexRecordOption::kPosition) {
      ASSERT_EQ(buf, d.positions) << "doc " << d.doc;
      check_filter(sp, d);
    } else {
      ASSERT_TRUE(buf.empty());
    }
  }
}

void check_iterate(const Written& w, size_t ti, IndexRecordOption opt, std::mt19937_64& rng) {
  const RefTerm& t = w.terms[ti];
  SegmentPostings sp(w.postings, w.positions, w.infos[ti], opt);
  ASSERT_EQ(sp.doc_freq(), t.size());
  std::vector<uint32_t> buf;
  for (size_t i = 0; i < t.size(); ++i) {
    if (i > 0) { ASSERT_EQ(sp.advance(), t[i].doc); }
    check_doc(sp, t[i], opt, rng() % 4 == 0, buf);
  }
  if (t.empty()) { ASSERT_EQ(sp.doc(), kTerminated); }
  ASSERT_EQ(sp.advance(), kTerminated);
  ASSERT_TRUE(sp.block_docs().empty());
  // Bulk iteration, starting from a doc somewhere in the first block.
  {
    SegmentPostings bulk(w.postings, w.positions, w.infos[ti], opt);
    size_t i = 0;
    if (t.size() > 3) {
      bulk.advance();
      bulk.advance();
      i = 2;
    }
    while (bulk.doc() != kTerminated) {
      auto docs = bulk.block_docs();
      auto tfs = bulk.block_term_freqs();
      ASSERT_EQ(docs.size(), tfs.size());
      ASSERT_FALSE(docs.empty());
      for (size_t k = 0; k < docs.size(); ++k, ++i) {
        ASSERT_LT(i, t.size());
        ASSERT_EQ(docs[k], t[i].doc);
        ASSERT_EQ(tfs[k], expect_tf(t[i], opt));
      }
      bulk.next_block();
    }
    ASSERT_EQ(i, t.size());
    ASSERT_EQ(bulk.next_block(), kTerminated);
  }
  ASSERT_EQ(sp.doc(), kTerminated);
  ASSERT_EQ(sp.advance(), kTerminated);
  ASSERT_EQ(sp.seek(5), kTerminated);
  ASSERT_EQ(sp.block_last_doc(), kTerminated);
  ASSERT_EQ(sp.block_max_term_freq(), 0u);
}

void check_seeks(const Written& w, size_t ti, IndexRecordOption opt, std::mt19937_64& rng) {
  const RefTerm& t = w.terms[ti];
  std::vector<uint32_t> docs;
  for (const auto& d : t) docs.push_back(d.doc);
  std::vector<uint32_t> buf;
  for (int round = 0; round < 4; ++round) {
    SegmentPostings sp(w.postings, w.positions, w.infos[ti], opt);
    uint32_t target = 0;
    size_t steps = 0;
    while (sp.doc() != kTerminated && steps++ < 3000) {
      // Jumps of all sizes: within the block, a few blocks, many blocks.
      const uint64_t r = rng() % 10;
      uint64_t jump = r < 3 ? rng() % 4 : r < 6 ? rng() % 2000 : r < 8 ? rng() % 200000
                                                                          : rng() % (1u << 28);
      if (round == 3) jump = rng() % 3;  // mostly advance-like seeks
      uint64_t nt = std::max<uint64_t>(target + jump, sp.doc());
      if (nt > kTerminated) nt = kTerminated;
      target = static_cast<uint32_t>(nt);
      const uint32_t got = sp.seek(target);
      auto it = std::lower_bound(docs.begin(), docs.end(), target);
      const uint32_t want = it == docs.end() ? kTerminated : *it;
      ASSERT_EQ(got, want) << "term " << ti << " target " << target;
      ASSERT_EQ(sp.doc(), want);
      if (want == kTerminated) break;
      const RefDoc& d = t[static_cast<size_t>(it - docs.begin())];
      check_doc(sp, d, opt, rng() % 3 == 0, buf);
      // Sometimes advance a little after the seek.
      if (rng() % 4 == 0) {
        size_t idx = static_cast<size_t>(it - docs.begin());
        for (int k = 0; k < 3 && idx + 1 < docs.size(); ++k) {
          ASSERT_EQ(sp.advance(), docs[++idx]);
          check_doc(sp, t[idx], opt, rng() % 2 == 0, buf);
        }
        target = sp.doc();
      }
    }
  }
  // Seek beyond the end, and to exactly the last doc.
  if (!t.empty()) {
    SegmentPostings sp(w.postings, w.positions, w.infos[ti], opt);
    ASSERT_EQ(sp.seek(t.back().doc), t.back().doc);
    check_doc(sp, t.back(), opt, true, buf);
    ASSERT_EQ(sp.advance(), kTerminated);
    SegmentPostings sp2(w.postings, w.positions, w.infos[ti], opt);
    if (t.back().doc < kMaxDocId) { ASSERT_EQ(sp2.seek(t.back().doc + 1), kTerminated); }
    SegmentPostings sp3(w.postings, w.positions, w.infos[ti], opt);
    ASSERT_EQ(sp3.seek(UINT32_MAX), kTerminated);
  }
}

struct RefBlock {
  uint32_t first, last;  // last doc id (kTerminated for the final partial block)
  uint32_t max_tf;
  uint8_t min_norm;
  std::vector<Impact> frontier;  // (tf, norm) pairs no doc of the block beats on both
  std::vector<Impact> docs;      // every doc's (tf, norm)
};

// The block's impacts: increasing, dominating every doc, and exactly the frontier when it fits
// (with `exact`: not for terms of fewer than 128 docs, which keep one pair).
void check_impacts(std::span<const Impact> got, const RefBlock& b, bool exact = true) {
  ASSERT_FALSE(got.empty());
  ASSERT_LE(got.size(), kMaxImpacts);
  for (size_t i = 1; i < got.size(); ++i) {
    ASSERT_LT(got[i - 1].norm, got[i].norm);
    ASSERT_LT(got[i - 1].tf, got[i].tf);
  }
  for (const Impact& d : b.docs) {
    bool covered = false;
    for (const Impact& g : got) covered |= g.tf >= d.tf && g.norm <= d.norm;
    ASSERT_TRUE(covered) << "doc tf " << d.tf << " norm " << int(d.norm);
  }
  if (!exact) {
    ASSERT_EQ(got.size(), 1u);
  } else if (b.frontier.size() <= kMaxImpacts) {
    ASSERT_EQ(std::vector<Impact>(got.begin(), got.end()), b.frontier);
  }
}

std::vector<RefBlock> ref_blocks(const RefTerm& t, IndexRecordOption opt) {
  std::vector<RefBlock> out;
  for (size_t s = 0; s < t.size(); s += kBlockSize) {
    const size_t e = std::min(t.size(), s + kBlockSize);
    RefBlock b{t[s].doc, e - s == kBlockSize ? t[e - 1].doc : kTerminated, 0, 255, {}, {}};
    for (size_t i = s; i < e; ++i) {
      b.max_tf = std::max(b.max_tf, expect_tf(t[i], opt));
      b.min_norm = std::min(b.min_norm, t[i].norm);
      b.docs.push_back(Impact{expect_tf(t[i], opt), t[i].norm});
    }
    for (const Impact& d : b.docs) {
      bool beaten = false;
      for (const Impact& o : b.docs) beaten |= o.tf >= d.tf && o.norm <= d.norm && !(o == d);
      bool dup = false;
      for (const Impact& f : b.frontier) dup |= f == d;
      if (!beaten && !dup) b.frontier.push_back(d);
    }
    std::sort(b.frontier.begin(), b.frontier.end(), [](const Impact& x, const Impact& y) { return x.norm < y.norm; });
    out.push_back(b);
  }
  return out;
}

void check_block_max(const Written& w, size_t ti, IndexRecordOption opt, std::mt19937_64& rng) {
  const RefTerm& t = w.terms[ti];
  const auto blocks = ref_blocks(t, opt);
  {
    // Walk every block with shallow_seek only.
    SegmentPostings sp(w.postings, w.positions, w.infos[ti], opt);
    for (size_t j = 0; j < blocks.size(); ++j) {
      sp.shallow_seek(blocks[j].first);
      ASSERT_EQ(sp.block_last_doc(), blocks[j].last) << "block " << j;
      ASSERT_EQ(sp.block_max_term_freq(), blocks[j].max_tf) << "block " << j;
      ASSERT_EQ(sp.block_min_fieldnorm_id(), blocks[j].min_norm) << "block " << j;
      check_impacts(sp.block_impacts(), blocks[j], t.size() >= kBlockSize);
      if (::testing::Test::HasFatalFailure()) return;
    }
    // doc() is untouched by shallow seeks.
    if (!t.empty()) { ASSERT_EQ(sp.doc(), t[0].doc); }
    if (!t.empty() && blocks.back().last != kTerminated) {
      sp.shallow_seek(blocks.back().last + 1);
      ASSERT_EQ(sp.block_last_doc(), kTerminated);
      ASSERT_EQ(sp.block_max_term_freq(), 0u);
    }
  }
  if (t.empty()) return;
  // shallow_seek into block j, then seek to the last doc of block j-1 (lies before the block
  // cursor), to its successor, and to the first doc of block j.
  for (size_t j = 1; j < blocks.size(); ++j) {
    const uint32_t prev_last = t[j * kBlockSize - 1].doc;
    for (int variant = 0; variant < 3; ++variant) {
      SegmentPostings sp(w.postings, w.positions, w.infos[ti], opt);
      sp.shallow_seek(blocks[j].first);
      ASSERT_EQ(sp.block_last_doc(), blocks[j].last);
      std::vector<uint32_t> buf;
      if (variant == 0) {
        ASSERT_EQ(sp.seek(prev_last), prev_last);
        check_doc(sp, t[j * kBlockSize - 1], opt, true, buf);
        ASSERT_EQ(sp.advance(), blocks[j].first);
      } else if (variant == 1) {
        ASSERT_EQ(sp.seek(prev_last + 1), blocks[j].first);
      } else {
        ASSERT_EQ(sp.seek(blocks[j].first), blocks[j].first);
      }
      check_doc(sp, t[j * kBlockSize], opt, true, buf);
      ASSERT_EQ(sp.block_last_doc(), blocks[j].last);
    }
    if (j > 40) break;
  }
  {
    // Random shallow seeks interleaved with seeks and advances.
    SegmentPostings sp(w.postings, w.positions, w.infos[ti], opt);
    std::vector<uint32_t> docs;
    for (const auto& d : t) docs.push_back(d.doc);
    std::vector<uint32_t> buf;
    ASSERT_EQ(sp.block_last_doc(), blocks[0].last);
    uint32_t target = sp.doc();
    uint32_t last_st = 0;  // shallow targets never decrease (as in block-max WAND)
    for (int k = 0; k < 300 && sp.doc() != kTerminated; ++k) {
      const uint64_t jump = rng() % 2 ? rng() % 1000 : rng() % (1u << 24);
      const uint32_t st = std::max(
          last_st, static_cast<uint32_t>(std::min<uint64_t>(target + jump, kMaxDocId)));
      last_st = st;
      sp.shallow_seek(st);
      // Expected block: the first whose last doc >= st (the current one if it is further).
      size_t j = 0;
      while (j < blocks.size() && blocks[j].last < st) ++j;
      size_t cur_blk = static_cast<size_t>(
                           std::lower_bound(docs.begin(), docs.end(), sp.doc()) - docs.begin()) /
                       kBlockSize;
      j = std::max(j, cur_blk);
      if (j < blocks.size()) {
        ASSERT_EQ(sp.block_last_doc(), blocks[j].last);
        ASSERT_EQ(sp.block_max_term_freq(), blocks[j].max_tf);
        ASSERT_EQ(sp.block_min_fieldnorm_id(), blocks[j].min_norm);
      } else {
        ASSERT_EQ(sp.block_last_doc(), kTerminated);
      }
      const uint32_t action = static_cast<uint32_t>(rng() % 3);
      if (action == 0) {
        // seek to the shallow target or somewhat before/after it
        uint64_t s2 = st;
        if (rng() % 2) s2 = std::max<uint64_t>(sp.doc(), st > 500 ? st - rng() % 500 : 0);
        target = static_cast<uint32_t>(s2);
        auto it = std::lower_bound(docs.begin(), docs.end(), target);
        const uint32_t want = it == docs.end() ? kTerminated : *it;
        ASSERT_EQ(sp.seek(target), want);
        if (want != kTerminated) {
          check_doc(sp, t[static_cast<size_t>(it - docs.begin())], opt, true, buf);
        }
      } else if (action == 1) {
        // advance after a shallow seek continues from the current doc
        auto it = std::upper_bound(docs.begin(), docs.end(), sp.doc());
        const uint32_t want = it == docs.end() ? kTerminated : *it;
        ASSERT_EQ(sp.advance(), want);
        if (want != kTerminated) {
          check_doc(sp, t[static_cast<size_t>(it - docs.begin())], opt, true, buf);
        }
        target = sp.doc();
      } else {
        target = sp.doc();
      }
    }
  }
}

class PostingsRoundTrip : public ::testing::TestWithParam<IndexRecordOption> {};

TEST_P(PostingsRoundTrip, RandomTerms) {
  const IndexRecordOption opt = GetParam();
  std::mt19937_64 rng(1234 + static_cast<int>(opt));
  std::vector<RefTerm> terms;
  const uint32_t dfs[] = {0, 1, 1, 1, 2, 3, 127, 128, 129, 255, 256, 257, 1000, 4000, 100000};
  for (uint32_t df : dfs) {
    for (Gaps g : {Gaps::kOne, Gaps::kSmall, Gaps::kMixed, Gaps::kHuge}) {
      const bool big = df == 100000 && opt == IndexRecordOption::kPosition;
      if (big && g != Gaps::kMixed && g != Gaps::kHuge) continue;
      terms.push_back(make_term(rng, df, g, opt));
    }
  }
  Written w = write_terms(opt, std::move(terms), 16);
  // TermInfos survive encode/decode.
  ByteWriter tiw;
  for (const auto& ti : w.infos) ti.encode(tiw);
  ByteReader tir(tiw.span(), "terminfos");
  for (auto& ti : w.infos) {
    TermInfo back = TermInfo::decode(tir);
    ASSERT_EQ(back, ti);
  }
  ASSERT_TRUE(tir.done());
  // And their stored form, chained as in a term dictionary: blocks start at random entries (the
  // first entry always), and the writer wrote the terms back to back.
  {
    ByteWriter sw;
    std::vector<bool> first(w.infos.size());
    TermInfo::Chain wc;
    for (size_t i = 0; i < w.infos.size(); ++i) {
      first[i] = i == 0 || rng() % 4 == 0;
      ASSERT_TRUE(w.infos[i].encode_stored(sw, first[i], wc)) << i;
    }
    ByteReader sr(sw.span(), "stored terminfos");
    TermInfo::Chain rc, sc;
    for (size_t i = 0; i < w.infos.size(); ++i) {
      const size_t at = sr.pos();
      ASSERT_EQ(TermInfo::decode_stored(sr, first[i], rc), w.infos[i]) << i;
      ASSERT_TRUE(TermInfo::skip_stored(sw.data().data() + at, sw.data().data() + sr.pos(), first[i], sc));
      ASSERT_EQ(sc.postings_end, rc.postings_end);
      ASSERT_EQ(sc.positions_end, rc.positions_end);
    }
    ASSERT_TRUE(sr.done());
  }
  // Read the terms in random order.
  std::vector<size_t> order(w.terms.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  for (size_t ti : order) {
    SCOPED_TRACE("term " + std::to_string(ti) + " df " + std::to_string(w.terms[ti].size()) +
                 " opt " + opt_name(opt));
    check_iterate(w, ti, opt, rng);
    if (HasFatalFailure()) return;
    check_seeks(w, ti, opt, rng);
    if (HasFatalFailure()) return;
    check_block_max(w, ti, opt, rng);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(AllOptions, PostingsRoundTrip,
                         ::testing::Values(IndexRecordOption::kBasic, IndexRecordOption::kFreq,
                                           IndexRecordOption::kPosition),
                         [](const auto& info) { return opt_name(info.param); });

TEST(Postings, SingletonsAreInlined) {
  ByteWriter post, pos;
  PostingsSerializer ser(IndexRecordOption::kFreq, &post, &pos);
  ser.new_term();
  ser.write_doc(123456, 1, {}, 0);
  TermInfo ti = ser.close_term();
  EXPECT_EQ(post.size(), 0u);
  EXPECT_EQ(ti.postings_len, 0u);
  ByteWriter enc;
  ti.encode(enc);
  EXPECT_LE(enc.size(), 6u);  // doc_freq, doc<<2 (3 bytes), positions_len
  SegmentPostings sp(Bytes(), Bytes(), ti, IndexRecordOption::kFreq);
  EXPECT_EQ(sp.doc(), 123456u);
  EXPECT_EQ(sp.term_freq(), 1u);
  EXPECT_EQ(sp.block_last_doc(), kTerminated);
  EXPECT_EQ(sp.block_max_term_freq(), 1u);
  EXPECT_EQ(sp.seek(123457), kTerminated);
}

// The worked examples of docs/format/postings.md, byte for byte.
TEST(Postings, SpecExamples) {
  ByteWriter post, pos;
  PostingsSerializer ser(IndexRecordOption::kPosition, &post, &pos);
  ser.new_term();
  ser.write_doc(5, 1, std::vector<uint32_t>{7}, 12);
  ser.write_doc(9, 3, std::vector<uint32_t>{0, 4, 4}, 3);
  ser.write_doc(300, 1, std::vector<uint32_t>{200}, 40);
  const TermInfo a = ser.close_term();
  ser.new_term();
  ser.write_doc(1000000, 2, std::vector<uint32_t>{1, 130}, 9);
  const TermInfo b = ser.close_term();
  EXPECT_EQ(post.data(), (std::vector<uint8_t>{0x02, 0x03, 0x03, 0x05, 0x0b, 0x08, 0x03, 0xc7, 0x04}));
  EXPECT_EQ(pos.data(),
            (std::vector<uint8_t>{0x07, 0x00, 0x04, 0x00, 0xc8, 0x01, 0x01, 0x81, 0x01}));
  ByteWriter ea, eb;
  a.encode(ea);
  b.encode(eb);
  EXPECT_EQ(ea.data(), (std::vector<uint8_t>{0x03, 0x00, 0x09, 0x06, 0x00}));
  EXPECT_EQ(eb.data(),
            (std::vector<uint8_t>{0x01, 0x83, 0x92, 0xf4, 0x01, 0x02, 0x09, 0x03, 0x06}));
  // Stored in a term dictionary block: `a` first (with the bases), `b` after it; or `b` first.
  ByteWriter stored;
  TermInfo::Chain chain;
  ASSERT_TRUE(a.encode_stored(stored, true, chain));
  EXPECT_EQ(stored.data(), (std::vector<uint8_t>{0x03, 0x09, 0x06, 0x00, 0x00}));
  ASSERT_TRUE(b.encode_stored(stored, false, chain));
  EXPECT_EQ(stored.data(), (std::vector<uint8_t>{0x03, 0x09, 0x06, 0x00, 0x00, 0x01, 0x03, 0x83, 0x92,
                                                 0xf4, 0x01, 0x02, 0x09}));
  EXPECT_EQ(chain.postings_end, 9u);
  EXPECT_EQ(chain.positions_end, 9u);
  ByteWriter bfirst;
  TermInfo::Chain after_a{9, 6};
  ASSERT_TRUE(b.encode_stored(bfirst, true, after_a));
  EXPECT_EQ(bfirst.data(),
            (std::vector<uint8_t>{0x01, 0x03, 0x09, 0x06, 0x83, 0x92, 0xf4, 0x01, 0x02, 0x09}));
  {
    ByteReader r(stored.span(), "stored");
    TermInfo::Chain rc{12345, 678};  // ignored by a first entry
    EXPECT_EQ(TermInfo::decode_stored(r, true, rc), a);
    EXPECT_EQ(TermInfo::decode_stored(r, false, rc), b);
    EXPECT_TRUE(r.done());
  }
  uint32_t in[kBlockSize];
  for (uint32_t i = 0; i < kBlockSize; ++i) in[i] = i & 7;
  uint8_t packed[48];
  bitpacking::pack(in, 3, packed);
  EXPECT_EQ(std::vector<uint8_t>(packed, packed + 8),
            (std::vector<uint8_t>{0x20, 0x08, 0x82, 0x20, 0x69, 0x9a, 0xa6, 0x69}));
  // And they read back.
  Bytes pb = Bytes::copy_of(post.span()), qb = Bytes::copy_of(pos.span());
  SegmentPostings sp(pb, qb, a, IndexRecordOption::kPosition);
  std::vector<uint32_t> p;
  ASSERT_EQ(sp.seek(6), 9u);
  EXPECT_EQ(sp.term_freq(), 3u);
  sp.positions(p);
  EXPECT_EQ(p, (std::vector<uint32_t>{0, 4, 4}));
  EXPECT_EQ(sp.block_max_term_freq(), 3u);
  EXPECT_EQ(sp.block_min_fieldnorm_id(), 3);
  SegmentPostings sb(pb, qb, b, IndexRecordOption::kPosition);
  EXPECT_EQ(sb.doc(), 1000000u);
  sb.positions(p);
  EXPECT_EQ(p, (std::vector<uint32_t>{1, 130}));
  EXPECT_EQ(sb.block_min_fieldnorm_id(), 9);
}

// A block whose frontier is every doc (tf rising with the norm) keeps kMaxImpacts pairs that
// still dominate every doc; a term of fewer than 128 docs keeps the one pair (max tf, min norm).
TEST(Postings, ImpactsMergedDominate) {
  for (IndexRecordOption opt : {IndexRecordOption::kFreq, IndexRecordOption::kPosition}) {
    for (uint32_t n : {128u + 100u, 100u}) {
      ByteWriter post, pos;
      PostingsSerializer ser(opt, &post, &pos);
      ser.new_term();
      RefBlock b{0, kTerminated, 0, 255, {}, {}};
      for (uint32_t i = 0; i < n; ++i) {
        const uint32_t tf = 1 + i * 3 % 128 + (i % 128) * 2;
        const uint8_t norm = static_cast<uint8_t>(10 + i % 128);
        std::vector<uint32_t> p(tf);
        std::iota(p.begin(), p.end(), 0u);
        ser.write_doc(i * 2, tf, p, norm);
        if (i < 128) b.docs.push_back(Impact{tf, norm});
      }
      TermInfo ti = ser.close_term();
      b.frontier.resize(kMaxImpacts + 1);  // not compared: merged
      Bytes pb = Bytes::copy_of(post.span()), qb = Bytes::copy_of(pos.span());
      SegmentPostings sp(pb, qb, ti, opt);
      auto imp = sp.block_impacts();
      if (n >= 128) {
        EXPECT_EQ(imp.size(), kMaxImpacts);
        check_impacts(imp, b);
        if (HasFatalFailure()) return;
      } else {
        ASSERT_EQ(imp.size(), 1u);
        uint32_t max_tf = 0;
        for (const Impact& d : b.docs) max_tf = std::max(max_tf, d.tf);
        EXPECT_EQ(imp[0].tf, max_tf);
      }
      EXPECT_EQ(imp.front().norm, 10);
    }
  }
}

TEST(Postings, EmptyTerm) {
  ByteWriter post, pos;
  PostingsSerializer ser(IndexRecordOption::kPosition, &post, &pos);
  ser.new_term();
  TermInfo ti = ser.close_term();
  EXPECT_EQ(ti.doc_freq, 0u);
  SegmentPostings sp(Bytes(), Bytes(), ti, IndexRecordOption::kPosition);
  EXPECT_EQ(sp.doc(), kTerminated);
  EXPECT_EQ(sp.advance(), kTerminated);
  EXPECT_EQ(sp.seek(10), kTerminated);
  std::vector<uint32_t> p{1, 2};
  sp.positions(p);
  EXPECT_TRUE(p.empty());
  SegmentPostings def;
  EXPECT_EQ(def.doc(), kTerminated);
  EXPECT_EQ(def.advance(), kTerminated);
}

TEST(Postings, DenseTermIsSmall) {
  // 128k consecutive docs, tf 1: one bit per doc id and zero bits per tf.
  ByteWriter post, pos;
  PostingsSerializer ser(IndexRecordOption::kFreq, &post, &pos);
  ser.new_term();
  for (uint32_t d = 0; d < 128 * 1000; ++d) ser.write_doc(d + 7, 1, {}, 3);
  TermInfo ti = ser.close_term();
  EXPECT_LE(ti.postings_len, 1000u * (16 + 11) + 8);
}

TEST(Postings, SerializerRejectsBadInput) {
  ByteWriter post, pos;
  PostingsSerializer ser(IndexRecordOption::kPosition, &post, &pos);
  ser.new_term();
  ser.write_doc(5, 1, std::vector<uint32_t>{3}, 0);
  auto expect_invalid = [](auto&& fn) {
    try {
      fn();
      FAIL() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    }
  };
  expect_invalid([&] { ser.write_doc(5, 1, std::vector<uint32_t>{3}, 0); });  // not increasing
  expect_invalid([&] { ser.write_doc(6, 0, {}, 0); });                         // tf 0
  expect_invalid([&] { ser.write_doc(7, 2, std::vector<uint32_t>{3}, 0); });  // size mismatch
  expect_invalid([&] { ser.write_doc(8, 2, std::vector<uint32_t>{3, 1}, 0); });  // unsorted
  expect_invalid([&] { ser.write_doc(kTerminated, 1, std::vector<uint32_t>{1}, 0); });
  expect_invalid([] { PostingsSerializer s(IndexRecordOption::kPosition, nullptr, nullptr); });
}

// Reads the format as docs/format/postings.md describes it, to find where the packed doc blocks and
// position sub-blocks of a term lie; then overwrites everything a seek to block k must not touch
// with bytes that would fail any check, and seeks there. Proves skipped blocks are not decoded.
TEST(Postings, SkippedBlocksAreNotRead) {
  std::mt19937_64 rng(99);
  const IndexRecordOption opt = IndexRecordOption::kPosition;
  RefTerm t = make_term(rng, 128 * 40 + 17, Gaps::kSmall, opt);
  Written w = write_terms(opt, {t});
  const TermInfo& ti = w.infos[0];
  std::vector<uint8_t> post(w.postings.data(), w.postings.data() + w.postings.size());
  std::vector<uint8_t> pos(w.positions.data(), w.positions.data() + w.positions.size());
  // Header: vint first_doc, vint impacts_len, u8 tail_imp_len + the tail's impacts,
  // vint num_positions.
  ByteReader r(post, "test");
  r.vint();
  const uint64_t impacts_len = r.vint();
  r.bytes(r.u8());
  const uint64_t num_positions = r.vint();
  const size_t skip_start = r.pos();
  const uint32_t num_blocks = ti.doc_freq / 128;
  size_t off = skip_start + num_blocks * 15 + impacts_len;
  std::vector<size_t> block_off;
  for (uint32_t j = 0; j < num_blocks; ++j) {
    block_off.push_back(off);
    const uint8_t* e = post.data() + skip_start + j * 15;
    off += 16 * (e[4] + e[5]);
  }
  const uint32_t k = 30;  // target block
  // Position sub-block holding the first position of block k.
  uint64_t first_pos = 0;
  for (size_t i = 0; i < 128 * k; ++i) first_pos += t[i].tf;
  size_t pbyte = 0;
  for (uint64_t s = 0; s < first_pos / 128; ++s) pbyte += 1 + 16 * pos[pbyte];
  ASSERT_LT(first_pos / 128, num_positions / 128);
  // Clobber packed blocks 1..k-1 (block 0 is decoded by the constructor) and positions before.
  std::fill(post.begin() + static_cast<ptrdiff_t>(block_off[1]),
            post.begin() + static_cast<ptrdiff_t>(block_off[k]), 0xFF);
  std::fill(pos.begin(), pos.begin() + static_cast<ptrdiff_t>(pbyte), 0xFF);
  Bytes pb = Bytes::from_vector(post), qb = Bytes::from_vector(pos);
  SegmentPostings sp(pb, qb, ti, opt);
  std::vector<uint32_t> buf;
  const size_t idx = 128 * k + 5;
  ASSERT_EQ(sp.seek(t[idx].doc), t[idx].doc);
  check_doc(sp, t[idx], opt, true, buf);
  for (size_t i = idx + 1; i < t.size(); ++i) {
    ASSERT_EQ(sp.advance(), t[i].doc);
    check_doc(sp, t[i], opt, i % 7 == 0, buf);
  }
  // Going through the clobbered region does fail cleanly.
  SegmentPostings sp2(pb, qb, ti, opt);
  try {
    for (int i = 0; i < 128 * 3; ++i) sp2.advance();
    FAIL() << "clobbered block decoded without error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  }
}

TEST(Postings, OffsetsRelativeToWriterStart) {
  std::mt19937_64 rng(5);
  for (auto opt : {IndexRecordOption::kBasic, IndexRecordOption::kPosition}) {
    std::vector<RefTerm> terms{make_term(rng, 300, Gaps::kSmall, opt),
                               make_term(rng, 2, Gaps::kSmall, opt)};
    Written a = write_terms(opt, terms, 0);
    Written b = write_terms(opt, terms, 16);
    ASSERT_EQ(a.infos, b.infos);
    ASSERT_EQ(a.postings.size(), b.postings.size());
    EXPECT_TRUE(std::equal(a.postings.data(), a.postings.data() + a.postings.size(),
                           b.postings.data()));
  }
}

}  // namespace
}  // namespace needle

namespace needle {
namespace {

// A term that does not start where the chain ends cannot follow it; a first entry can.
TEST(Postings, StoredTermInfoNeedsContiguousRanges) {
  TermInfo t;
  t.doc_freq = 5;
  t.postings_offset = 100;
  t.postings_len = 20;
  t.positions_offset = 40;
  t.positions_len = 7;
  ByteWriter out;
  TermInfo::Chain c{100, 41};
  EXPECT_FALSE(t.encode_stored(out, false, c));  // positions gap
  EXPECT_EQ(out.size(), 0u);
  c = {99, 40};
  EXPECT_FALSE(t.encode_stored(out, false, c));  // postings gap
  EXPECT_EQ(out.size(), 0u);
  c = {100, 40};
  EXPECT_TRUE(t.encode_stored(out, false, c));
  EXPECT_EQ(c.postings_end, 120u);
  EXPECT_EQ(c.positions_end, 47u);
  c = {0, 0};
  ByteWriter first;
  EXPECT_TRUE(t.encode_stored(first, true, c));
  EXPECT_EQ(c.postings_end, 120u);
  // A singleton without positions moves nothing and needs no offsets: it follows any chain, and
  // as a first entry stores the chain's ends as the bases.
  TermInfo s;
  s.doc_freq = 1;
  s.single_doc = 7;
  s.single_tf = 1;
  c = {5, 6};
  ByteWriter sw;
  EXPECT_TRUE(s.encode_stored(sw, true, c));
  EXPECT_EQ(sw.data(), (std::vector<uint8_t>{0x01, 0x00, 0x05, 0x06, 0x1c}));
  EXPECT_EQ(c.postings_end, 5u);
  EXPECT_EQ(c.positions_end, 6u);
}

// Implicit offsets past 2^64 - 1 are corrupt, on both the decoding and the skipping path.
TEST(Postings, StoredTermInfoOverflowIsCorrupt) {
  ByteWriter w;
  w.vint(5);           // doc_freq
  w.vint(10);          // postings_len
  w.vint(0);           // positions_len
  w.vint(UINT64_MAX - 3);  // postings base
  w.vint(0);           // positions base
  ByteReader r(w.span(), "stored");
  TermInfo::Chain c;
  try {
    TermInfo::decode_stored(r, true, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  }
  c = {};
  EXPECT_FALSE(TermInfo::skip_stored(w.data().data(), w.data().data() + w.size(), true, c));
  // A later entry whose length runs the chain past 2^64 - 1.
  ByteWriter l;
  l.vint(2);
  l.vint(UINT64_MAX / 2 + 1);
  l.vint(0);
  c = {UINT64_MAX / 2 + 1, 0};
  ByteReader lr(l.span(), "stored");
  try {
    TermInfo::decode_stored(lr, false, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  }
  c = {UINT64_MAX / 2 + 1, 0};
  EXPECT_FALSE(TermInfo::skip_stored(l.data().data(), l.data().data() + l.size(), false, c));
  // Truncated values fail on the skipping path too.
  for (size_t n = 0; n < w.size(); ++n) {
    TermInfo::Chain t;
    EXPECT_FALSE(TermInfo::skip_stored(w.data().data(), w.data().data() + n, true, t)) << n;
  }
}

// A block whose 32-bit deltas wrap around (and still end on its skip entry's doc) is rejected,
// so bulk readers can rely on a block's docs never decreasing.
TEST(PostingsCorrupt, BlockDocsThatWrapAreRejected) {
  std::vector<uint8_t> post_bytes, pos_bytes;
  ByteWriter post(&post_bytes), pos(&pos_bytes);
  PostingsSerializer ser(IndexRecordOption::kBasic, &post, &pos);
  ser.new_term();
  // docs 0..126 and 2^30 + 2^29: the block's widest delta needs 31 bits
  const uint32_t last = (1u << 30) + (1u << 29);
  for (uint32_t d = 0; d < 127; ++d) ser.write_doc(d, 1, {}, 0);
  ser.write_doc(last, 1, {}, 0);
  ser.write_doc(last + 1, 1, {}, 0);  // a tail, so the block is a full one
  TermInfo ti = ser.close_term();
  // Rewrite the deltas: 0, 0x7FFFFFFF, 0x7FFFFFFF, 2 (wraps to 0), then 1s up to the last doc.
  std::vector<uint32_t> deltas(128, 1);
  deltas[0] = 0;
  deltas[1] = 0x7FFFFFFF;
  deltas[2] = 0x7FFFFFFF;
  deltas[3] = 2;
  uint32_t sum = 0;
  for (uint32_t i = 0; i < 127; ++i) sum += deltas[i];
  deltas[127] = last - sum;  // ends on the skip entry's doc
  ASSERT_LT(deltas[127], 0x80000000u);
  // The packed block is the 16 * 31 bytes before the tail's vint (1 byte).
  const size_t block_end = post_bytes.size() - 1;
  const size_t block_start = block_end - 16 * 31;
  bitpacking::pack(deltas.data(), 31, post_bytes.data() + block_start);
  try {
    SegmentPostings sp(Bytes::from_vector(post_bytes), Bytes(), ti, IndexRecordOption::kBasic);
    FAIL() << "opened a block whose doc ids wrap around, first doc " << sp.doc();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
    EXPECT_NE(std::string(e.what()).find("wrap around"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace needle
