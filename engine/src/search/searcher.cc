#include "needle/search/searcher.h"

#include <algorithm>
#include <queue>

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
}  // namespace

SearchResult Searcher::run(const Query& q, size_t k, bool want_count,
                           const std::function<void(const Hit&)>* each) const {
  search::Stats stats(segments_, schema_, params_);
  SearchResult result;
  // min-heap of the best k: the top is the worst kept hit
  std::priority_queue<Hit, std::vector<Hit>, HitOrder> heap;
  for (size_t s = 0; s < segments_.size(); ++s) {
    const SegmentReader& seg = *segments_[s];
    auto scorer = search::build_scorer(q, seg, stats, 1.0f);
    const bool deletes = seg.has_deletes();
    const uint32_t max_doc = seg.max_doc();
    for (uint32_t d = scorer->doc(); d != kTerminated; d = scorer->advance()) {
      // Scores read per-document arrays; a doc id past the segment can only come from damage.
      if (d >= max_doc) throw_corrupt(seg.meta().id, "a posting names document " + std::to_string(d) + " of " + std::to_string(max_doc));
      if (deletes && seg.is_deleted(d)) continue;
      if (!scorer->matches()) continue;
      ++result.count;
      if (k == 0 && each == nullptr) continue;
      Hit h{scorer->score(), static_cast<uint32_t>(s), d, bases_[s] + d};
      if (each) (*each)(h);
      if (k == 0) continue;
      if (heap.size() < k) {
        heap.push(h);
      } else if (HitOrder()(h, heap.top())) {
        heap.pop();
        heap.push(h);
      }
    }
  }
  result.hits.reserve(heap.size());
  while (!heap.empty()) {
    result.hits.push_back(heap.top());
    heap.pop();
  }
  std::reverse(result.hits.begin(), result.hits.end());
  if (!want_count) result.count = 0;
  return result;
}

std::vector<Hit> Searcher::top_k(const Query& q, size_t k) const { return run(q, k, false, nullptr).hits; }

uint64_t Searcher::count(const Query& q) const { return run(q, 0, true, nullptr).count; }

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
