// Runs queries over the segments of an index or split. BM25 statistics are computed over all
// segments (docs/scoring.md). Thread-safe for concurrent searches.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "needle/index/index.h"
#include "needle/index/segment.h"
#include "needle/search/query.h"

namespace needle {

class Split;
namespace search {
struct Bm25Tables;
}

struct Bm25Params {
  float k1 = 1.2f;
  float b = 0.75f;
};

struct Hit {
  float score = 0;
  uint32_t segment = 0;
  uint32_t doc = 0;          // within the segment
  uint64_t global_doc = 0;   // segment base + doc: the document's address in this index
};

struct SearchResult {
  std::vector<Hit> hits;  // best first; ties by global_doc ascending
  uint64_t count = 0;     // set when asked for
};

class Searcher {
 public:
  Searcher(std::vector<std::shared_ptr<SegmentReader>> segments, Schema schema,
           std::shared_ptr<const AnalyzerRegistry> analyzers, Bm25Params params = {});
  static Searcher for_split(std::shared_ptr<Split> split, Bm25Params params = {});

  const Schema& schema() const { return schema_; }
  const AnalyzerRegistry& analyzers() const { return *analyzers_; }
  uint64_t num_docs() const;  // alive
  QueryPtr parse(std::string_view query, const QueryOptions& options = {}) const;

  std::vector<Hit> top_k(const Query& q, size_t k) const;
  uint64_t count(const Query& q) const;
  SearchResult top_k_with_count(const Query& q, size_t k) const;
  // Every matching document in address order, with its score.
  void for_each(const Query& q, const std::function<void(const Hit&)>& fn) const;
  Document doc(const Hit& hit) const;

 private:
  SearchResult run(const Query& q, size_t k, bool want_count, const std::function<void(const Hit&)>* each) const;
  std::vector<std::shared_ptr<SegmentReader>> segments_;
  std::vector<uint64_t> bases_;
  Schema schema_;
  std::shared_ptr<const AnalyzerRegistry> analyzers_;
  Bm25Params params_;
  std::shared_ptr<const search::Bm25Tables> bm25_tables_;  // for params_, computed once
  std::shared_ptr<const void> keep_alive_;
};

// A delete-by-query matcher for IndexWriter::delete_matching.
DocMatcher make_doc_matcher(QueryPtr query, const Schema& schema);

}  // namespace needle
