#include <algorithm>
#include <limits>

#include "needle/codec/fieldnorm.h"
#include "needle/schema/value.h"
#include "scorer.h"

namespace needle::search {

// ---- statistics -------------------------------------------------------------------------------

Bm25Tables::Bm25Tables(const std::vector<std::shared_ptr<SegmentReader>>& segments, const Schema& schema,
                       Bm25Params params)
    : avg_norm(schema.num_fields(), 1.0f), k(schema.num_fields()) {
  std::vector<uint64_t> totals(schema.num_fields(), 0);
  for (const auto& s : segments) {
    total_docs += s->max_doc();
    for (uint16_t f = 0; f < schema.num_fields(); ++f) totals[f] += s->field_stats(f).total_norm;
  }
  float lengths[256];
  for (int i = 0; i < 256; ++i) lengths[i] = static_cast<float>(id_to_fieldnorm(static_cast<uint8_t>(i)));
  for (uint16_t f = 0; f < schema.num_fields(); ++f) {
    if (total_docs > 0 && totals[f] > 0) avg_norm[f] = static_cast<float>(static_cast<double>(totals[f]) / total_docs);
    const float avg = avg_norm[f];
    for (int i = 0; i < 256; ++i) k[f][i] = params.k1 * (1.0f - params.b + params.b * lengths[i] / avg);
  }
}

Stats::Stats(const std::vector<std::shared_ptr<SegmentReader>>& segments, const Schema& schema, Bm25Params params,
             const Bm25Tables* tables)
    : segments_(segments), params_(params) {
  if (tables == nullptr) tables = &own_tables_.emplace(segments, schema, params);
  tables_ = tables;
}

uint64_t Stats::doc_freq(const std::string& key) const {
  for (const auto& e : df_) {
    if (e.key == key) return e.df;
  }
  uint64_t df = 0;
  for (const auto& s : segments_) {
    if (auto ti = term_info(*s, key)) df += ti->doc_freq;
  }
  df_.push_back(DfEntry{key, df});
  return df;
}

std::optional<TermInfo> Stats::term_info(const SegmentReader& seg, const std::string& key) const {
  for (const auto& e : ti_) {
    if (e.seg == &seg && e.key == key) return e.ti;
  }
  auto ti = seg.term_info(key);
  ti_.push_back(TiEntry{&seg, key, ti});
  return ti;
}

float Stats::idf(const std::string& key) const {
  double n = static_cast<double>(tables_->total_docs);
  double df = static_cast<double>(doc_freq(key));
  return static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
}

Bm25::Bm25(float idf, float boost, uint16_t field, const SegmentReader& seg, const Stats& stats) {
  const auto& p = stats.params();
  weight = boost * idf * (p.k1 + 1.0f);
  k_no_norm = p.k1;
  const auto& n = seg.norms(field);
  if (!n.empty()) {
    norms = n.data();
    cache = stats.k_table(field).data();
  }
}

namespace {

// ---- leaves -----------------------------------------------------------------------------------

class EmptyScorer final : public Scorer {
 public:
  uint32_t doc() const override { return kTerminated; }
  uint32_t advance() override { return kTerminated; }
  uint32_t seek(uint32_t) override { return kTerminated; }
  float score() override { return 0; }
  uint64_t cost() const override { return 0; }
};

class AllScorer final : public Scorer {
 public:
  AllScorer(uint32_t max_doc, float score) : max_doc_(max_doc), score_(score), doc_(max_doc ? 0 : kTerminated) {}
  uint32_t doc() const override { return doc_; }
  uint32_t advance() override { return doc_ = (doc_ + 1 < max_doc_) ? doc_ + 1 : kTerminated; }
  uint32_t seek(uint32_t t) override {
    if (doc_ == kTerminated || t <= doc_) return doc_;
    return doc_ = t < max_doc_ ? t : kTerminated;
  }
  float score() override { return score_; }
  uint64_t cost() const override { return max_doc_; }

 private:
  uint32_t max_doc_;
  float score_;
  uint32_t doc_;
};

class BitSetScorer final : public Scorer {
 public:
  BitSetScorer(std::vector<uint64_t> bits, uint32_t max_doc, float score)
      : bits_(std::move(bits)), max_doc_(max_doc), score_(score) {
    cost_ = 0;
    for (auto w : bits_) cost_ += static_cast<uint64_t>(__builtin_popcountll(w));
    doc_ = next_from(0);
  }
  uint32_t doc() const override { return doc_; }
  uint32_t advance() override { return doc_ = next_from(doc_ + 1); }
  uint32_t seek(uint32_t t) override {
    if (doc_ == kTerminated || t <= doc_) return doc_;
    return doc_ = next_from(t);
  }
  float score() override { return score_; }
  uint64_t cost() const override { return cost_; }

 private:
  uint32_t next_from(uint32_t d) const {
    if (d >= max_doc_) return kTerminated;
    size_t w = d >> 6;
    uint64_t word = bits_[w] & (~0ULL << (d & 63));
    while (word == 0) {
      if (++w >= bits_.size()) return kTerminated;
      word = bits_[w];
    }
    uint32_t r = static_cast<uint32_t>(w * 64 + static_cast<size_t>(__builtin_ctzll(word)));
    return r < max_doc_ ? r : kTerminated;
  }
  std::vector<uint64_t> bits_;
  uint32_t max_doc_;
  float score_;
  uint64_t cost_;
  uint32_t doc_;
};

class TermScorer final : public Scorer {
 public:
  TermScorer(SegmentPostings p, Bm25 bm25) : p_(std::move(p)), bm25_(bm25) {}
  uint32_t doc() const override { return p_.doc(); }
  uint32_t advance() override { return p_.advance(); }
  uint32_t seek(uint32_t t) override { return t <= p_.doc() ? p_.doc() : p_.seek(t); }
  float score() override { return bm25_.score(p_.doc(), p_.term_freq()); }
  uint64_t cost() const override { return p_.doc_freq(); }

 private:
  SegmentPostings p_;
  Bm25 bm25_;
};

class ConstPostingsScorer final : public Scorer {
 public:
  ConstPostingsScorer(SegmentPostings p, float score) : p_(std::move(p)), score_(score) {}
  uint32_t doc() const override { return p_.doc(); }
  uint32_t advance() override { return p_.advance(); }
  uint32_t seek(uint32_t t) override { return t <= p_.doc() ? p_.doc() : p_.seek(t); }
  float score() override { return score_; }
  uint64_t cost() const override { return p_.doc_freq(); }

 private:
  SegmentPostings p_;
  float score_;
};

// ---- boolean ----------------------------------------------------------------------------------

class ConjunctionScorer final : public Scorer {
 public:
  explicit ConjunctionScorer(std::vector<ScorerPtr> children) : c_(std::move(children)) {
    std::sort(c_.begin(), c_.end(), [](const ScorerPtr& a, const ScorerPtr& b) { return a->cost() < b->cost(); });
    doc_ = align(c_[0]->doc());
  }
  uint32_t doc() const override { return doc_; }
  uint32_t advance() override { return doc_ = align(c_[0]->advance()); }
  uint32_t seek(uint32_t t) override {
    if (doc_ == kTerminated || t <= doc_) return doc_;
    return doc_ = align(c_[0]->seek(t));
  }
  bool exact() const override {
    for (const auto& c : c_) {
      if (!c->exact()) return false;
    }
    return true;
  }
  // Confirms the children (cheapest first) only once all of them sit on the document.
  bool matches() override {
    for (auto& c : c_) {
      if (!c->matches()) return false;
    }
    return true;
  }
  float score() override {
    float s = 0;
    for (auto& c : c_) s += c->score();
    return s;
  }
  uint64_t cost() const override { return c_[0]->cost(); }

 private:
  // The first doc >= target (target is c_[0]'s current doc) on which every child agrees.
  uint32_t align(uint32_t target) {
    for (;;) {
      if (target == kTerminated) return target;
      bool agreed = true;
      for (size_t i = 1; i < c_.size(); ++i) {
        uint32_t d = c_[i]->seek(target);
        if (d != target) {
          target = c_[0]->seek(d);
          agreed = false;
          break;
        }
      }
      if (agreed) return target;
    }
  }
  std::vector<ScorerPtr> c_;
  uint32_t doc_;
};

class DisjunctionScorer final : public Scorer {
 public:
  explicit DisjunctionScorer(std::vector<ScorerPtr> children) : c_(std::move(children)), matched_(c_.size(), 0) {
    cost_ = 0;
    for (auto& c : c_) cost_ += c->cost();
    doc_ = min_doc();
  }
  uint32_t doc() const override { return doc_; }
  uint32_t advance() override {
    for (auto& c : c_) {
      if (c->doc() == doc_) c->advance();
    }
    return doc_ = min_doc();
  }
  uint32_t seek(uint32_t t) override {
    if (doc_ == kTerminated || t <= doc_) return doc_;
    for (auto& c : c_) {
      if (c->doc() < t) c->seek(t);
    }
    return doc_ = min_doc();
  }
  bool matches() override {
    bool any = false;
    for (size_t i = 0; i < c_.size(); ++i) {
      matched_[i] = c_[i]->doc() == doc_ && c_[i]->matches();
      any |= matched_[i] != 0;
    }
    return any;
  }
  bool exact() const override {
    for (const auto& c : c_) {
      if (!c->exact()) return false;
    }
    return true;
  }
  // Valid after matches() returned true for this document.
  float score() override {
    float s = 0;
    for (size_t i = 0; i < c_.size(); ++i) {
      if (matched_[i]) s += c_[i]->score();
    }
    return s;
  }
  uint64_t cost() const override { return cost_; }

 private:
  uint32_t min_doc() const {
    uint32_t m = kTerminated;
    for (const auto& c : c_) m = std::min(m, c->doc());
    return m;
  }
  std::vector<ScorerPtr> c_;
  std::vector<uint8_t> matched_;
  uint64_t cost_;
  uint32_t doc_;
};

class ReqOptScorer final : public Scorer {
 public:
  ReqOptScorer(ScorerPtr req, ScorerPtr opt) : req_(std::move(req)), opt_(std::move(opt)) {}
  uint32_t doc() const override { return req_->doc(); }
  uint32_t advance() override { return req_->advance(); }
  uint32_t seek(uint32_t t) override { return req_->seek(t); }
  bool matches() override { return req_->matches(); }
  bool exact() const override { return req_->exact(); }
  float score() override {
    float s = req_->score();
    uint32_t d = req_->doc();
    if (opt_->doc() < d) opt_->seek(d);
    if (opt_->doc() == d && opt_->matches()) s += opt_->score();
    return s;
  }
  uint64_t cost() const override { return req_->cost(); }

 private:
  ScorerPtr req_, opt_;
};

class ExclusionScorer final : public Scorer {
 public:
  ExclusionScorer(ScorerPtr main, ScorerPtr excl, bool excl_is_exact)
      : main_(std::move(main)), excl_(std::move(excl)), excl_is_exact_(excl_is_exact) {
    skip();
  }
  uint32_t doc() const override { return main_->doc(); }
  uint32_t advance() override {
    main_->advance();
    return skip();
  }
  uint32_t seek(uint32_t t) override {
    main_->seek(t);
    return skip();
  }
  bool exact() const override { return main_->exact() && excl_is_exact_; }
  bool matches() override {
    if (!main_->matches()) return false;
    uint32_t d = main_->doc();
    if (excl_->doc() < d) excl_->seek(d);
    return !(excl_->doc() == d && excl_->matches());
  }
  float score() override { return main_->score(); }
  uint64_t cost() const override { return main_->cost(); }

 private:
  // Skips documents the exclusion's approximation is sure about (it needs no confirmation).
  uint32_t skip() {
    uint32_t d = main_->doc();
    while (d != kTerminated) {
      if (excl_->doc() < d) excl_->seek(d);
      if (excl_->doc() != d || !excl_is_exact_) break;
      d = main_->advance();
    }
    return d;
  }
  ScorerPtr main_, excl_;
  bool excl_is_exact_;
};

// ---- phrases ----------------------------------------------------------------------------------

// The postings at one phrase position: one term, or (phrase prefix) every expansion of a prefix.
class Slot {
 public:
  uint32_t offset = 0;
  // A term seen at an earlier slot of the phrase is read through that slot (its index here):
  // one cursor per distinct term.
  int alias = -1;
  std::vector<SegmentPostings> postings;
  uint32_t doc() const {
    uint32_t m = kTerminated;
    for (const auto& p : postings) m = std::min(m, p.doc());
    return m;
  }
  uint32_t seek(uint32_t t) {
    for (auto& p : postings) {
      if (p.doc() < t) p.seek(t);
    }
    return doc();
  }
  // Occurrences at document d (no decoding).
  uint32_t freq(uint32_t d) const {
    uint32_t f = 0;
    for (const auto& p : postings) f += p.doc() == d ? p.term_freq() : 0;
    return f;
  }
  void positions(uint32_t d, std::vector<uint32_t>& out, std::vector<uint32_t>& tmp) const {
    if (postings.size() == 1) {  // the common case: decode straight into `out`
      postings[0].positions(out);
      return;
    }
    out.clear();
    for (const auto& p : postings) {
      if (p.doc() != d) continue;
      p.positions(tmp);
      out.insert(out.end(), tmp.begin(), tmp.end());
    }
    if (postings.size() > 1) std::sort(out.begin(), out.end());
  }
  // The same into out[0..freq(d)); returns freq(d).
  uint32_t positions(uint32_t d, uint32_t* out, std::vector<uint32_t>& tmp) const {
    if (postings.size() == 1) return postings[0].positions(out);
    positions(d, tmp, tmp2_);
    std::copy(tmp.begin(), tmp.end(), out);
    return static_cast<uint32_t>(tmp.size());
  }
  uint64_t cost() const {
    uint64_t c = 0;
    for (const auto& p : postings) c += p.doc_freq();
    return c;
  }

 private:
  mutable std::vector<uint32_t> tmp2_;
};

// A growable buffer of positions: its first n entries are in use.
struct PosBuf {
  std::vector<uint32_t> v;
  uint32_t n = 0;
  // Room for at least k entries (contents are kept only up to the old size).
  uint32_t* reserve(size_t k) {
    if (v.size() < k) v.resize(std::max(k, 2 * v.size()));
    return v.data();
  }
};

class PhraseScorer final : public Scorer {
 public:
  PhraseScorer(std::vector<Slot> slots, uint32_t slop, Bm25 bm25)
      : slots_(std::move(slots)), slop_(slop), bm25_(bm25), pos_(slots_.size()) {
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].alias < 0) order_.push_back(i);
    }
    std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) { return slots_[a].cost() < slots_[b].cost(); });
    doc_ = align(slots_[order_[0]].doc());
  }
  uint32_t doc() const override { return doc_; }
  uint32_t advance() override {
    if (doc_ == kTerminated) return doc_;
    return doc_ = align(slots_[order_[0]].seek(doc_ + 1));
  }
  uint32_t seek(uint32_t t) override {
    if (doc_ == kTerminated || t <= doc_) return doc_;
    return doc_ = align(slots_[order_[0]].seek(t));
  }
  bool exact() const override { return false; }
  // Reads positions only here, for documents that every other clause has already accepted.
  bool matches() override {
    if (checked_ != doc_) {
      checked_ = doc_;
      freq_ = phrase_freq(doc_);
    }
    return freq_ > 0;
  }
  float score() override { return bm25_.score(doc_, freq_); }
  uint64_t cost() const override { return slots_[order_[0]].cost(); }

 private:
  // The slot whose postings serve slot i.
  const Slot& src(size_t i) const { return slots_[i].alias >= 0 ? slots_[static_cast<size_t>(slots_[i].alias)] : slots_[i]; }

  // The first doc >= target holding every term (the approximation).
  uint32_t align(uint32_t target) {
    while (target != kTerminated) {
      bool aligned = true;
      for (size_t k = 1; k < order_.size(); ++k) {
        uint32_t d = slots_[order_[k]].seek(target);
        if (d != target) {
          target = slots_[order_[0]].seek(d);
          aligned = false;
          break;
        }
      }
      if (aligned) return target;
    }
    return kTerminated;
  }

  // Sloppy phrase (as Lucene and Tantivy): with r = position - offset for each term, a start
  // position p of the first term matches when one r per term fits, together with p's own, in a
  // window of width <= slop. Words may appear out of order: moving a word past its neighbour
  // costs 2. The frequency is the number of first-term positions that match.
  uint32_t phrase_freq(uint32_t d) {
    if (slop_ == 0) return exact_phrase_freq(d);
    const uint32_t base = slots_[0].offset;
    for (size_t i = 0; i < slots_.size(); ++i) {
      src(i).positions(d, pos_[i], tmp_);
      auto& v = pos_[i];
      const uint32_t off = slots_[i].offset - base;
      size_t w = 0;
      for (uint32_t p : v) {
        if (p < off) continue;
        uint32_t r = p - off;
        if (w == 0 || v[w - 1] != r) v[w++] = r;
      }
      v.resize(w);
    }
    const int64_t slop = slop_;
    uint32_t freq = 0;
    for (uint32_t r0 : pos_[0]) {
      // windows [lo, lo + slop] that hold r0
      bool found = false;
      for (int64_t lo = static_cast<int64_t>(r0) - slop; lo <= r0 && !found; ++lo) {
        bool all = true;
        for (size_t i = 1; i < slots_.size() && all; ++i) {
          auto it = std::lower_bound(pos_[i].begin(), pos_[i].end(), static_cast<uint32_t>(std::max<int64_t>(lo, 0)));
          all = it != pos_[i].end() && static_cast<int64_t>(*it) <= lo + slop;
        }
        found = all;
      }
      freq += found;
    }
    return freq;
  }

  // Exact phrase: the start positions are the intersection over the slots of
  // {position - slot offset}. The rarest slot is decoded first and the common ones only while
  // candidates remain.
  uint32_t exact_phrase_freq(uint32_t d) {
    by_freq_.clear();
    for (size_t i = 0; i < slots_.size(); ++i) by_freq_.emplace_back(src(i).freq(d), i);
    if (by_freq_.size() == 2) {
      if (by_freq_[1] < by_freq_[0]) std::swap(by_freq_[0], by_freq_[1]);
    } else {
      std::sort(by_freq_.begin(), by_freq_.end());
    }
    const uint32_t base = slots_[0].offset;
    {
      const size_t i = by_freq_[0].second;
      uint32_t* c = cand_.reserve(by_freq_[0].first);
      const uint32_t n = src(i).positions(d, c, tmp_);
      const uint32_t off = slots_[i].offset - base;
      uint32_t w = 0;
      for (uint32_t k = 0; k < n; ++k) {
        const uint32_t p = c[k];
        if (p < off) continue;
        const uint32_t v = p - off;
        if (w == 0 || c[w - 1] != v) c[w++] = v;  // sorted input: drop duplicates
      }
      cand_.n = w;
    }
    for (size_t k = 1; k < by_freq_.size() && cand_.n > 0; ++k) {
      // Keep the candidates c with c + off among the slot's positions: gallop through them
      // (they are sorted and usually far more numerous than the candidates).
      const size_t i = by_freq_[k].second;
      const uint32_t* raw = raw_.reserve(by_freq_[k].first);
      const size_t n = src(i).positions(d, raw_.v.data(), tmp_);
      const uint64_t off = slots_[i].offset - base;
      uint32_t* cand = cand_.v.data();
      const uint32_t nc = cand_.n;
      uint32_t w = 0;
      size_t j = 0;
      for (uint32_t a = 0; a < nc && j < n; ++a) {
        const uint64_t target = cand[a] + off;
        if (raw[j] < target) {
          size_t lo = j, step = 1, hi = j + 1;  // raw[lo] < target
          while (hi < n && raw[hi] < target) {
            lo = hi;
            step <<= 1;
            hi = lo + step;
          }
          if (hi > n) hi = n;
          while (hi - lo > 1) {  // raw[lo] < target, and raw[hi] >= target or hi == n
            const size_t mid = lo + (hi - lo) / 2;
            if (raw[mid] < target) {
              lo = mid;
            } else {
              hi = mid;
            }
          }
          j = hi;
        }
        if (j < n && raw[j] == target) cand[w++] = cand[a];
      }
      cand_.n = w;
    }
    return cand_.n;
  }

  std::vector<Slot> slots_;
  uint32_t slop_;
  Bm25 bm25_;
  std::vector<size_t> order_;
  std::vector<std::vector<uint32_t>> pos_;
  std::vector<uint32_t> tmp_;
  PosBuf cand_, raw_;
  std::vector<std::pair<uint32_t, size_t>> by_freq_;
  uint32_t freq_ = 0;
  uint32_t checked_ = kTerminated;
  uint32_t doc_ = kTerminated;
};

// An exact phrase (slop 0, no prefix slot): one cursor per distinct term, the documents that
// hold every term found by leapfrogging them (rarest first), then confirmed on positions.
// matches() only asks whether the phrase occurs (it stops at the first occurrence); score()
// counts the occurrences, and matches_scored() does both in one pass.
class ExactPhraseScorer final : public Scorer {
 public:
  struct SlotRef {
    uint32_t term;  // index in the terms
    uint32_t off;   // offset of the slot minus that of slot 0 (mod 2^32)
  };
  ExactPhraseScorer(std::vector<SegmentPostings> terms, std::vector<SlotRef> slots, Bm25 bm25)
      : slots_(std::move(slots)), bm25_(bm25) {
    // Leapfrog order: rarest term first; slots refer to terms by their new index.
    std::vector<uint32_t> order(terms.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](uint32_t a, uint32_t b) { return terms[a].doc_freq() < terms[b].doc_freq(); });
    std::vector<uint32_t> where(terms.size());
    terms_.reserve(terms.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
      terms_.push_back(std::move(terms[order[i]]));
      where[order[i]] = i;
    }
    for (auto& s : slots_) s.term = where[s.term];
    by_tf_.resize(slots_.size());
    doc_ = align(terms_[0].doc());
  }
  uint32_t doc() const override { return doc_; }
  uint32_t advance() override {
    if (doc_ == kTerminated) return doc_;
    return doc_ = align(terms_[0].advance());
  }
  uint32_t seek(uint32_t t) override {
    if (doc_ == kTerminated || t <= doc_) return doc_;
    return doc_ = align(terms_[0].seek(t));
  }
  bool exact() const override { return false; }
  bool matches() override {
    if (checked_ != doc_) {
      checked_ = doc_;
      counted_ = false;
      found_ = verify(true) > 0;
    }
    return found_;
  }
  float score() override {
    if (!counted_) {
      freq_ = verify(false);
      counted_ = true;
    }
    return bm25_.score(doc_, freq_);
  }
  bool matches_scored(float& score) override {
    if (checked_ != doc_ || !counted_) {
      checked_ = doc_;
      freq_ = verify(false);
      found_ = freq_ > 0;
      counted_ = true;
    }
    if (!found_) return false;
    score = bm25_.score(doc_, freq_);
    return true;
  }
  bool bounded() const override { return true; }
  // The phrase occurs at most min(tf) times over its terms.
  float max_score() override {
    uint32_t m = UINT32_MAX;
    for (const auto& t : terms_) m = std::min(m, t.term_freq());
    return bm25_.score(doc_, m);
  }
  uint64_t cost() const override { return terms_[0].doc_freq(); }

 private:
  uint32_t align(uint32_t d) {
    const size_t n = terms_.size();
    while (d != kTerminated) {
      uint32_t di = d;
      size_t i = 1;
      for (; i < n; ++i) {
        SegmentPostings& p = terms_[i];
        di = p.doc() < d ? p.seek(d) : p.doc();
        if (di != d) break;
      }
      if (i == n) return d;
      if (di == kTerminated) return kTerminated;
      d = terms_[0].seek(di);
    }
    return kTerminated;
  }

  // Occurrences of the phrase at doc_ (with `any`: 1 as soon as one is found). Candidates are
  // the start positions the slot of fewest positions allows; the other slots, by increasing
  // number of positions, keep those c with c + off among their positions.
  uint32_t verify(bool any) {
    const size_t ns = slots_.size();
    // Slots by increasing tf (ties: slot order), an insertion sort: phrases are short.
    for (size_t i = 0; i < ns; ++i) {
      const std::pair<uint32_t, uint32_t> x(terms_[slots_[i].term].term_freq(), static_cast<uint32_t>(i));
      size_t j = i;
      for (; j > 0 && x < by_tf_[j - 1]; --j) by_tf_[j] = by_tf_[j - 1];
      by_tf_[j] = x;
    }
    {
      const SlotRef& s = slots_[by_tf_[0].second];
      const SegmentPostings& p = terms_[s.term];
      uint32_t* c = cand_.reserve(by_tf_[0].first);
      const uint32_t n = p.positions(c);
      const uint32_t off = s.off;
      uint32_t w = 0;
      for (uint32_t k = 0; k < n; ++k) {  // in place: w <= k
        if (c[k] < off) continue;
        const uint32_t v = c[k] - off;
        if (w == 0 || c[w - 1] != v) c[w++] = v;  // sorted input: drop duplicates
      }
      cand_.n = w;
    }
    for (size_t k = 1; k < ns && cand_.n > 0; ++k) {
      const SlotRef& s = slots_[by_tf_[k].second];
      const bool last = k + 1 == ns;
      cand_.n = terms_[s.term].filter_positions(cand_.v.data(), cand_.n, s.off, any && last);
    }
    return cand_.n;
  }

  std::vector<SegmentPostings> terms_;  // rarest first
  std::vector<SlotRef> slots_;
  Bm25 bm25_;
  PosBuf cand_;
  std::vector<std::pair<uint32_t, uint32_t>> by_tf_;  // (tf, slot)
  uint32_t freq_ = 0;
  bool found_ = false, counted_ = false;
  uint32_t checked_ = kTerminated;
  uint32_t doc_ = kTerminated;
};

std::optional<TermBound> field_bound(uint16_t field, const std::optional<TermBound>& b) {
  if (!b) return std::nullopt;
  return TermBound{term_key(field, b->key), b->inclusive};
}

// The smallest key above every key that starts with field id + `prefix`.
std::string prefix_end(uint16_t field, const std::string& prefix) {
  std::string k = term_key(field, prefix);
  while (!k.empty() && static_cast<uint8_t>(k.back()) == 0xFF) k.pop_back();
  if (!k.empty()) k.back() = static_cast<char>(static_cast<uint8_t>(k.back()) + 1);
  return k;
}

void add_postings(const SegmentReader& seg, IndexRecordOption option, std::span<const uint8_t> value,
                  std::vector<uint64_t>& bits) {
  ByteReader r(value, "term dictionary value");
  TermInfo ti = TermInfo::decode(r);
  auto p = seg.postings(ti, option);
  for (uint32_t d = p.doc(); d != kTerminated; d = p.advance()) {
    if (d >= seg.max_doc()) throw_corrupt(seg.meta().id, "posting past max_doc");
    bits[d >> 6] |= 1ULL << (d & 63);
  }
}

}  // namespace

std::vector<uint64_t> multi_term_docs(const Query& q, const SegmentReader& seg) {
  std::vector<uint64_t> bits((seg.max_doc() + 63) / 64, 0);
  if (q.multi == Query::Multi::kUnion) {
    for (const auto& [occur, sub] : q.clauses) {
      if (sub->kind != Query::Kind::kMultiTerm) throw_error(ErrorCode::kInternal, "a union of a query that is not multi-term");
      auto more = multi_term_docs(*sub, seg);
      for (size_t i = 0; i < bits.size(); ++i) bits[i] |= more[i];
    }
    return bits;
  }
  const TermDict& dict = seg.terms();
  const std::string field_prefix = term_key(q.field, q.prefix);
  // The postings layout depends on the field's record option.
  const IndexRecordOption option = seg.schema().field(q.field).options.record;
  auto drain = [&](TermStream s) {
    while (s.next()) add_postings(seg, option, s.value(), bits);
  };
  switch (q.multi) {
    case Query::Multi::kPrefix:
      drain(dict.prefix(field_prefix + q.term));
      break;
    case Query::Multi::kWildcard:
      drain(dict.search(make_wildcard_automaton(q.term), field_prefix));
      break;
    case Query::Multi::kRegex:
      drain(dict.search(make_regex_automaton(q.term), field_prefix));
      break;
    case Query::Multi::kFuzzy:
      drain(dict.search(make_levenshtein_automaton(q.term, q.distance, q.transpositions, q.fuzzy_prefix), field_prefix));
      break;
    case Query::Multi::kRange: {
      std::optional<TermBound> lo = field_bound(q.field, q.lower);
      if (!lo) lo = TermBound{field_prefix, true};
      std::optional<TermBound> hi = field_bound(q.field, q.upper);
      if (!hi) hi = TermBound{prefix_end(q.field, q.prefix), false};
      if (hi->key.empty()) hi.reset();  // the last field id with an all-0xFF prefix: no end
      drain(dict.range(lo, hi));
      break;
    }
    case Query::Multi::kSet: {
      std::vector<uint8_t> value;
      for (const auto& t : q.set) {
        if (dict.get(term_key(q.field, t), value)) add_postings(seg, option, value, bits);
      }
      break;
    }
    case Query::Multi::kUnion:
      break;
  }
  return bits;
}

ScorerPtr build_scorer(const Query& q, const SegmentReader& seg, const Stats& stats, float boost) {
  using K = Query::Kind;
  switch (q.kind) {
    case K::kEmpty:
      return std::make_unique<EmptyScorer>();
    case K::kAll:
      return std::make_unique<AllScorer>(seg.max_doc(), boost);
    case K::kBoost:
      return build_scorer(*q.inner, seg, stats, boost * q.boost);
    case K::kExists: {
      auto ti = seg.term_info(exists_key(q.field));
      if (!ti) return std::make_unique<EmptyScorer>();
      return std::make_unique<ConstPostingsScorer>(seg.postings(*ti, IndexRecordOption::kBasic), boost);
    }
    case K::kTerm: {
      std::string key = term_key(q.field, q.term);
      auto ti = stats.term_info(seg, key);
      if (!ti) return std::make_unique<EmptyScorer>();
      const auto& f = seg.schema().field(q.field);
      return std::make_unique<TermScorer>(seg.postings(*ti, f.options.record),
                                          Bm25(stats.idf(key), boost, q.field, seg, stats));
    }
    case K::kMultiTerm:
      return std::make_unique<BitSetScorer>(multi_term_docs(q, seg), seg.max_doc(), boost);
    case K::kPhrase: {
      const auto& f = seg.schema().field(q.field);
      if (f.options.record != IndexRecordOption::kPosition) {
        throw_error(ErrorCode::kQuery, "field '" + f.name + "' has no positions for a phrase query");
      }
      if (q.slop == 0 && !q.phrase_prefix) {
        std::vector<SegmentPostings> terms;
        terms.reserve(q.phrase.size());
        std::vector<ExactPhraseScorer::SlotRef> refs;
        std::vector<const std::string*> seen;
        float idf = 0;
        for (size_t i = 0; i < q.phrase.size(); ++i) {
          const std::string& word = q.phrase[i].second;
          std::string key = term_key(q.field, word);
          idf += stats.idf(key);
          uint32_t t = 0;
          while (t < seen.size() && *seen[t] != word) ++t;
          if (t == seen.size()) {
            auto ti = stats.term_info(seg, key);
            if (!ti) return std::make_unique<EmptyScorer>();
            terms.push_back(seg.postings(*ti, IndexRecordOption::kPosition));
            seen.push_back(&word);
          }
          refs.push_back({t, q.phrase[i].first - q.phrase[0].first});
        }
        return std::make_unique<ExactPhraseScorer>(std::move(terms), std::move(refs),
                                                   Bm25(idf, boost, q.field, seg, stats));
      }
      std::vector<Slot> slots;
      float idf = 0;
      for (size_t i = 0; i < q.phrase.size(); ++i) {
        Slot slot;
        slot.offset = q.phrase[i].first;
        bool prefix = q.phrase_prefix && i + 1 == q.phrase.size();
        if (prefix) {
          TermStream s = seg.terms().prefix(term_key(q.field, q.phrase[i].second));
          while (s.next()) {
            ByteReader r(s.value(), "term dictionary value");
            slot.postings.push_back(seg.postings(TermInfo::decode(r), IndexRecordOption::kPosition));
          }
        } else {
          std::string key = term_key(q.field, q.phrase[i].second);
          idf += stats.idf(key);
          for (size_t j = 0; j < i; ++j) {
            if (q.phrase[j].second == q.phrase[i].second) {  // j < i: not the prefix slot
              slot.alias = slots[j].alias >= 0 ? slots[j].alias : static_cast<int>(j);
              break;
            }
          }
          if (slot.alias < 0) {
            auto ti = stats.term_info(seg, key);
            if (ti) slot.postings.push_back(seg.postings(*ti, IndexRecordOption::kPosition));
          }
        }
        if (slot.postings.empty() && slot.alias < 0) return std::make_unique<EmptyScorer>();
        slots.push_back(std::move(slot));
      }
      return std::make_unique<PhraseScorer>(std::move(slots), q.slop, Bm25(idf, boost, q.field, seg, stats));
    }
    case K::kBoolean: {
      std::vector<ScorerPtr> must, should, must_not;
      for (const auto& [occur, sub] : q.clauses) {
        ScorerPtr s = build_scorer(*sub, seg, stats, boost);
        if (occur == Occur::kMust) must.push_back(std::move(s));
        else if (occur == Occur::kShould) should.push_back(std::move(s));
        else must_not.push_back(std::move(s));
      }
      if (must.empty() && should.empty()) {
        if (must_not.empty()) return std::make_unique<EmptyScorer>();
        must.push_back(std::make_unique<AllScorer>(seg.max_doc(), boost));
      }
      ScorerPtr base;
      if (!must.empty()) {
        base = must.size() == 1 ? std::move(must[0]) : std::make_unique<ConjunctionScorer>(std::move(must));
        if (!should.empty()) {
          ScorerPtr opt = should.size() == 1 ? std::move(should[0]) : std::make_unique<DisjunctionScorer>(std::move(should));
          base = std::make_unique<ReqOptScorer>(std::move(base), std::move(opt));
        }
      } else {
        base = should.size() == 1 ? std::move(should[0]) : std::make_unique<DisjunctionScorer>(std::move(should));
      }
      if (!must_not.empty()) {
        ScorerPtr ex = must_not.size() == 1 ? std::move(must_not[0]) : std::make_unique<DisjunctionScorer>(std::move(must_not));
        bool ex_exact = ex->exact();
        base = std::make_unique<ExclusionScorer>(std::move(base), std::move(ex), ex_exact);
      }
      return base;
    }
  }
  return std::make_unique<EmptyScorer>();
}

}  // namespace needle::search
