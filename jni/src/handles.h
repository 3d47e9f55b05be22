// The native objects behind the Java handles (a jlong holding a pointer to one of these). Each is
// created by one entry point and deleted by the matching free(); the Java side guarantees that
// free() runs once and never concurrently with another call on the same handle.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arrow_export.h"
#include "needle/index/index.h"
#include "needle/schema/document.h"
#include "needle/search/query.h"
#include "needle/search/searcher.h"
#include "needle/split/split.h"
#include "needle/store/directory.h"

namespace needle::jni {

// io.needle.IndexWriter (calls are serialised by the Java object).
struct WriterHandle {
  std::string path;
  std::shared_ptr<Directory> dir;
  std::unique_ptr<IndexWriter> writer;
  Schema schema;                           // a copy of the writer's schema
  std::unique_ptr<DocumentParser> parser;  // parses against `schema`
  bool reject_unknown_columns = false;
};

// io.needle.Split: shared so that searchers keep the split open after Split.close().
using SplitHandle = std::shared_ptr<Split>;

struct SearcherState {
  std::shared_ptr<Split> split;
  Searcher searcher;
  std::string schema_json;  // canonical: queries must come from a searcher with this schema
  std::vector<uint64_t> segment_bases;

  SearcherState(std::shared_ptr<Split> s, Bm25Params params)
      : split(s), searcher(Searcher::for_split(s, params)), schema_json(s->schema().to_json()) {
    uint64_t base = 0;
    for (const auto& seg : s->segments()) {
      segment_bases.push_back(base);
      base += seg->max_doc();
    }
  }
};

// io.needle.Searcher (thread-safe): shared with the Arrow cursors it opened.
using SearcherHandle = std::shared_ptr<const SearcherState>;

// io.needle.Query: an executable query and the schema it was resolved against.
struct QueryHandle {
  QueryPtr query;
  std::string schema_json;
};

// io.needle.ArrowSearchResult: hits of one search, handed out as record batches.
struct ArrowCursorHandle {
  std::shared_ptr<const SearcherState> searcher;
  std::vector<ExportColumn> columns;
  std::vector<Hit> hits;
  size_t next = 0;
  size_t batch_size = 0;
  bool needs_documents = false;
};

}  // namespace needle::jni
