// Doc-at-a-time scorers over one segment. A scorer is positioned on its first document when
// built; doc() is kTerminated once exhausted. Private to the search module.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <span>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "needle/codec/postings.h"
#include "needle/index/segment.h"
#include "needle/search/query.h"
#include "needle/search/searcher.h"

namespace needle::search {

// Two-phase iteration: doc()/advance()/seek() may walk an approximation (a superset of the
// matches, e.g. the documents holding every term of a phrase); matches() confirms the current
// document. Callers call matches() before score() and before counting a document.
class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual bool matches() { return true; }
  // True when every document the iteration stops on matches (no confirmation needed).
  virtual bool exact() const { return true; }
  virtual uint32_t doc() const = 0;
  virtual uint32_t advance() = 0;
  // First doc >= target; target may be <= doc(), in which case doc() is returned.
  virtual uint32_t seek(uint32_t target) = 0;
  virtual float score() = 0;
  // matches(), then score() when it matches: for scorers that can do both at once.
  virtual bool matches_scored(float& score) {
    if (!matches()) return false;
    score = this->score();
    return true;
  }
  // Scorers that bound their score per document (max_score) and match and score in one pass
  // (matches_scored) say so; collectors call those two only then.
  virtual bool bounded() const { return false; }
  // An upper bound of score() at the current document, valid before matches() (+inf: none).
  virtual float max_score() { return std::numeric_limits<float>::infinity(); }
  virtual uint64_t cost() const = 0;
};

using ScorerPtr = std::unique_ptr<Scorer>;

// The per-field parts of BM25 that depend only on the segments: the average field length and
// K(norm id) = k1 * (1 - b + b * length / average) for every norm id. A Searcher computes them
// once (not per query).
struct Bm25Tables {
  Bm25Tables(const std::vector<std::shared_ptr<SegmentReader>>& segments, const Schema& schema, Bm25Params params);
  uint64_t total_docs = 0;
  std::vector<float> avg_norm;                // per field
  std::vector<std::array<float, 256>> k;      // per field
};

// Collection-wide statistics for BM25 (all segments of the searcher).
class Stats {
 public:
  // `tables` (from the same segments, schema and params) must outlive the Stats; computed here
  // when null.
  Stats(const std::vector<std::shared_ptr<SegmentReader>>& segments, const Schema& schema, Bm25Params params,
        const Bm25Tables* tables = nullptr);
  Stats(const Stats&) = delete;  // tables_ may point into the object
  Stats& operator=(const Stats&) = delete;
  uint64_t doc_freq(const std::string& key) const;
  float idf(const std::string& key) const;
  // seg.term_info(key), looked up once per query and segment (doc_freq needs it too).
  std::optional<TermInfo> term_info(const SegmentReader& seg, const std::string& key) const;
  float avg_norm(uint16_t field) const { return tables_->avg_norm[field]; }
  const Bm25Params& params() const { return params_; }
  // K(norm id) of BM25 for the field (Bm25::cache points into it).
  const std::array<float, 256>& k_table(uint16_t field) const { return tables_->k[field]; }

 private:
  const std::vector<std::shared_ptr<SegmentReader>>& segments_;
  Bm25Params params_;
  std::optional<Bm25Tables> own_tables_;
  const Bm25Tables* tables_;
  // Per-query caches, searched linearly: a query has few terms, and a map node per entry cost
  // more than the search.
  struct DfEntry {
    std::string key;
    uint64_t df;
  };
  struct TiEntry {
    const SegmentReader* seg;
    std::string key;
    std::optional<TermInfo> ti;
  };
  mutable std::vector<DfEntry> df_;
  mutable std::vector<TiEntry> ti_;
};

// BM25 of one term (or phrase) on one field: weight x tf / (tf + K(norm)).
struct Bm25 {
  float weight = 0;
  float k_no_norm = 0;
  const float* cache = nullptr;  // K by norm id (Stats::k_table), when the field has norms
  const uint8_t* norms = nullptr;
  Bm25(float idf, float boost, uint16_t field, const SegmentReader& seg, const Stats& stats);
  float score(uint32_t doc, uint32_t tf) const {
    float k = norms ? cache[norms[doc]] : k_no_norm;
    float t = static_cast<float>(tf);
    return weight * t / (t + k);
  }
};

ScorerPtr build_scorer(const Query& q, const SegmentReader& seg, const Stats& stats, float boost);

// Upper bound of Bm25::score over a block with these impacts (SegmentPostings::block_impacts):
// every doc has a tf <= and a norm id >= those of some impact, and the score rises with tf and
// falls with the norm. 0 for no impacts (past the end).
inline float block_upper_bound(const Bm25& bm, std::span<const Impact> impacts) {
  float best = 0;
  for (const Impact& i : impacts) {
    float k = bm.norms ? bm.cache[i.norm] : bm.k_no_norm;
    float t = static_cast<float>(i.tf);
    best = std::max(best, bm.weight * t / (t + k));
  }
  return best;
}

// All documents of the segment that a multi-term query matches, as a bitset.
std::vector<uint64_t> multi_term_docs(const Query& q, const SegmentReader& seg);

}  // namespace needle::search
