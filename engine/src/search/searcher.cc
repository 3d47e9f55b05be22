#include "needle/search/searcher.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The best k hits seen so far. Heap mode: a list until it holds k, then a binary heap whose root
// is the worst kept hit (a better hit replaces the root and sifts down: a parent is never better
// than its children), so the threshold is always the k-th best score once there are k, for
// paths that skip by it. Buffered mode: hits are appended and, at 2k, cut to the best k in linear
// time; the threshold lags (it is the k-th best at the last cut) but an offer costs far less, for
// paths that visit every match anyway, and for large k (above 256), where sifting through the
// heap's levels costs more than the lagging threshold does in pruning (measured on TOP_1000).
// Either way the k best by HitOrder are kept, whatever the order of the offers.
//
// When every global doc fits in 32 bits, a hit is kept as one 64-bit key (the score's bits mapped
// so that they order like the scores, then the inverted doc), larger is better, and the heap
// moves 8-byte keys with one compare.
class TopK {
 public:
  TopK(size_t k, bool buffered, const std::vector<uint64_t>& bases, uint64_t total_docs)
      : k_(k), buffered_(buffered || k > 256), keyed_(total_docs <= UINT32_MAX), bases_(bases) {
    const size_t cap = std::min<size_t>(buffered ? 2 * k : k, 8192);
    if (keyed_) {
      keys_cap_ = std::max<size_t>(cap, 1);
      keys_ = std::make_unique_for_overwrite<uint64_t[]>(keys_cap_);
    } else {
      heap_.reserve(cap);
    }
  }
  size_t k() const { return k_; }
  // A score below this cannot enter (allowing for float rounding in upper bounds); -inf until
  // the first k hits are in.
  float threshold() const { return theta_; }
  // Inlined: its callers are the hot loops (out of line, the call costs more than most offers).
  [[gnu::always_inline]] void offer(const Hit& h) {
    if (k_ == 0) return;
    if (keyed_) {
      offer_key(key_of(h.score, h.global_doc));
    } else {
      offer_hit(h);
    }
  }
  std::vector<Hit> take() {
    std::vector<Hit> out;
    if (keyed_) {
      uint64_t* keys = keys_.get();
      if (nkeys_ > k_) {
        std::nth_element(keys, keys + k_ - 1, keys + nkeys_, std::greater<uint64_t>());
        nkeys_ = k_;
      }
      std::sort(keys, keys + nkeys_, std::greater<uint64_t>());
      out.reserve(nkeys_);
      for (size_t i = 0; i < nkeys_; ++i) {
        const uint64_t key = keys[i];
        const float score = score_of(key);
        const uint64_t global = ~static_cast<uint32_t>(key);
        const size_t seg = static_cast<size_t>(std::upper_bound(bases_.begin(), bases_.end(), global) - bases_.begin()) - 1;
        out.push_back(Hit{score, static_cast<uint32_t>(seg), static_cast<uint32_t>(global - bases_[seg]), global});
      }
      return out;
    }
    out = std::move(heap_);
    if (out.size() > k_) {
      std::nth_element(out.begin(), out.begin() + static_cast<ptrdiff_t>(k_ - 1), out.end(), HitOrder());
      out.resize(k_);
    }
    std::sort(out.begin(), out.end(), HitOrder());
    return out;
  }

 private:
  // The bits of a score as an unsigned integer in the order of the scores: the sign bit set for
  // scores >= 0 (the fast paths only have those), all bits flipped for negative ones.
  static uint32_t ordered_bits(float score) {
    score += 0.0f;  // -0.0 (which would sort below 0.0) becomes 0.0
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    return bits ^ (static_cast<uint32_t>(static_cast<int32_t>(bits) >> 31) | 0x80000000u);
  }
  static float score_of(uint64_t key) {
    uint32_t u = static_cast<uint32_t>(key >> 32);
    u ^= (u & 0x80000000u) != 0 ? 0x80000000u : 0xFFFFFFFFu;
    float score;
    std::memcpy(&score, &u, sizeof score);
    return score;
  }
  static uint64_t key_of(float score, uint64_t global) {
    return static_cast<uint64_t>(ordered_bits(score)) << 32 | static_cast<uint32_t>(~static_cast<uint32_t>(global));
  }
  void set_theta_key(uint64_t key) { set_theta(score_of(key)); }
  [[gnu::always_inline]] void offer_key(uint64_t key) {
    if (buffered_) {
      push_key(key);
      if (nkeys_ >= 2 * k_) {  // keep the best k: the k largest keys
        std::nth_element(keys_.get(), keys_.get() + k_ - 1, keys_.get() + nkeys_, std::greater<uint64_t>());
        nkeys_ = k_;
        set_theta_key(keys_[k_ - 1]);
      }
      return;
    }
    if (nkeys_ < k_) {
      // Until k hits are in, a plain list (most queries never fill a large k); then a heap.
      push_key(key);
      if (nkeys_ == k_) {
        std::make_heap(keys_.get(), keys_.get() + k_, std::greater<uint64_t>());  // root: the smallest
        set_theta_key(keys_[0]);
      }
      return;
    }
    if (key <= keys_[0]) return;
    uint64_t* h = keys_.get();
    const size_t n = nkeys_;
    size_t i = 0;
    for (;;) {  // sift down from the root: move the smaller child up while it is below key
      size_t c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && h[c + 1] < h[c]) ++c;
      if (h[c] >= key) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = key;
    set_theta_key(h[0]);
  }
  // keys_[0..nkeys_) are in use (a vector's push_back, a call, costs more than most offers).
  [[gnu::always_inline]] void push_key(uint64_t key) {
    if (nkeys_ == keys_cap_) grow_keys();
    keys_[nkeys_++] = key;
  }
  [[gnu::noinline]] void grow_keys() {
    auto bigger = std::make_unique_for_overwrite<uint64_t[]>(2 * keys_cap_);
    std::copy(keys_.get(), keys_.get() + nkeys_, bigger.get());
    keys_ = std::move(bigger);
    keys_cap_ *= 2;
  }
  void offer_hit(const Hit& h) {
    if (buffered_) {
      heap_.push_back(h);
      if (heap_.size() >= 2 * k_) {
        std::nth_element(heap_.begin(), heap_.begin() + static_cast<ptrdiff_t>(k_ - 1), heap_.end(), HitOrder());
        heap_.resize(k_);
        set_theta(heap_[k_ - 1].score);
      }
      return;
    }
    if (heap_.size() < k_) {
      heap_.push_back(h);
      if (heap_.size() == k_) {
        std::make_heap(heap_.begin(), heap_.end(), HitOrder());  // root: the worst hit
        set_theta(heap_[0].score);
      }
    } else if (HitOrder()(h, heap_[0])) {
      const size_t n = heap_.size();
      size_t i = 0;
      for (;;) {  // sift down from the root: move the worse child up while it is worse than h
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && HitOrder()(heap_[c], heap_[c + 1])) ++c;
        if (!HitOrder()(h, heap_[c])) break;
        heap_[i] = heap_[c];
        i = c;
      }
      heap_[i] = h;
      set_theta(heap_[0].score);
    }
  }
  void set_theta(float t) { theta_ = t - std::abs(t) * 1e-6f; }

  size_t k_;
  bool buffered_;
  bool keyed_;
  const std::vector<uint64_t>& bases_;
  float theta_ = -std::numeric_limits<float>::infinity();
  std::unique_ptr<uint64_t[]> keys_;  // keys_[0..nkeys_) in use, room for keys_cap_
  size_t nkeys_ = 0, keys_cap_ = 0;
  std::vector<Hit> heap_;
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

// A boolean query of terms as the fast paths take it: must, should and must-not
// clauses that are (boosted) terms, with at least one must clause.
struct TermBool {
  std::vector<std::pair<const Query*, float>> must, should, must_not;
};

std::optional<TermBool> term_boolean(const Query& q) {
  if (q.kind != Query::Kind::kBoolean) return std::nullopt;
  TermBool tb;
  for (const auto& [occur, sub] : q.clauses) {
    float boost;
    const Query* t = boosted_term(*sub, boost);
    if (t == nullptr) return std::nullopt;
    if (occur == Occur::kMustNot) {
      tb.must_not.emplace_back(t, boost);  // only its documents matter
    } else if (boost <= 0) {
      return std::nullopt;
    } else {
      (occur == Occur::kMust ? tb.must : tb.should).emplace_back(t, boost);
    }
  }
  if (tb.must.empty()) return std::nullopt;
  return tb;
}

// The postings of a term of a TermBool in one segment, with its BM25 and bounds. Built in place
// (a SegmentPostings is large: moving one costs more than the rest of opening it).
struct BoolCursor {
  BoolCursor(const SegmentReader& seg, const TermInfo& ti, IndexRecordOption opt, const search::Bm25& b)
      : p(seg.postings(ti, opt)), bm(b), weight(b.weight) {}
  SegmentPostings p;
  search::Bm25 bm;
  float weight;              // bounds every score of the term (tf / (tf + K) < 1)
  uint32_t cached_last = 0;  // block_last_doc of the block whose bound is cached_bound (0: none;
                             // no block of 128 docs ends on doc 0)
  float cached_bound = 0;
};

struct ExclCursor {
  ExclCursor(const SegmentReader& seg, const TermInfo& ti, IndexRecordOption opt) : p(seg.postings(ti, opt)) {}
  SegmentPostings p;
};

// The cursors of `tb` in `seg`: must terms rarest first, then should terms with the largest
// weight first, and the must-not postings. False when a must term has no postings here (nothing
// matches); absent should and must-not terms are left out.
bool open_bool(const SegmentReader& seg, const TermBool& tb, const search::Stats& stats, std::vector<BoolCursor>& cur,
               size_t& num_must, std::vector<ExclCursor>& excl) {
  struct Found {
    TermInfo ti;
    IndexRecordOption opt;
    search::Bm25 bm;
  };
  auto find = [&](const std::pair<const Query*, float>& c) -> std::optional<Found> {
    const Query* t = c.first;
    std::string key = term_key(t->field, t->term);
    auto ti = stats.term_info(seg, key);
    if (!ti) return std::nullopt;
    return Found{*ti, seg.schema().field(t->field).options.record,
                 search::Bm25(stats.idf(key), c.second, t->field, seg, stats)};
  };
  std::vector<Found> must, should;
  for (const auto& c : tb.must) {
    auto f = find(c);
    if (!f) return false;
    must.push_back(*f);
  }
  for (const auto& c : tb.should) {
    if (auto f = find(c)) should.push_back(*f);
  }
  std::stable_sort(must.begin(), must.end(), [](const Found& a, const Found& b) { return a.ti.doc_freq < b.ti.doc_freq; });
  std::stable_sort(should.begin(), should.end(), [](const Found& a, const Found& b) { return a.bm.weight > b.bm.weight; });
  cur.reserve(must.size() + should.size());
  for (const auto& f : must) cur.emplace_back(seg, f.ti, f.opt, f.bm);
  for (const auto& f : should) cur.emplace_back(seg, f.ti, f.opt, f.bm);
  num_must = must.size();
  excl.reserve(tb.must_not.size());
  for (const auto& [t, boost] : tb.must_not) {
    auto ti = stats.term_info(seg, term_key(t->field, t->term));
    if (ti) excl.emplace_back(seg, *ti, seg.schema().field(t->field).options.record);
  }
  return true;
}

// True when one of the must-not postings holds d (they are sought forward to it).
inline bool excluded(std::vector<ExclCursor>& excl, uint32_t d) {
  for (auto& e : excl) {
    if (e.p.doc() < d) e.p.seek(d);
    if (e.p.doc() == d) return true;
  }
  return false;
}

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

// BM25 scores of docs[0..m) with tfs[0..m) (the arithmetic of Bm25::score, in loops the compiler
// vectorizes) into `out`; false if a doc id is not below max_doc (no norm is read for it).
static bool score_span(const search::Bm25& bm, const uint32_t* docs, const uint32_t* tfs, size_t m, uint32_t max_doc,
                       float* ks, float* out) {
  // A corrupt block may hold any doc id: one past max_doc reads the norm of doc 0 and fails the call.
  uint32_t bad = 0;
  if (bm.norms != nullptr) {
    const uint8_t* norms = bm.norms;
    const float* cache = bm.cache;
#pragma GCC unroll 4
    for (size_t j = 0; j < m; ++j) {
      const uint32_t d = docs[j];
      const uint32_t ok = d < max_doc ? 1 : 0;
      bad |= ok ^ 1;
      ks[j] = cache[norms[ok ? d : 0]];
    }
  } else {
    for (size_t j = 0; j < m; ++j) {
      bad |= docs[j] < max_doc ? 0 : 1;
      ks[j] = bm.k_no_norm;
    }
  }
  const float w = bm.weight;
  for (size_t j = 0; j < m; ++j) {
    const float t = static_cast<float>(tfs[j]);
    out[j] = w * t / (t + ks[j]);
  }
  return bad == 0;
}

// How many of the sorted docs[0..m) are below `end`.
static size_t count_below(const uint32_t* docs, size_t m, uint32_t end) {
  if (m == 0 || docs[m - 1] < end) return m;
  size_t lo = 0, hi = m - 1;  // docs[hi] >= end
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (docs[mid] < end) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

static constexpr uint32_t kUnionWindow = 1024;

// Number of bytes of a[0..n) that are not 0 (n a multiple of 16).
static uint64_t count_nonzero(const uint8_t* a, uint32_t n) {
#if defined(__SSE2__)
  __m128i sum = _mm_setzero_si128();
  const __m128i one = _mm_set1_epi8(1);
  for (uint32_t i = 0; i < n; i += 16) {
    const __m128i v = _mm_min_epu8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)), one);
    sum = _mm_add_epi64(sum, _mm_sad_epu8(v, _mm_setzero_si128()));
  }
  alignas(16) uint64_t lanes[2];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), sum);
  return lanes[0] + lanes[1];
#else
  uint64_t c = 0;
  for (uint32_t i = 0; i < n; ++i) c += a[i] != 0 ? 1 : 0;
  return c;
#endif
}

// True when every doc of docs[0..m) (m > 0) is in [w0, w0 + window): the docs of a block never
// decrease (SegmentPostings checks), so checking the first and the last checks them all.
static bool in_window(const uint32_t* docs, size_t m, uint32_t w0, uint32_t window = kUnionWindow) {
  return docs[0] - w0 < window && docs[m - 1] - w0 < window;
}

// The docs of `c` in the window [w0, wend) (from its current doc, which is >= w0), scored in bulk
// a block at a time: calls fn(offset of the doc in the window, its score) for each, in doc order,
// and leaves `c` on its first doc >= wend.
template <class Fn>
static void score_window(const SegmentReader& seg, BoolCursor& c, uint32_t w0, uint32_t wend, Fn&& fn) {
  alignas(64) float ks[bitpacking::kBlockSize];
  alignas(64) float sc[bitpacking::kBlockSize];
  SegmentPostings& p = c.p;
  while (p.doc() < wend) {
    const auto docs = p.block_docs();
    const size_t m = count_below(docs.data(), docs.size(), wend);
    const auto tfs = p.block_term_freqs();
    if (!score_span(c.bm, docs.data(), tfs.data(), m, seg.max_doc(), ks, sc) || !in_window(docs.data(), m, w0, wend - w0)) {
      throw_corrupt(seg.meta().id, "a posting names a document past the segment");
    }
    for (size_t j = 0; j < m; ++j) fn(docs[j] - w0, sc[j]);
    if (m == docs.size()) {
      p.next_block();
    } else {
      p.seek(docs[m]);
    }
  }
}

// The cursors of a union's terms present in `seg`, ordered by weight (their bound), smallest
// first; false when none is.
static bool open_union(const SegmentReader& seg, const std::vector<std::pair<const Query*, float>>& terms,
                       const search::Stats& stats, std::vector<BoolCursor>& cur) {
  struct Found {
    TermInfo ti;
    IndexRecordOption opt;
    search::Bm25 bm;
  };
  std::vector<Found> found;
  for (const auto& [t, boost] : terms) {
    std::string key = term_key(t->field, t->term);
    auto ti = stats.term_info(seg, key);
    if (!ti) continue;
    found.push_back(Found{*ti, seg.schema().field(t->field).options.record,
                          search::Bm25(stats.idf(key), boost, t->field, seg, stats)});
  }
  std::stable_sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.bm.weight < b.bm.weight; });
  cur.reserve(found.size());
  for (const auto& f : found) cur.emplace_back(seg, f.ti, f.opt, f.bm);
  return !cur.empty();
}

// Top-k of a union of terms over one segment, without a count, in windows of kUnionWindow docs
// (MaxScore): the terms are ordered by their bound (weight); those whose summed bounds cannot
// reach the threshold are non-essential. In each window the essential terms' postings are scored
// in bulk into an array of the window's docs; the candidates (docs of an essential term), in doc
// order, then get the non-essential terms' scores, each sought to a candidate only while its
// score plus their bounds can still enter.
static void top_k_union(const SegmentReader& seg, uint32_t seg_index, uint64_t base,
                        const std::vector<std::pair<const Query*, float>>& terms, const search::Stats& stats,
                        TopK& top) {
  std::vector<BoolCursor> cur;
  if (!open_union(seg, terms, stats, cur)) return;
  const size_t n = cur.size();
  std::vector<float> prefix(n);  // prefix[i]: sum of the bounds of cur[0..i]
  float acc_bound = 0;
  for (size_t i = 0; i < n; ++i) prefix[i] = acc_bound += cur[i].weight;
  const bool deletes = seg.has_deletes();
  constexpr uint32_t kWords = kUnionWindow / 64;
  alignas(64) float acc[kUnionWindow] = {};
  alignas(64) uint64_t ess[kWords];
  for (;;) {
    float theta = top.threshold();
    size_t first_essential = 0;
    while (first_essential < n && prefix[first_essential] < theta) ++first_essential;
    if (first_essential == n) return;  // no document can enter any more
    // the window: aligned, holding the essential terms' first doc
    uint32_t first = kTerminated;
    for (size_t i = first_essential; i < n; ++i) first = std::min(first, cur[i].p.doc());
    if (first == kTerminated) return;
    const uint32_t w0 = first / kUnionWindow * kUnionWindow;
    const uint32_t wend = w0 + kUnionWindow;  // no overflow: first <= kMaxDocId
    std::fill(ess, ess + kWords, 0);
    for (size_t i = first_essential; i < n; ++i) {
      score_window(seg, cur[i], w0, wend, [&](uint32_t o, float sc) {
        acc[o] += sc;
        ess[o >> 6] |= 1ULL << (o & 63);
      });
    }
    for (uint32_t w = 0; w < kWords; ++w) {
      uint64_t word = ess[w];
      while (word != 0) {
        const uint32_t o = w * 64 + static_cast<uint32_t>(__builtin_ctzll(word));
        word &= word - 1;
        float s = acc[o];
        acc[o] = 0;
        const uint32_t d = w0 + o;
        for (size_t i = first_essential; i-- > 0;) {
          if (s + prefix[i] < theta) break;
          SegmentPostings& p = cur[i].p;
          if (p.doc() < d) p.seek(d);
          if (p.doc() == d) s += cur[i].bm.score(d, p.term_freq());
        }
        if (s < theta || (deletes && seg.is_deleted(d))) continue;
        top.offer(Hit{s, seg_index, d, base + d});
        theta = top.threshold();
      }
    }
  }
}

// Top-k and count of a union of terms over one segment, in windows of kUnionWindow docs
// (MaxScore): the terms are ordered by their bound (weight); those whose summed bounds cannot
// reach the threshold are non-essential. In each window every posting of every term marks its
// doc (the count); the essential terms' postings are scored in bulk into an array of the window's
// docs, and the non-essential ones score only the docs an essential term has (the candidates:
// the others cannot enter). Returns the number of live docs matching any term.
static uint64_t union_count_windows(const SegmentReader& seg, uint32_t seg_index, uint64_t base,
                                    const std::vector<std::pair<const Query*, float>>& terms,
                                    const search::Stats& stats, TopK& top) {
  std::vector<BoolCursor> cur;
  if (!open_union(seg, terms, stats, cur)) return 0;
  const size_t n = cur.size();
  std::vector<float> prefix(n);  // prefix[i]: sum of the bounds of cur[0..i]
  float acc_bound = 0;
  for (size_t i = 0; i < n; ++i) prefix[i] = acc_bound += cur[i].weight;
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  const auto& del = seg.deleted_bitset();
  alignas(64) float acc[kUnionWindow] = {};         // summed scores of the candidates (> 0)
  alignas(64) uint8_t seen[kUnionWindow] = {};      // bit 0: an essential term has the doc, bit 1: another
  uint32_t list[kUnionWindow + 1];                  // the candidates' offsets (+1: written before counted)
  uint32_t pick[bitpacking::kBlockSize];
  uint64_t count = 0;
  for (;;) {
    uint32_t first = kTerminated;
    for (size_t i = 0; i < n; ++i) first = std::min(first, cur[i].p.doc());
    if (first == kTerminated) break;
    if (first >= max_doc) throw_corrupt(seg.meta().id, "a posting names a document past the segment");
    const uint32_t w0 = first / kUnionWindow * kUnionWindow;
    const uint32_t wend = w0 + kUnionWindow;  // no overflow: first < max_doc
    float theta = top.threshold();
    size_t first_essential = 0;
    while (first_essential < n && prefix[first_essential] < theta) ++first_essential;
    uint32_t nl = 0;
    for (size_t i = first_essential; i < n; ++i) {
      score_window(seg, cur[i], w0, wend, [&](uint32_t o, float sc) {
        acc[o] += sc;
        list[nl] = o;
        nl += seen[o] == 0 ? 1 : 0;  // only essential terms have marked docs so far
        seen[o] = 1;
      });
    }
    for (size_t i = 0; i < first_essential; ++i) {
      SegmentPostings& p = cur[i].p;
      while (p.doc() < wend) {
        const auto docs = p.block_docs();
        const size_t m = count_below(docs.data(), docs.size(), wend);
        if (!in_window(docs.data(), m, w0)) throw_corrupt(seg.meta().id, "a posting names a document past the segment");
        size_t np = 0;
        for (size_t j = 0; j < m; ++j) {
          const uint32_t o = docs[j] - w0;
          pick[np] = static_cast<uint32_t>(j);
          np += seen[o] & 1;
          seen[o] |= 2;
        }
        if (np > 0) {
          const auto tfs = p.block_term_freqs();
          for (size_t c = 0; c < np; ++c) {
            const uint32_t j = pick[c];
            // a candidate: an essential term scored it, so its doc is below max_doc
            acc[docs[j] - w0] += cur[i].bm.score(docs[j], tfs[j]);
          }
        }
        if (m == docs.size()) {
          p.next_block();
        } else {
          p.seek(docs[m]);
        }
      }
    }
    if (deletes) {
      for (uint32_t o = 0; o < kUnionWindow && w0 + o < max_doc; ++o) {
        const uint32_t d = w0 + o;
        if ((del[d >> 3] >> (d & 7)) & 1) seen[o] = 0;
      }
    }
    count += count_nonzero(seen, kUnionWindow);
    std::fill(seen, seen + kUnionWindow, 0);
    for (uint32_t c = 0; c < nl; ++c) {
      const uint32_t o = list[c];
      const float s = acc[o];
      acc[o] = 0;
      const uint32_t d = w0 + o;
      if (s < theta || (deletes && seg.is_deleted(d))) continue;
      top.offer(Hit{s, seg_index, d, base + d});
      theta = top.threshold();
    }
  }
  return count;
}

// For one must term (cur[0]) and should ones (cur[1..n), largest weight first): rest[i], the
// weights of cur[i..n) added up (rest[n] == 0), which bound what the should terms from i on add.
static std::vector<float> should_bounds(const std::vector<BoolCursor>& cur) {
  std::vector<float> rest(cur.size() + 1, 0.0f);
  for (size_t i = cur.size(); i-- > 1;) rest[i] = rest[i + 1] + cur[i].weight;
  return rest;
}

// s plus the scores at d of the should terms cur[1..n), each sought to d only while s plus the
// bound of those not added yet can still reach theta.
[[gnu::always_inline]] inline float add_should(std::vector<BoolCursor>& cur, const std::vector<float>& rest,
                                                uint32_t d, float s, float theta) {
  for (size_t i = 1; i < cur.size(); ++i) {
    if (s + rest[i] < theta) break;
    SegmentPostings& q = cur[i].p;
    if (q.doc() < d) q.seek(d);
    if (q.doc() == d) s += cur[i].bm.score(d, q.term_freq());
  }
  return s;
}

// Top k of one must term and should ones ("+a b c", no must-not term) over one segment, a window
// of docs at a time: the must term's docs of the window are scored in bulk into an array, block
// by block without seeking; then, in doc order, each of them gets the should terms' scores
// (largest weight first), each sought to it only while the score plus the weights of the should
// terms not yet added can still enter the top k.
static void top_k_required_windows(const SegmentReader& seg, uint32_t seg_index, uint64_t base, const TermBool& tb,
                                   const search::Stats& stats, TopK& top) {
  std::vector<BoolCursor> cur;
  std::vector<ExclCursor> excl;
  size_t num_must = 0;
  if (!open_bool(seg, tb, stats, cur, num_must, excl)) return;
  const std::vector<float> rest = should_bounds(cur);
  // Smaller windows let the threshold follow the top k more closely, larger ones cost less per
  // window; a large k raises its threshold slowly anyway.
  constexpr uint32_t kMaxWindow = 4096;
  const uint32_t window = top.k() >= 256 ? kMaxWindow : kUnionWindow;
  const uint32_t words = window / 64;
  alignas(64) float acc[kMaxWindow];
  alignas(64) uint64_t ess[kMaxWindow / 64] = {};
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  BoolCursor& req = cur[0];
  SegmentPostings& p = req.p;
  for (;;) {
    float theta = top.threshold();
    if (req.weight + rest[1] < theta) return;  // no document can enter any more
    const uint32_t first = p.doc();
    if (first == kTerminated) return;
    if (first >= max_doc) throw_corrupt(seg.meta().id, "a posting names a document past the segment");
    const uint32_t w0 = first & ~63u;
    const uint32_t wend = w0 + window;  // no overflow: first < max_doc
    score_window(seg, req, w0, wend, [&](uint32_t o, float sc) {
      acc[o] = sc;
      ess[o >> 6] |= 1ULL << (o & 63);
    });
    for (uint32_t w = 0; w < words; ++w) {
      for (uint64_t bits = ess[w]; bits != 0; bits &= bits - 1) {
        const uint32_t o = w * 64 + static_cast<uint32_t>(__builtin_ctzll(bits));
        const uint32_t d = w0 + o;
        const float s = add_should(cur, rest, d, acc[o], theta);
        if (s < theta || (deletes && seg.is_deleted(d))) continue;
        top.offer(Hit{s, seg_index, d, base + d});
        theta = top.threshold();
      }
      ess[w] = 0;
    }
  }
}

// One must term with must-not ones ("+a -b -c", should terms too) over one segment: the must
// term's docs in order, each one looked up in the must-not terms only if it is counted or may
// enter the top k; without a count, blocks whose impacts (plus the should terms' weights) cannot
// reach the top k are passed over. Returns the live matches when `want_count`.
static uint64_t required_excluding(const SegmentReader& seg, uint32_t seg_index, uint64_t base, const TermBool& tb,
                                   const search::Stats& stats, TopK& top, bool want_count) {
  std::vector<BoolCursor> cur;
  std::vector<ExclCursor> excl;
  size_t num_must = 0;
  if (!open_bool(seg, tb, stats, cur, num_must, excl)) return 0;
  const std::vector<float> rest = should_bounds(cur);
  const float should_weight = rest[1];
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  const bool collect = top.k() > 0;
  uint64_t count = 0;
  BoolCursor& req = cur[0];
  SegmentPostings& p = req.p;
  while (p.doc() != kTerminated) {
    float theta = top.threshold();
    if (!want_count) {
      if (!collect || req.weight + should_weight < theta) break;
      p.shallow_seek(p.doc());
      if (search::block_upper_bound(req.bm, p.block_impacts()) + should_weight < theta) {
        p.next_block();
        continue;
      }
    }
    const auto docs = p.block_docs();
    const auto tfs = p.block_term_freqs();
    if (docs.back() >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(docs.back()));
    for (size_t j = 0; j < docs.size(); ++j) {
      const uint32_t d = docs[j];
      if (deletes && seg.is_deleted(d)) continue;
      float s = 0;
      if (!want_count) {
        s = req.bm.score(d, tfs[j]);
        if (s + should_weight < theta) continue;
      }
      if (excluded(excl, d)) continue;
      ++count;
      if (!collect) continue;
      if (want_count) {
        s = req.bm.score(d, tfs[j]);
        if (s + should_weight < theta) continue;
      }
      s = add_should(cur, rest, d, s, theta);
      if (s < theta) continue;
      top.offer(Hit{s, seg_index, d, base + d});
      theta = top.threshold();
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

// Set bits of w[0..n). With the CPU's popcnt instruction when it has one (the baseline x86-64
// build would call a library routine per word).
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("popcnt"))) static uint64_t popcount_words_hw(const uint64_t* w, size_t n) {
  uint64_t c = 0;
  for (size_t i = 0; i < n; ++i) c += static_cast<uint64_t>(__builtin_popcountll(w[i]));
  return c;
}
#endif
static uint64_t popcount_words(const uint64_t* w, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool hw = __builtin_cpu_supports("popcnt");
  if (hw) return popcount_words_hw(w, n);
#endif
  uint64_t c = 0;
  for (size_t i = 0; i < n; ++i) c += static_cast<uint64_t>(__builtin_popcountll(w[i]));
  return c;
}

// Number of set bits of documents that are not deleted (the deleted ones are cleared in `bits`).
static uint64_t count_alive(const SegmentReader& seg, std::vector<uint64_t>& bits) {
  const auto& del = seg.deleted_bitset();
  if (!del.empty()) {
    for (size_t w = 0; w < bits.size(); ++w) {
      uint64_t dead = 0;
      for (size_t b = 0; b < 8 && w * 8 + b < del.size(); ++b) dead |= static_cast<uint64_t>(del[w * 8 + b]) << (8 * b);
      bits[w] &= ~dead;
    }
  }
  return popcount_words(bits.data(), bits.size());
}

// The lead of a conjunction, one decoded block: its BM25 scores (into `scores`, the same
// arithmetic as Bm25::score) and the indexes (into `cand`, ascending) of the docs whose score
// plus `rest` is not below `theta`; returns their number, or kCorrupt if a doc id is not below
// max_doc (no norm is read for it).
constexpr size_t kCorrupt = SIZE_MAX;
static size_t lead_block_candidates(const search::Bm25& bm, std::span<const uint32_t> docs,
                                    std::span<const uint32_t> tfs, uint32_t max_doc, float rest, float theta,
                                    float* ks, float* scores, uint32_t* cand) {
  const size_t m = docs.size();
  const uint32_t* dp = docs.data();
  if (!score_span(bm, dp, tfs.data(), m, max_doc, ks, scores)) return kCorrupt;
  size_t nc = 0;
#if defined(__SSE2__)
  const __m128 r = _mm_set1_ps(rest), th = _mm_set1_ps(theta);
  size_t j = 0;
  for (; j + 4 <= m; j += 4) {
    // keep unless score + rest < theta (as the scalar test, NaN kept)
    unsigned mask = static_cast<unsigned>(_mm_movemask_ps(_mm_cmpnlt_ps(_mm_add_ps(_mm_loadu_ps(scores + j), r), th)));
    while (mask != 0) {
      cand[nc++] = static_cast<uint32_t>(j) + static_cast<uint32_t>(__builtin_ctz(mask));
      mask &= mask - 1;
    }
  }
  for (; j < m; ++j) {
    cand[nc] = static_cast<uint32_t>(j);
    nc += scores[j] + rest < theta ? 0 : 1;
  }
#else
  for (size_t j = 0; j < m; ++j) {
    cand[nc] = static_cast<uint32_t>(j);
    nc += scores[j] + rest < theta ? 0 : 1;
  }
#endif
  return nc;
}

// Top-k of a TermBool over one segment, without a count. The rarest must term leads, block by
// block; the other must terms and the should terms are scored by seeking them to the lead's
// candidates, the must-not terms sought last, only for docs that would enter. A lead block whose
// bound (its impacts, plus for every other term the largest bound of its blocks overlapping the
// lead block's doc range) cannot enter the top k is passed over undecoded; inside a block, a lead
// doc whose own score plus the others' bounds cannot enter is dropped before any other term is
// sought to it, and the others are sought one by one only while the exact partial score plus the
// bounds of the rest can still enter.
static void top_k_bool(const SegmentReader& seg, uint32_t seg_index, uint64_t base, const TermBool& tb,
                       const search::Stats& stats, TopK& top) {
  std::vector<BoolCursor> cur;
  std::vector<ExclCursor> excl;
  size_t num_must = 0;
  if (!open_bool(seg, tb, stats, cur, num_must, excl)) return;
  const size_t n = cur.size();
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  constexpr float kNoBound = -std::numeric_limits<float>::infinity();
  constexpr uint64_t kMaxWindowBlocks = 4;
  // rest[i]: bound of the terms after i over the window (rest[n - 1] == 0)
  std::vector<float> rest(n, 0);
  float others_weight = 0;
  for (size_t i = 1; i < n; ++i) others_weight += cur[i].weight;
  // The bound of a term over the docs [a, b]; kNoBound when it has none there.
  auto window_bound = [&](BoolCursor& c, uint32_t a, uint32_t b) -> float {
    SegmentPostings& p = c.p;
    // Every doc of the term at or after a is at or after p.doc() (its cursor was last sought to
    // a target below a), and the block cursor's block holds its first doc >= the target.
    if (p.doc() > b) return kNoBound;
    uint32_t from = std::max(a, p.doc());
    // Bounding each of many blocks costs more than the tighter bound saves: past a few blocks
    // (estimated from the term's density), the term's weight.
    const uint64_t span = static_cast<uint64_t>(std::min(b, max_doc) - std::min(from, max_doc)) + 1;
    if (span * c.p.doc_freq() > kMaxWindowBlocks * 128 * static_cast<uint64_t>(max_doc)) return c.weight;
    float best = 0;
    for (;;) {
      p.shallow_seek(from);
      const uint32_t last = p.block_last_doc();
      float ub;
      if (last == c.cached_last) {
        ub = c.cached_bound;
      } else {
        ub = search::block_upper_bound(c.bm, p.block_impacts());
        c.cached_last = last;
        c.cached_bound = ub;
      }
      best = std::max(best, ub);
      if (last >= b) return best;
      from = last + 1;
    }
  };
  SegmentPostings& lead = cur[0].p;
  const search::Bm25& lead_bm = cur[0].bm;
  alignas(64) float ks[bitpacking::kBlockSize];
  alignas(64) float scores[bitpacking::kBlockSize];
  uint32_t cand[bitpacking::kBlockSize];
  uint32_t target = lead.doc();
  while (target != kTerminated) {
    lead.shallow_seek(target);
    const uint32_t last = lead.block_last_doc();
    float theta = top.threshold();
    if (theta != kNoBound) {
      const float lub = search::block_upper_bound(lead_bm, lead.block_impacts());
      bool skip = lub + others_weight < theta;
      if (!skip) {
        float acc = 0;
        for (size_t i = n; i-- > 1;) {
          rest[i] = acc;
          float wb;
          if (cur[i].p.doc() > last) {
            wb = kNoBound;
          } else {
            wb = window_bound(cur[i], target, last);
          }
          if (wb == kNoBound) {
            if (i < num_must) {  // a must term without docs here: nothing matches
              skip = true;
              break;
            }
            wb = 0;
          }
          acc += wb;
        }
        rest[0] = acc;
        skip = skip || lub + acc < theta;
      }
      if (skip) {
        if (last == kTerminated) return;
        target = last + 1;
        continue;
      }
    } else {
      for (size_t i = 0; i < n; ++i) rest[i] = std::numeric_limits<float>::infinity();
    }
    if (lead.seek(target) == kTerminated) return;
    const auto docs = lead.block_docs();
    const auto tfs = lead.block_term_freqs();
    const float rest0 = rest[0];
    const size_t nc = lead_block_candidates(lead_bm, docs, tfs, max_doc, rest0, theta, ks, scores, cand);
    if (nc == kCorrupt) throw_corrupt(seg.meta().id, "a posting names a document past the segment");
    uint32_t need = 0;  // no doc below this can match (some other must term's next doc)
    for (size_t c = 0; c < nc; ++c) {
      const uint32_t j = cand[c];
      const uint32_t d = docs[j];
      if (d < need) continue;
      float s = scores[j];
      if (s + rest0 < theta) continue;
      size_t i = 1;
      for (; i < num_must; ++i) {
        SegmentPostings& p = cur[i].p;
        const uint32_t di = p.seek(d);
        if (di != d) {
          if (di == kTerminated) return;
          need = di;
          break;
        }
        s += cur[i].bm.score(d, p.term_freq());
        if (s + rest[i] < theta) break;
      }
      if (i < num_must) continue;
      for (; i < n; ++i) {
        SegmentPostings& p = cur[i].p;
        if (p.doc() < d) p.seek(d);
        if (p.doc() == d) s += cur[i].bm.score(d, p.term_freq());
        if (s + rest[i] < theta) break;
      }
      if (i < n) continue;
      if (excluded(excl, d) || (deletes && seg.is_deleted(d))) continue;
      top.offer(Hit{s, seg_index, d, base + d});
      theta = top.threshold();
    }
    if (last == kTerminated) return;
    target = std::max(last + 1, need);
  }
}

// A TermBool over one segment: counts its live matches (returned) and, with `top`, offers them
// scored (should terms are sought only for docs whose must score plus the should terms' weights
// can enter). The must terms lead with the rarest.
static uint64_t bool_terms(const SegmentReader& seg, uint32_t seg_index, uint64_t base, const TermBool& tb,
                           const search::Stats& stats, TopK* top, bool want_count) {
  std::vector<BoolCursor> cur;
  std::vector<ExclCursor> excl;
  size_t num_must = 0;
  if (!open_bool(seg, tb, stats, cur, num_must, excl)) return 0;
  if (want_count && top == nullptr) {
    // Dense lists: AND-ing bitsets of the must terms and masking out the must-not ones (decode
    // every block, no seeks) is cheaper than seeking every other term to each doc of the lead
    // (estimated instruction costs). With a top k as well, one pass that counts and scores is
    // cheaper than the two.
    const uint64_t words = (seg.max_doc() + 63) / 64;
    uint64_t total_df = 0;
    for (size_t i = 0; i < num_must; ++i) total_df += cur[i].p.doc_freq();
    for (const auto& e : excl) total_df += e.p.doc_freq();
    const uint64_t lists = num_must + excl.size();
    const uint64_t leapfrog = 40 * static_cast<uint64_t>(cur[0].p.doc_freq()) * lists;
    const uint64_t bitset = 4 * total_df + 3 * words * lists;
    if (bitset < leapfrog) {
      std::vector<uint64_t> bits(words, 0), tmp(words);
      or_postings(seg, cur[0].p, bits);
      for (size_t i = 1; i < num_must; ++i) {
        std::fill(tmp.begin(), tmp.end(), 0);
        or_postings(seg, cur[i].p, tmp);
        for (uint64_t w = 0; w < words; ++w) bits[w] &= tmp[w];
      }
      if (!excl.empty()) {
        std::fill(tmp.begin(), tmp.end(), 0);
        for (auto& e : excl) or_postings(seg, e.p, tmp);
        for (uint64_t w = 0; w < words; ++w) bits[w] &= ~tmp[w];
      }
      return count_alive(seg, bits);
    }
  }
  const size_t n = cur.size();
  float should_weight = 0;
  for (size_t i = num_must; i < n; ++i) should_weight += cur[i].weight;
  const uint32_t max_doc = seg.max_doc();
  const bool deletes = seg.has_deletes();
  SegmentPostings& lead = cur[0].p;
  float theta = top != nullptr ? top->threshold() : 0;
  uint64_t count = 0;
  uint32_t d = lead.doc();
  while (d != kTerminated) {
    uint32_t di = d;
    size_t i = 1;
    for (; i < num_must; ++i) {
      SegmentPostings& p = cur[i].p;
      di = p.doc() < d ? p.seek(d) : p.doc();
      if (di != d) break;
    }
    if (i < num_must) {
      if (di == kTerminated) break;
      d = lead.seek(di);
      continue;
    }
    if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d));
    if (!excluded(excl, d) && !(deletes && seg.is_deleted(d))) {
      ++count;
      if (top != nullptr) {
        float score = 0;
        for (size_t j = 0; j < num_must; ++j) score += cur[j].bm.score(d, cur[j].p.term_freq());
        if (score + should_weight >= theta) {
          for (size_t j = num_must; j < n; ++j) {
            SegmentPostings& p = cur[j].p;
            if (p.doc() < d) p.seek(d);
            if (p.doc() == d) score += cur[j].bm.score(d, p.term_freq());
          }
          if (score >= theta) {
            top->offer(Hit{score, seg_index, d, base + d});
            theta = top->threshold();
          }
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
  const uint64_t total_docs = bm25_tables_->total_docs;
  if (each == nullptr) {
    if (auto tb = term_boolean(q)) {
      if (k == 0 && !want_count) return result;
      // One must term: its docs in order, the other terms looked up for them ("+a -b -c", with or
      // without should terms), or a window at a time ("+a b c", top k). Else the rarest must term
      // leads (block-max top k, or a count that scores every match for a top k with a count).
      if (tb->must.size() == 1 && !tb->must_not.empty()) {
        TopK top(k, /*buffered=*/false, bases_, total_docs);
        for (size_t s = 0; s < segments_.size(); ++s) {
          result.count += required_excluding(*segments_[s], static_cast<uint32_t>(s), bases_[s], *tb, stats, top,
                                             want_count);
        }
        if (!want_count) result.count = 0;
        result.hits = top.take();
        return result;
      }
      if (tb->must.size() == 1 && !tb->should.empty() && k > 0) {
        // The count (without the should terms) is the must term's: count() does not come here.
        if (want_count) result.count = count(q);
        TopK top(k, /*buffered=*/false, bases_, total_docs);
        for (size_t s = 0; s < segments_.size(); ++s) {
          top_k_required_windows(*segments_[s], static_cast<uint32_t>(s), bases_[s], *tb, stats, top);
        }
        result.hits = top.take();
        return result;
      }
      TopK top(k, /*buffered=*/want_count, bases_, total_docs);
      for (size_t s = 0; s < segments_.size(); ++s) {
        if (k > 0 && !want_count) {
          top_k_bool(*segments_[s], static_cast<uint32_t>(s), bases_[s], *tb, stats, top);
        } else {
          result.count += bool_terms(*segments_[s], static_cast<uint32_t>(s), bases_[s], *tb, stats,
                                     k > 0 ? &top : nullptr, want_count);
        }
      }
      if (!want_count) result.count = 0;
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
      TopK top(k, /*buffered=*/want_count && term == nullptr, bases_, total_docs);
      for (size_t s = 0; s < segments_.size(); ++s) {
        if (term != nullptr) {
          top_k_term(*segments_[s], static_cast<uint32_t>(s), bases_[s], *term, boost, stats, top);
        } else {
          if (want_count) {
            result.count += union_count_windows(*segments_[s], static_cast<uint32_t>(s), bases_[s], terms, stats, top);
          } else {
            top_k_union(*segments_[s], static_cast<uint32_t>(s), bases_[s], terms, stats, top);
          }
        }
      }
      result.hits = top.take();
      return result;
    }
  }
  // Any other query, document at a time. The collector is made for the first segment's scorer:
  // a heap when the scorer bounds its scores (the threshold lets it skip documents), else
  // buffered (every match is scored anyway).
  std::optional<TopK> top;
  for (size_t s = 0; s < segments_.size(); ++s) {
    const SegmentReader& seg = *segments_[s];
    auto scorer = search::build_scorer(q, seg, stats, 1.0f);
    const bool deletes = seg.has_deletes();
    const uint32_t max_doc = seg.max_doc();
    const bool bounded = scorer->bounded();
    if (!top) top.emplace(k, !bounded, bases_, total_docs);
    const bool score_all = each != nullptr || (k > 0 && !bounded);
    for (uint32_t d = scorer->doc(); d != kTerminated; d = scorer->advance()) {
      // Scores read per-document arrays; a doc id past the segment can only come from damage.
      if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d) + " of " + std::to_string(max_doc));
      if (deletes && seg.is_deleted(d)) continue;
      // A full top k needs no document whose best possible score is below its worst; it is not
      // even confirmed unless counted.
      const bool competitive = score_all || (k > 0 && !(scorer->max_score() < top->threshold()));
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
      top->offer(h);
    }
  }
  if (top) result.hits = top->take();
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
