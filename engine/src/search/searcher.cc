#include "needle/search/searcher.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "needle/split/split.h"
#include "scorer.h"

namespace needle {

Searcher::Searcher(std::vector<std::shared_ptr<SegmentReader>> segments, Schema schema,
                   std::shared_ptr<const AnalyzerRegistry> analyzers, Bm25Params params)
    : segments_(std::move(segments)), schema_(std::move(schema)), analyzers_(std::move(analyzers)), params_(params) {
  uint64_t base = 0;
  for (const auto& s : segments_) {
    bases_.push_back(base);
    base += s->max_doc();
  }
  bm25_tables_ = std::make_shared<const search::Bm25Tables>(segments_, schema_, params_);
}

Searcher Searcher::for_split(std::shared_ptr<Split> split, Bm25Params params) {
  Searcher s(split->segments(), split->schema(), analyzers_for(split->schema()), params);
  s.keep_alive_ = split;
  return s;
}

uint64_t Searcher::num_docs() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->num_alive();
  return n;
}

QueryPtr Searcher::parse(std::string_view query, const QueryOptions& options) const {
  return parse_and_build(query, schema_, *analyzers_, options);
}

namespace {
struct HitOrder {  // "a is better than b"
  bool operator()(const Hit& a, const Hit& b) const {
    if (a.score != b.score) return a.score > b.score;
    return a.global_doc < b.global_doc;
  }
};

// The best k hits seen so far. For a large k, hits that may still belong to the top k are appended
// to a buffer; when it holds 2k (k the first time) a selection keeps the k best and their worst
// becomes the floor new hits must beat: a few operations a hit, where a heap pays a sift down of
// log k levels for each one that enters (many, for a large k over documents in id order).
class TopK {
 public:
  explicit TopK(size_t k) : k_(k), heap_(k <= kHeapMax) { buf_.reserve(std::min<size_t>(2 * k, 8192)); }
  bool full() const { return have_floor_; }
  size_t k() const { return k_; }
  // A score below this cannot enter (allowing for float rounding in upper bounds).
  float threshold() const {
    if (!have_floor_) return -std::numeric_limits<float>::infinity();
    return floor_.score - std::abs(floor_.score) * 1e-6f;
  }
  void offer(const Hit& h) {
    if (have_floor_ && !HitOrder()(h, floor_)) return;
    add(h);
  }
  // Best first.
  std::vector<Hit> take() {
    std::sort(buf_.begin(), buf_.end(), HitOrder());
    if (buf_.size() > k_) buf_.resize(k_);
    return std::move(buf_);
  }

 private:
  // Up to this k, a heap (root: the worst kept hit): its floor is always the k-th best, which
  // matters more than the cost of a sift when k is small.
  static constexpr size_t kHeapMax = 32;

  [[gnu::noinline]] void add(const Hit& h) {
    if (k_ == 0) return;
    if (heap_) {
      if (buf_.size() < k_) {
        buf_.push_back(h);
        sift_up(buf_.size() - 1);
        have_floor_ = buf_.size() == k_;
      } else {
        sift_down(h);
      }
      floor_ = buf_[0];
      return;
    }
    buf_.push_back(h);
    if (buf_.size() >= (have_floor_ ? 2 * k_ : k_)) {
      // Keep the k best; the k-th is the new floor.
      std::nth_element(buf_.begin(), buf_.begin() + static_cast<ptrdiff_t>(k_ - 1), buf_.end(), HitOrder());
      buf_.resize(k_);
      floor_ = buf_[k_ - 1];
      have_floor_ = true;
    }
  }
  void sift_up(size_t i) {
    const Hit h = buf_[i];
    while (i > 0) {
      const size_t parent = (i - 1) / 2;
      if (!HitOrder()(buf_[parent], h)) break;
      buf_[i] = buf_[parent];
      i = parent;
    }
    buf_[i] = h;
  }
  // Puts h at the root (replacing the worst) and moves it down to its place.
  void sift_down(const Hit& h) {
    const size_t n = buf_.size();
    size_t i = 0;
    for (;;) {
      size_t c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && HitOrder()(buf_[c], buf_[c + 1])) ++c;  // the worse child
      if (!HitOrder()(h, buf_[c])) break;
      buf_[i] = buf_[c];
      i = c;
    }
    buf_[i] = h;
  }

  size_t k_;
  bool heap_;
  std::vector<Hit> buf_;  // the heap, or the buffer
  Hit floor_;  // the worst hit that is sure to be kept so far (once full)
  bool have_floor_ = false;
};

// Unwraps boosts: the term under them and the product of the boosts, if `q` is a boosted term.
const Query* boosted_term(const Query& q, float& boost) {
  const Query* cur = &q;
  boost = 1.0f;
  while (cur->kind == Query::Kind::kBoost) {
    boost *= cur->boost;
    cur = cur->inner.get();
  }
  return cur->kind == Query::Kind::kTerm ? cur : nullptr;
}

// A pure disjunction of (boosted) terms: its terms and boosts, else empty.
std::vector<std::pair<const Query*, float>> term_union(const Query& q) {
  std::vector<std::pair<const Query*, float>> out;
  if (q.kind != Query::Kind::kBoolean || q.clauses.size() < 2) return out;
  for (const auto& [occur, sub] : q.clauses) {
    float boost;
    const Query* t = boosted_term(*sub, boost);
    if (occur != Occur::kShould || t == nullptr || boost <= 0) return {};
    out.emplace_back(t, boost);
  }
  return out;
}

// A pure conjunction of (boosted) terms: its terms and boosts, else empty.
std::vector<std::pair<const Query*, float>> term_conjunction(const Query& q) {
  std::vector<std::pair<const Query*, float>> out;
  if (q.kind != Query::Kind::kBoolean || q.clauses.size() < 2) return out;
  for (const auto& [occur, sub] : q.clauses) {
    float boost;
    const Query* t = boosted_term(*sub, boost);
    if (occur != Occur::kMust || t == nullptr || boost <= 0) return {};
    out.emplace_back(t, boost);
  }
  return out;
}

// Set bits of x, inline: without -mpopcnt (the x86-64 baseline) __builtin_popcountll is a call.
inline uint64_t popcount64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return (x * 0x0101010101010101ULL) >> 56;
}

// "+a b c -d -e": one required (boosted) term, optional ones (positive boosts) and excluded ones:
// sets `req` (and fills `excluded`) and returns the optional terms, else leaves `req` null.
std::vector<std::pair<const Query*, float>> required_term_shape(const Query& q, const Query*& req, float& req_boost,
                                                                std::vector<const Query*>& excluded) {
  std::vector<std::pair<const Query*, float>> out;
  req = nullptr;
  excluded.clear();
  if (q.kind != Query::Kind::kBoolean || q.clauses.size() < 2) return out;
  const Query* must = nullptr;
  float must_boost = 0;
  for (const auto& [occur, sub] : q.clauses) {
    float boost;
    const Query* t = boosted_term(*sub, boost);
    if (t == nullptr) return {};
    if (occur == Occur::kMustNot) {
      excluded.push_back(t);
      continue;
    }
    if (boost <= 0) return {};
    if (occur == Occur::kMust) {
      if (must != nullptr) return {};
      must = t;
      must_boost = boost;
    } else {
      out.emplace_back(t, boost);
    }
  }
  if (must == nullptr) return {};
  req = must;
  req_boost = must_boost;
  return out;
}

struct TermCursor {
  SegmentPostings postings;
  search::Bm25 bm25;
  float max_score;  // over the whole list
};

}  // namespace

// Top-k of one term: blocks whose best possible score (from their impacts) cannot enter the
// top k are passed over on the skip entries alone, without decoding.
static void top_k_term(const SegmentReader& seg, uint32_t seg_index, uint64_t base, const Query& term, float boost,
                       const search::Stats& stats, TopK& top) {
  std::string key = term_key(term.field, term.term);
  auto ti = stats.term_info(seg, key);
  if (!ti) return;
  const auto& f = seg.schema().field(term.field);
  SegmentPostings p = seg.postings(*ti, f.options.record);
  search::Bm25 bm(stats.idf(key), boost, term.field, seg, stats);
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  uint32_t target = p.doc();  // the first doc not yet considered
  float theta = top.threshold();
  while (target != kTerminated) {
    p.shallow_seek(target);
    const uint32_t last = p.block_last_doc();
    if (search::block_upper_bound(bm, p.block_impacts()) >= theta) {
      if (p.seek(target) == kTerminated) break;
      auto docs = p.block_docs();
      auto tfs = p.block_term_freqs();
      for (size_t i = 0; i < docs.size(); ++i) {
        const uint32_t d = docs[i];
        if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d));
        const float s = bm.score(d, tfs[i]);
        if (s < theta || (deletes && seg.is_deleted(d))) continue;
        top.offer(Hit{s, seg_index, d, base + d});
        theta = top.threshold();
      }
    }
    if (last == kTerminated) break;
    target = last + 1;
  }
}

// Top k of a union of terms, and with `want_count` the number of its live matches (returned), a
// window of docs at a time: each essential term (MaxScore: the terms whose best scores,
// added to those of the terms below them, can reach the threshold) adds the scores of its docs in
// the window into an array, block by block without seeking; the other terms are then looked up
// only for those docs, while they can still lift one into the top k (when counting they are read
// whole anyway: their docs are counted and, where an essential term matched, scored). Per posting
// this is a few array operations where a document-at-a-time union pays a merge step.
//
// With a `required` term ("+a b c"), only its docs match: they alone are read whole, and the other
// terms are looked up for them as the non-essential ones are (the count is then its docs').
static uint64_t union_windows(const SegmentReader& seg, uint32_t seg_index, uint64_t base,
                              const std::vector<std::pair<const Query*, float>>& terms, const search::Stats& stats,
                              TopK& top, bool want_count, const std::pair<const Query*, float>* required = nullptr) {
  auto cursor = [&](const Query* t, float boost) -> std::optional<TermCursor> {
    std::string key = term_key(t->field, t->term);
    auto ti = stats.term_info(seg, key);
    if (!ti) return std::nullopt;
    const auto& f = seg.schema().field(t->field);
    search::Bm25 bm(stats.idf(key), boost, t->field, seg, stats);
    // tf / (tf + K) < 1, so the term's weight bounds every score of the list.
    return TermCursor{seg.postings(*ti, f.options.record), bm, bm.weight};
  };
  std::vector<TermCursor> cur;
  for (const auto& [t, boost] : terms) {
    if (auto c = cursor(t, boost)) cur.push_back(std::move(*c));
  }
  std::optional<TermCursor> req;
  if (required != nullptr) {
    req = cursor(required->first, required->second);
    if (!req) return 0;
  } else if (cur.empty()) {
    return 0;
  }
  std::sort(cur.begin(), cur.end(), [](const TermCursor& a, const TermCursor& b) { return a.max_score < b.max_score; });
  const size_t n = cur.size();
  std::vector<float> prefix(n);  // prefix[i]: sum of max_score of cur[0..i]
  float sum = 0;
  for (size_t i = 0; i < n; ++i) prefix[i] = sum += cur[i].max_score;

  // Smaller windows let the threshold (and so the split into essential terms) follow the top k
  // more closely, larger ones cost less per window; a large k raises its threshold slowly anyway.
  constexpr uint32_t kMaxWindow = 4096;
  const uint32_t window = top.k() >= 256 ? kMaxWindow : 1024;
  const uint32_t words = window / 64;
  std::vector<float> acc(window, 0.0f);
  uint64_t ess[kMaxWindow / 64] = {}, all[kMaxWindow / 64] = {};
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  const auto& del = seg.deleted_bitset();
  auto check = [&](uint32_t d) {
    if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d));
  };
  uint64_t count = 0;
  for (;;) {
    const float theta = top.threshold();
    size_t fe = 0;  // first essential term
    uint32_t w0 = kTerminated;
    if (req) {
      fe = n;
      if (!want_count && req->max_score + (n > 0 ? prefix[n - 1] : 0.0f) < theta) break;
      w0 = req->postings.doc();
    } else {
      while (fe < n && prefix[fe] < theta) ++fe;
      if (fe == n && !want_count) break;  // no document can enter any more
      for (size_t i = want_count ? 0 : fe; i < n; ++i) w0 = std::min(w0, cur[i].postings.doc());
    }
    if (w0 == kTerminated) break;
    check(w0);
    w0 &= ~63u;  // windows on word boundaries of the deleted bitset
    const uint32_t w_end = w0 + window;
    // Calls fn(window offset, doc, tf) for every doc of c below w_end; leaves c on the next one.
    auto drain = [&](TermCursor& c, auto&& fn) {
      while (c.postings.doc() < w_end) {
        auto docs = c.postings.block_docs();
        auto tfs = c.postings.block_term_freqs();
        // The docs of the block below w_end: usually all of them. Block docs never decrease
        // (SegmentPostings checks), so they lie in [doc(), docs[m - 1]] and checking the last
        // one checks them all.
        const bool whole = docs.back() < w_end;
        const size_t m = whole ? docs.size()
                               : static_cast<size_t>(std::lower_bound(docs.begin(), docs.end(), w_end) - docs.begin());
        check(docs[m - 1]);
        for (size_t j = 0; j < m; ++j) fn(docs[j] - w0, docs[j], tfs[j]);
        if (!whole) {
          c.postings.seek(docs[m]);
          break;
        }
        c.postings.next_block();
      }
    };
    if (req) {
      drain(*req, [&](uint32_t o, uint32_t d, uint32_t tf) {
        acc[o] = req->bm25.score(d, tf);
        ess[o >> 6] |= 1ULL << (o & 63);
      });
    }
    for (size_t i = fe; i < n; ++i) {
      TermCursor& c = cur[i];
      drain(c, [&](uint32_t o, uint32_t d, uint32_t tf) {
        acc[o] += c.bm25.score(d, tf);
        ess[o >> 6] |= 1ULL << (o & 63);
      });
    }
    const bool look_up = !want_count || req;  // else the others were read whole
    if (want_count && !req) {
      for (size_t i = fe; i-- > 0;) {
        TermCursor& c = cur[i];
        drain(c, [&](uint32_t o, uint32_t d, uint32_t tf) {
          const uint64_t bit = 1ULL << (o & 63);
          all[o >> 6] |= bit;
          if (ess[o >> 6] & bit) acc[o] += c.bm25.score(d, tf);
        });
      }
    }
    float t = top.threshold();
    for (uint32_t w = 0; w < words; ++w) {
      uint64_t dead = 0;
      if (deletes) {
        const size_t b0 = (static_cast<size_t>(w0) >> 3) + 8 * w;
        for (size_t b = 0; b < 8 && b0 + b < del.size(); ++b) dead |= static_cast<uint64_t>(del[b0 + b]) << (8 * b);
      }
      if (want_count) {
        count += popcount64((ess[w] | all[w]) & ~dead);
        all[w] = 0;
      }
      for (uint64_t bits = ess[w]; bits != 0; bits &= bits - 1) {
        const uint32_t o = w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
        const uint32_t d = w0 + o;
        float score = acc[o];
        acc[o] = 0.0f;
        if (look_up) {
          // The terms that are not essential, while they can still lift the doc into the top k.
          for (size_t i = fe; i-- > 0;) {
            if (score + prefix[i] < t) break;
            TermCursor& c = cur[i];
            if (c.postings.doc() < d) c.postings.seek(d);
            if (c.postings.doc() == d) score += c.bm25.score(d, c.postings.term_freq());
          }
        }
        if (score < t || ((dead >> (o & 63)) & 1)) continue;
        top.offer(Hit{score, seg_index, d, base + d});
        t = top.threshold();
      }
      ess[w] = 0;
    }
  }
  return count;
}

// A required term with excluded ones ("+a -b -c", optional terms too): the required term's docs
// in order, each one checked against the exclusions only if it is counted or may enter the top k;
// without a count, blocks whose impacts (plus the optional terms' best) cannot reach the top k
// are passed over. Returns the live matches when `want_count`.
static uint64_t required_excluding(const SegmentReader& seg, uint32_t seg_index, uint64_t base,
                                   const std::pair<const Query*, float>& required,
                                   const std::vector<std::pair<const Query*, float>>& optional,
                                   const std::vector<const Query*>& excluded, const search::Stats& stats, TopK& top,
                                   bool want_count) {
  auto cursor = [&](const Query* t, float boost) -> std::optional<TermCursor> {
    std::string key = term_key(t->field, t->term);
    auto ti = stats.term_info(seg, key);
    if (!ti) return std::nullopt;
    search::Bm25 bm(stats.idf(key), boost, t->field, seg, stats);
    return TermCursor{seg.postings(*ti, seg.schema().field(t->field).options.record), bm, bm.weight};
  };
  auto req = cursor(required.first, required.second);
  if (!req) return 0;
  std::vector<TermCursor> opt;
  for (const auto& [t, boost] : optional) {
    if (auto c = cursor(t, boost)) opt.push_back(std::move(*c));
  }
  std::sort(opt.begin(), opt.end(), [](const TermCursor& a, const TermCursor& b) { return a.max_score < b.max_score; });
  std::vector<float> prefix(opt.size());
  float sum = 0;
  for (size_t i = 0; i < opt.size(); ++i) prefix[i] = sum += opt[i].max_score;
  const float opt_total = sum;
  std::vector<SegmentPostings> excl;
  for (const Query* t : excluded) {
    auto ti = stats.term_info(seg, term_key(t->field, t->term));
    if (ti) excl.push_back(seg.postings(*ti, seg.schema().field(t->field).options.record));
  }
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  const bool collect = top.k() > 0;
  uint64_t count = 0;
  SegmentPostings& p = req->postings;
  while (p.doc() != kTerminated) {
    float t = top.threshold();
    if (!want_count) {
      if (!collect || req->max_score + opt_total < t) break;
      p.shallow_seek(p.doc());
      if (search::block_upper_bound(req->bm25, p.block_impacts()) + opt_total < t) {
        p.next_block();
        continue;
      }
    }
    auto docs = p.block_docs();
    auto tfs = p.block_term_freqs();
    if (docs.back() >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(docs.back()));
    for (size_t j = 0; j < docs.size(); ++j) {
      const uint32_t d = docs[j];
      if (deletes && seg.is_deleted(d)) continue;
      float score = 0;
      if (!want_count) {
        score = req->bm25.score(d, tfs[j]);
        if (score + opt_total < t) continue;
      }
      bool out = false;
      for (auto& e : excl) {
        if (e.doc() < d) e.seek(d);
        if (e.doc() == d) {
          out = true;
          break;
        }
      }
      if (out) continue;
      ++count;
      if (!collect) continue;
      if (want_count) {
        score = req->bm25.score(d, tfs[j]);
        if (score + opt_total < t) continue;
      }
      for (size_t i = opt.size(); i-- > 0;) {  // the optional terms, while they can still matter
        if (score + prefix[i] < t) break;
        TermCursor& c = opt[i];
        if (c.postings.doc() < d) c.postings.seek(d);
        if (c.postings.doc() == d) score += c.bm25.score(d, c.postings.term_freq());
      }
      if (score < t) continue;
      top.offer(Hit{score, seg_index, d, base + d});
      t = top.threshold();
    }
    p.next_block();
  }
  return count;
}

// Sets the bit of every doc of `p` (from its current doc on) in `bits`.
static void or_postings(const SegmentReader& seg, SegmentPostings& p, std::vector<uint64_t>& bits) {
  const uint32_t max_doc = seg.max_doc();
  while (p.doc() != kTerminated) {
    for (uint32_t d : p.block_docs()) {
      if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d));
      bits[d >> 6] |= 1ULL << (d & 63);
    }
    p.next_block();
  }
}

// Number of set bits of documents that are not deleted.
static uint64_t count_alive(const SegmentReader& seg, const std::vector<uint64_t>& bits) {
  const auto& del = seg.deleted_bitset();
  uint64_t n = 0;
  for (size_t w = 0; w < bits.size(); ++w) {
    uint64_t word = bits[w];
    if (!del.empty()) {
      uint64_t dead = 0;
      for (size_t b = 0; b < 8 && w * 8 + b < del.size(); ++b) dead |= static_cast<uint64_t>(del[w * 8 + b]) << (8 * b);
      word &= ~dead;
    }
    n += popcount64(word);
  }
  return n;
}

// A conjunction of terms over one segment, leading with the rarest: counts its live matches
// (returned) and, with `top`, offers them scored. (Block-max windows over the terms' impacts
// were tried here: computing the bounds cost more than the blocks they let us skip, on the AOL
// queries over Wikipedia, so every match is scored.)
static uint64_t and_terms(const SegmentReader& seg, uint32_t seg_index, uint64_t base,
                          const std::vector<std::pair<const Query*, float>>& terms, const search::Stats& stats,
                          TopK* top, bool want_count) {
  struct Cursor {
    SegmentPostings p;
    const Query* term;
    float boost;
  };
  std::vector<Cursor> cur;
  for (const auto& [t, boost] : terms) {
    auto ti = stats.term_info(seg, term_key(t->field, t->term));
    if (!ti) return 0;
    cur.push_back(Cursor{seg.postings(*ti, seg.schema().field(t->field).options.record), t, boost});
  }
  std::stable_sort(cur.begin(), cur.end(),
                   [](const Cursor& a, const Cursor& b) { return a.p.doc_freq() < b.p.doc_freq(); });
  if (want_count && top == nullptr) {
    // Dense lists: AND-ing bitsets of the terms (decode every block, no seeks) is cheaper than
    // seeking every other term to each doc of the lead (estimated instruction costs). With a
    // top k as well, one pass that counts and scores is cheaper than the two.
    const uint64_t words = (seg.max_doc() + 63) / 64;
    uint64_t total_df = 0;
    for (const auto& c : cur) total_df += c.p.doc_freq();
    const uint64_t leapfrog = 40 * static_cast<uint64_t>(cur[0].p.doc_freq()) * cur.size();
    const uint64_t bitset = 4 * total_df + 3 * words * cur.size();
    if (bitset < leapfrog) {
      std::vector<uint64_t> bits(words, 0), tmp(words);
      or_postings(seg, cur[0].p, bits);
      for (size_t i = 1; i < cur.size(); ++i) {
        std::fill(tmp.begin(), tmp.end(), 0);
        or_postings(seg, cur[i].p, tmp);
        for (uint64_t w = 0; w < words; ++w) bits[w] &= tmp[w];
      }
      return count_alive(seg, bits);
    }
  }
  std::vector<search::Bm25> bm;
  if (top != nullptr) {
    bm.reserve(cur.size());
    for (const auto& c : cur) {
      bm.emplace_back(stats.idf(term_key(c.term->field, c.term->term)), c.boost, c.term->field, seg, stats);
    }
  }
  const size_t n = cur.size();
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  SegmentPostings& lead = cur[0].p;
  float theta = top != nullptr ? top->threshold() : 0;
  uint64_t count = 0;
  uint32_t d = lead.doc();
  while (d != kTerminated) {
    uint32_t di = d;
    size_t i = 1;
    for (; i < n; ++i) {
      SegmentPostings& p = cur[i].p;
      di = p.doc() < d ? p.seek(d) : p.doc();
      if (di != d) break;
    }
    if (i < n) {
      if (di == kTerminated) break;
      d = lead.seek(di);
      continue;
    }
    if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d));
    if (!(deletes && seg.is_deleted(d))) {
      ++count;
      if (top != nullptr) {
        float score = 0;
        for (size_t j = 0; j < n; ++j) score += bm[j].score(d, cur[j].p.term_freq());
        if (score >= theta) {
          top->offer(Hit{score, seg_index, d, base + d});
          theta = top->threshold();
        }
      }
    }
    d = lead.advance();
  }
  return count;
}

// Count of a union of terms: each term's postings OR-ed into a bitset, block by block, then
// counted (deleted documents masked out).
static uint64_t count_union(const SegmentReader& seg, const std::vector<std::pair<const Query*, float>>& terms,
                            const search::Stats& stats) {
  std::vector<uint64_t> bits((seg.max_doc() + 63) / 64, 0);
  for (const auto& [t, boost] : terms) {
    auto ti = stats.term_info(seg, term_key(t->field, t->term));
    if (!ti) continue;
    SegmentPostings p = seg.postings(*ti, seg.schema().field(t->field).options.record);
    or_postings(seg, p, bits);
  }
  return count_alive(seg, bits);
}

SearchResult Searcher::run(const Query& q, size_t k, bool want_count,
                           const std::function<void(const Hit&)>* each) const {
  search::Stats stats(segments_, schema_, params_, bm25_tables_.get());
  SearchResult result;
  if (each == nullptr) {
    auto conj = term_conjunction(q);
    if (!conj.empty()) {
      TopK top(k);
      for (size_t s = 0; s < segments_.size(); ++s) {
        result.count += and_terms(*segments_[s], static_cast<uint32_t>(s), bases_[s], conj, stats,
                                  k > 0 ? &top : nullptr, want_count);
      }
      if (!want_count) result.count = 0;
      result.hits = top.take();
      return result;
    }
  }
  // One required term, optional and excluded ones: the required term's docs, the others looked
  // up while they matter.
  if (each == nullptr) {
    const Query* req = nullptr;
    float req_boost = 1.0f;
    std::vector<const Query*> excluded;
    auto opt = required_term_shape(q, req, req_boost, excluded);
    if (req != nullptr && !excluded.empty()) {
      TopK top(k);
      const std::pair<const Query*, float> r(req, req_boost);
      for (size_t s = 0; s < segments_.size(); ++s) {
        result.count += required_excluding(*segments_[s], static_cast<uint32_t>(s), bases_[s], r, opt, excluded, stats,
                                           top, want_count);
      }
      result.hits = top.take();
      if (!want_count) result.count = 0;
      return result;
    }
    if (req != nullptr && !opt.empty() && k > 0) {
      // The count (without the optional terms) is the required term's: count() does not come here.
      if (want_count) result.count = count(q);
      TopK top(k);
      const std::pair<const Query*, float> r(req, req_boost);
      for (size_t s = 0; s < segments_.size(); ++s) {
        union_windows(*segments_[s], static_cast<uint32_t>(s), bases_[s], opt, stats, top, false, &r);
      }
      result.hits = top.take();
      return result;
    }
  }
  // Top-k need not visit every match; a count of a union is a bitset count.
  if (k > 0 && each == nullptr) {
    float boost;
    const Query* term = boosted_term(q, boost);
    auto terms = term_union(q);
    if ((term != nullptr && boost > 0) || !terms.empty()) {
      if (want_count && term != nullptr) result.count = count(*term);
      TopK top(k);
      for (size_t s = 0; s < segments_.size(); ++s) {
        if (term != nullptr) {
          top_k_term(*segments_[s], static_cast<uint32_t>(s), bases_[s], *term, boost, stats, top);
        } else {
          result.count += union_windows(*segments_[s], static_cast<uint32_t>(s), bases_[s], terms, stats, top, want_count);
        }
      }
      result.hits = top.take();
      return result;
    }
  }
  TopK top(k);
  for (size_t s = 0; s < segments_.size(); ++s) {
    const SegmentReader& seg = *segments_[s];
    auto scorer = search::build_scorer(q, seg, stats, 1.0f);
    const bool deletes = seg.has_deletes();
    const uint32_t max_doc = seg.max_doc();
    const bool bounded = scorer->bounded();
    const bool score_all = each != nullptr || (k > 0 && !bounded);
    for (uint32_t d = scorer->doc(); d != kTerminated; d = scorer->advance()) {
      // Scores read per-document arrays; a doc id past the segment can only come from damage.
      if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d) + " of " + std::to_string(max_doc));
      if (deletes && seg.is_deleted(d)) continue;
      // A full top k needs no document whose best possible score is below its worst; it is not
      // even confirmed unless counted.
      const bool competitive = score_all || (k > 0 && (!top.full() || !(scorer->max_score() < top.threshold())));
      if (!competitive) {
        if (want_count && scorer->matches()) ++result.count;
        continue;
      }
      float score;
      if (bounded) {
        if (!scorer->matches_scored(score)) continue;
      } else {
        if (!scorer->matches()) continue;
        score = scorer->score();
      }
      ++result.count;
      Hit h{score, static_cast<uint32_t>(s), d, bases_[s] + d};
      if (each) (*each)(h);
      if (k == 0) continue;
      top.offer(h);
    }
  }
  result.hits = top.take();
  if (!want_count) result.count = 0;
  return result;
}

std::vector<Hit> Searcher::top_k(const Query& q, size_t k) const { return run(q, k, false, nullptr).hits; }

// A query that matches the same documents as `q`, for counting: boosts dropped, and should
// clauses of a boolean query that has must clauses (they only add score); a boolean left with
// one must clause is that clause. `holder` keeps a rewritten boolean alive.
static const Query* count_form(const Query& q, QueryPtr& holder) {
  const Query* cur = &q;
  for (;;) {
    while (cur->kind == Query::Kind::kBoost) cur = cur->inner.get();
    if (cur->kind != Query::Kind::kBoolean) return cur;
    bool must = false, should = false;
    for (const auto& [occur, sub] : cur->clauses) {
      must |= occur == Occur::kMust;
      should |= occur == Occur::kShould;
    }
    if (!must || !should) return cur;
    std::vector<std::pair<Occur, QueryPtr>> kept;
    for (const auto& c : cur->clauses) {
      if (c.first != Occur::kShould) kept.push_back(c);
    }
    if (kept.size() == 1) {
      cur = kept[0].second.get();  // owned by q's clauses
      continue;
    }
    holder = Query::make_boolean(std::move(kept));
    return holder.get();
  }
}

uint64_t Searcher::count(const Query& query) const {
  QueryPtr holder;
  const Query& q = *count_form(query, holder);
  // Counts that need no iteration: all documents, and one term when nothing is deleted.
  bool any_deletes = false;
  for (const auto& s : segments_) any_deletes |= s->has_deletes();
  if (q.kind == Query::Kind::kAll) return num_docs();
  if (q.kind == Query::Kind::kTerm && !any_deletes) {
    uint64_t n = 0;
    std::string key = term_key(q.field, q.term);
    for (const auto& s : segments_) {
      if (auto ti = s->term_info(key)) n += ti->doc_freq;
    }
    return n;
  }
  auto terms = term_union(q);
  if (!terms.empty()) {
    search::Stats stats(segments_, schema_, params_, bm25_tables_.get());
    uint64_t n = 0;
    for (const auto& seg : segments_) n += count_union(*seg, terms, stats);
    return n;
  }
  return run(q, 0, true, nullptr).count;
}

SearchResult Searcher::top_k_with_count(const Query& q, size_t k) const { return run(q, k, true, nullptr); }

void Searcher::for_each(const Query& q, const std::function<void(const Hit&)>& fn) const { run(q, 0, false, &fn); }

Document Searcher::doc(const Hit& hit) const {
  if (hit.segment >= segments_.size()) throw_error(ErrorCode::kInvalidArgument, "no segment " + std::to_string(hit.segment));
  const auto& seg = *segments_[hit.segment];
  if (hit.doc >= seg.max_doc()) throw_error(ErrorCode::kInvalidArgument, "no document " + std::to_string(hit.doc));
  return seg.stored(hit.doc);
}

DocMatcher make_doc_matcher(QueryPtr query, const Schema& schema) {
  Schema copy = schema;
  return [query, copy](const SegmentReader& seg, std::vector<uint32_t>& docs) {
    std::vector<std::shared_ptr<SegmentReader>> one;
    one.push_back(std::shared_ptr<SegmentReader>(std::shared_ptr<SegmentReader>{}, const_cast<SegmentReader*>(&seg)));
    search::Stats stats(one, copy, Bm25Params{});
    auto scorer = search::build_scorer(*query, seg, stats, 1.0f);
    for (uint32_t d = scorer->doc(); d != kTerminated && d < seg.max_doc(); d = scorer->advance()) {
      if (scorer->matches()) docs.push_back(d);
    }
  };
}

}  // namespace needle
